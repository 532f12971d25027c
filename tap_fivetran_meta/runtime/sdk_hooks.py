"""Every override of a private singer-sdk hook, in one place (verified with singer-sdk 0.54.9).

The SDK's public API does not let a tap change how often it writes SCHEMA and STATE, how
a record is encoded, how state partitions are found, or what a signal does; these do, by
overriding private methods. They are the first thing an SDK upgrade can break, so they
live here, each with the reason it exists, and ``tests/test_sdk_hooks.py`` pins that every
hook still exists with the signature below (it fails on an upgrade that changes one).
Nothing else in the package names a private SDK attribute.

Stream hooks (:class:`MessageHooks`, every stream):

* ``Stream._write_schema_message(self)`` — once per stream and run, not once per parent
  context (a fifth of the CPU at thousands of connections).
* ``Stream._write_record_message(self, record)`` — RECORD lines encoded with msgspec;
  pruning and stream maps skipped when they change nothing, type conformance skipped for
  rows the tap builds with the schema's types (``trusted_rows``).
* ``Stream._write_state_message(self)`` — offered to the tap's STATE throttle (the SDK's
  STATE after every child context is quadratic in the number of connections); the
  SDK's ``state_manager.is_flushed`` shortcut is not used (the throttle decides).
* ``Stream.finalize_state_progress_markers`` (public) — wrapped so that the last
  top-level stream's end writes the run's final STATE whatever the budget.
* ``Stream._tap`` — read once, by :class:`TapAccess` (``stream.services``).
* ``Stream._sync_records(self, context=None, *, write_messages=True)`` — a leaner loop
  for leaf child streams; it calls the private ``_get_state_partition_context``,
  ``_write_starting_replication_value``, ``_check_max_record_limit``,
  ``_increment_stream_state`` and ``_finalize_state`` exactly as the SDK's does. Any
  failure escaping a stream's loop stops the worker threads (the SDK's ``sync_all`` and
  ``sync`` are final); the SDK's own ``SyncLifecycleSignal`` (record limits) does not.

Partition hooks (:class:`IndexedPartitions`, :class:`SelfCommittedPartitions`):

* ``StreamStateManager`` subclassed (:class:`IndexedStateManager`) for O(1) partition
  lookups; built from the stream's private ``_tap_state`` into its ``_state_manager``;
  ``singer_sdk.helpers._state.get_state_partitions_list`` reads the partitions list.
* ``Stream._write_starting_replication_value(self, context)`` — nothing: these streams
  read their bookmark from the partition themselves (the SDK's version crashes on a
  bookmark of the wrong type).
* ``Stream._increment_stream_state(self, latest_record, *, context=None)`` — nothing: the
  history and change streams commit each bookmark right after its record
  (``runtime/partition_state.py``); the SDK would keep progress markers it promotes only
  when the whole tap finished.

Run hooks:

* ``Stream._write_activate_version_message(self, full_table_version)`` — called by
  ``MessageHooks.announce_version`` after a *complete* stream, never at its start.
* ``RESTStream._request(self, prepared_request, context)`` — sent through the stream's
  budget and retries for requests at explicit paths (:func:`send_prepared`).
* ``Stream._stream_version`` — the run's version stamped on full-table records
  (``MessageHooks.stamp_version``).
* ``singer_sdk.helpers._typing.conform_record_data_types`` — the SDK's conformance,
  applied to API rows on the fast RECORD path.
* ``singer_sdk.helpers._state.StateWriter`` subclassed (:class:`CompactStateWriter`): the
  throttle's budget and a digest of the last STATE instead of a deep copy; its
  ``write_state`` (called by the SDK at the start of ``sync_all``) is an offer like any
  other.

Tap hooks (:class:`TapHooks`):

* ``Tap._validate_config(self, *, raise_errors=True)`` — the semantic checks and the
  environment's values join the schema's, and no error shows a secret's value
  (``TapFivetranMeta.validate_all_config``).
* ``Tap._handle_termination(self, signum, frame)`` — SIGTERM/SIGINT stop the run at once
  and exit 143/130 (``TapFivetranMeta.on_termination_signal``).
* ``Tap._state_writer`` — replaced by a :class:`CompactStateWriter`
  (``TapHooks.use_compact_state_writer``) and written to after a signal
  (``TapHooks.write_state_now``).
* ``PluginBase._env_var_prefix`` — read to check ``TAP_FIVETRAN_META_*`` values before
  the SDK parses them (``TapHooks.env_var_prefix``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from singer_sdk.exceptions import SyncLifecycleSignal
from singer_sdk.helpers._state import StateWriter, get_state_partitions_list
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.singerlib import StateMessage
from singer_sdk.streams._state import StreamStateManager

from tap_fivetran_meta.runtime.message_volume import (
    UNLOGGED,
    StateFlushingWriter,
    StateThrottle,
    TrustedRecord,
    compact_state,
    encode_message,
    extraction_time,
    flush_pending_output,
    metrics_shown,
    writes_rows_unchanged,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    import requests
    from singer_sdk.helpers import types

    from tap_fivetran_meta.runtime.services import TapServices

#: SDK version the hooks were read against; tests/test_sdk_hooks.py checks each one.
VERIFIED_SDK_VERSION = "0.54.9"


# --- streams: messages ---------------------------------------------------------------------


class TapAccess:
    """``services``: the tap running the stream, through the protocol streams may use.

    singer-sdk keeps the tap in the stream's private ``_tap``; this is the one place that
    reads it.
    """

    @property
    def services(self) -> TapServices:
        """The run-wide objects of the tap running this stream (see runtime/services.py)."""
        return self._tap  # type: ignore[attr-defined]  # (per record: no cast call)

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """The SDK's finalisation; at the last top-level stream's end, the final STATE.

        Every stream of the tap has this (not only those with :class:`MessageHooks`):
        whichever stream is synced last writes the run's final STATE.
        """
        with self.services.state_throttle.closing(cast("Any", self).name):
            super().finalize_state_progress_markers(state)  # type: ignore[misc]


class MessageHooks(TapAccess):
    """One SCHEMA per stream and run; STATE writes through the tap's :class:`StateThrottle`.

    RECORDs skip the SDK's pruning and stream maps when nothing in the catalog or the
    stream maps asks for a change, and streams that set ``trusted_rows`` its type
    conformance as well.
    """

    _schema_written = False
    #: The stream builds every row itself, with exactly the schema's columns and types.
    trusted_rows: ClassVar[bool] = False
    _direct_records: bool | None = None

    def _write_schema_message(self) -> None:
        if not self._schema_written:
            self._schema_written = True
            super()._write_schema_message()  # type: ignore[misc]

    def _write_record_message(self, record: dict) -> None:
        stream: Any = self
        tap = stream._tap
        tap.state_throttle.record_written()
        if self._direct_records is None:
            self._direct_records = writes_rows_unchanged(stream)
        if not self._direct_records:
            super()._write_record_message(record)  # type: ignore[misc]
            return
        if not self.trusted_rows:  # API data: the SDK's type conformance, nothing else
            record = conform_record_data_types(
                stream_name=stream.name,
                record=record,
                schema=stream.effective_schema,
                level=stream.TYPE_CONFORMANCE_LEVEL,
                logger=stream.logger,
            )
        # (the SDK's ``state_manager.is_flushed`` is not kept: the STATE throttle decides)
        tap.write_message(
            TrustedRecord(stream.name, record, stream._stream_version, extraction_time())
        )

    def stamp_version(self, version: int) -> None:
        """Stamp this full-table stream's records with ``version`` unless it has one."""
        stream: Any = self
        if stream._stream_version is None:
            stream._stream_version = version

    def announce_version(self, version: int) -> None:
        """Write ACTIVATE_VERSION for ``version`` (the SDK's private writer, at stream end).

        The stream's SCHEMA comes first, also when it wrote no record (a target refuses
        ACTIVATE_VERSION for a stream it has no schema of).
        """
        stream: Any = self
        self._write_schema_message()
        stream._write_activate_version_message(version)

    def _write_state_message(self) -> None:
        stream: Any = self
        writer = stream._tap.state_writer
        if isinstance(writer, CompactStateWriter):
            # The end of the last top-level stream's sync is the run's end (also in the
            # SDK's dry run of --test, which finalises nothing).
            ends_run = stream.context is None and stream.name == writer.throttle.last_stream
            writer.offer(stream.tap_state, final=ends_run)
        else:
            super()._write_state_message()  # type: ignore[misc]

    def _sync_records(
        self, context: Any = None, *, write_messages: bool = True
    ) -> Generator[dict, Any, Any]:
        """The SDK's loop for one context, without what a leaf child never needs.

        A child stream without children of its own runs once per parent context (every
        connection); per record the SDK would look for grandchildren to sync and
        evaluate stream-map filters for them. Here those steps are left out; records,
        state, limits and messages are exactly the SDK's. Any other stream, or a call
        without a context, takes the SDK's own loop. A failure stops the tap's worker
        threads before it propagates.
        """
        stream: Any = self
        try:
            if context is None or stream.child_streams:
                yield from super()._sync_records(context, write_messages=write_messages)  # type: ignore[misc]
            else:
                yield from self._sync_leaf_records(context, write_messages=write_messages)
        except SyncLifecycleSignal:
            raise  # the SDK's own "end this stream" (record limits): the run goes on
        except Exception:
            self.services.stop_workers()  # the run fails: workers must not go on
            raise

    def _sync_leaf_records(
        self, context: Any, *, write_messages: bool
    ) -> Generator[dict, Any, Any]:
        stream: Any = self
        counter, timer = stream.get_record_counter(), stream.get_sync_timer()
        with counter, timer:
            counter.with_context(context)
            timer.with_context(context)
            partition_context = stream._get_state_partition_context(context)
            stream._write_starting_replication_value(context)
            partition_items = tuple((partition_context or {}).items())
            selected = stream.selected
            index = 0
            for raw in stream.get_records(context):
                stream._check_max_record_limit(current_record_index=index)
                record = stream.post_process(raw, context)
                if record is None:
                    continue
                for key, value in partition_items:
                    record.setdefault(key, value)
                if selected:
                    if write_messages:
                        stream._write_record_message(record)
                    stream._increment_stream_state(record, context=context)
                    if (index + 1) % stream.STATE_MSG_FREQUENCY == 0 and write_messages:
                        stream._write_state_message()
                    counter.increment()
                    yield record
                index += 1
            if context == partition_context:
                stream._finalize_state(stream.get_context_state(context))
        if write_messages:
            stream._write_state_message()

    def _metrics_shown(self) -> bool:
        """Whether this sync's METRIC lines are shown (one connection's: only at DEBUG)."""
        return metrics_shown(per_context=cast("Any", self).context is not None)

    def get_record_counter(self, **kwargs: Any) -> Any:
        """The SDK's record counter, or a stand-in while its METRIC lines are not shown."""
        if self._metrics_shown():
            return super().get_record_counter(**kwargs)  # type: ignore[misc]
        return UNLOGGED

    def get_sync_timer(self) -> Any:
        """The SDK's sync timer, or a stand-in while its METRIC lines are not shown."""
        if self._metrics_shown():
            return super().get_sync_timer()  # type: ignore[misc]
        return UNLOGGED


# --- streams: state partitions --------------------------------------------------------------

_Key = tuple[tuple[str, Any], ...]


def _key(context: types.Context) -> _Key:
    return tuple(sorted(context.items()))


class IndexedStateManager(StreamStateManager):
    """A stream state manager whose partition lookups use an index."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index: dict[_Key, dict] = {}
        self._indexed_list: list[dict] | None = None

    def _partitions_index(self) -> dict[_Key, dict]:
        partitions = get_state_partitions_list(self.tap_state, self.stream_name)
        if partitions is not self._indexed_list:  # first use, or the SDK replaced the list
            self._indexed_list = partitions
            self._index = {_key(p["context"]): p for p in partitions or () if "context" in p}
        return self._index

    def get_context_state(self, context: types.Context | None) -> dict:
        """The writable partition for ``context`` (created when missing, as the SDK does)."""
        partition_context = self.get_state_partition_context(context)
        if not partition_context:
            return super().get_context_state(context)
        key = _key(partition_context)
        found = self._partitions_index().get(key)
        if found is not None:
            return found
        partitions: list[dict] = self.stream_state.setdefault("partitions", [])
        created: dict = {"context": dict(partition_context)}
        partitions.append(created)
        if partitions is self._indexed_list:
            self._index[key] = created
        return created

    def peek_context_state(self, context: types.Context) -> dict | None:
        """The partition for ``context`` if it exists; never creates one."""
        partition_context = self.get_state_partition_context(context)
        if not partition_context:
            return None
        return self._partitions_index().get(_key(partition_context))


class IndexedPartitions:
    """Give a partitioned stream an :class:`IndexedStateManager`.

    The streams using it commit their bookmarks themselves (partition_state.py), so the
    SDK's per-context signpost and starting value, which they would only clear again,
    are not written either.
    """

    _state_manager: StreamStateManager | None

    def get_replication_key_signpost(self, context: types.Context | None = None) -> None:
        """No signpost: bookmarks are committed by the stream, never promoted by the SDK."""
        return

    def _write_starting_replication_value(self, context: types.Context | None) -> None:
        """Nothing: the stream reads its bookmark from the partition itself."""

    @property
    def state_manager(self) -> StreamStateManager:
        """The stream's state manager (indexed)."""
        if self._state_manager is None:
            stream: Any = self
            self._state_manager = IndexedStateManager(
                tap_name=stream.tap_name,
                stream_name=stream.name,
                tap_state=stream._tap_state,
                state_partitioning_keys=stream.state_partitioning_keys,
                is_sorted=stream.is_sorted,
                check_sorted=stream.check_sorted,
            )
        return self._state_manager


class SelfCommittedPartitions(IndexedPartitions):
    """Indexed partitions whose bookmarks the stream commits itself, after each record.

    The history and change streams write each bookmark right after the record it
    covers (``runtime/partition_state.py``), so a STATE written at any moment, even by a
    signal handler, is never ahead of the records.
    """

    def _increment_stream_state(
        self, latest_record: types.Record, *, context: types.Context | None = None
    ) -> None:
        """Nothing: the stream commits the bookmark itself (see the class docstring).

        The SDK would keep non-resumable progress markers and promote them only when the
        whole tap finished (logging a warning for every connection).
        """


# --- run hooks -------------------------------------------------------------------------


def send_prepared(stream: Any) -> Callable[..., requests.Response]:
    """The stream's private sender of a prepared request (``RESTStream._request``)."""
    return stream._request


class CompactStateWriter(StateWriter):
    """Writes the STATE messages the tap's :class:`StateThrottle` admits, never a repeat.

    The SDK keeps a full deep copy of the last STATE it wrote to compare with the next one;
    with one bookmark per connection that copy doubles the state's memory for the whole
    run. Here a digest is kept, and the state is encoded only once the throttle's cheap
    tests pass (see message_volume.py, "STATE").
    """

    def __init__(self, message_writer: Any, throttle: StateThrottle | None = None) -> None:
        super().__init__(message_writer)
        self.throttle = throttle or StateThrottle(every_records=0)

    def _output_bytes(self) -> int | None:
        count = getattr(self._message_writer, "bytes_written", None)
        return count if isinstance(count, int) else None

    def write_state(self, state: Any) -> None:
        """Offer a STATE (the SDK's entry point): written if the throttle admits it."""
        self.offer(state)

    def offer(self, state: Any, *, final: bool = False) -> None:
        """Write the STATE if it is due; at the run's end, if it changed.

        At the run's end every line still collected goes out too, STATE or not.
        """
        if final or self.throttle.final:
            self.write_now(state)
            flush_pending_output()
            return
        output = self._output_bytes()
        if self.throttle.worth_encoding(output):
            self._write(state, output, force=False)

    def write_now(self, state: Any) -> None:
        """Write the STATE unless it repeats the last one (run end, signal, failure)."""
        self._write(state, self._output_bytes(), force=True)

    def _write(self, state: Any, output: int | None, *, force: bool) -> None:
        compact = compact_state(state)
        value = encode_message(compact)
        if not self.throttle.admit(value, output, force=force):
            return
        writer = self._message_writer
        if isinstance(writer, StateFlushingWriter):
            writer.write_encoded_state(value)
        else:
            writer.write_message(StateMessage(value=compact))
        self.throttle.wrote(self._output_bytes())


# --- the tap ---------------------------------------------------------------------------------


class TapHooks:
    """The Tap's private hooks, each handed to a public method of the tap."""

    def _handle_termination(self, signum: int, frame: Any) -> None:
        tap: Any = self
        tap.on_termination_signal(signum, frame)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        tap: Any = self

        def sdk_validation() -> list[str]:
            return super(TapHooks, tap)._validate_config(raise_errors=raise_errors)  # type: ignore[misc]

        return tap.validate_all_config(sdk_validation, raise_errors=raise_errors)

    def use_compact_state_writer(self) -> None:
        """Write the tap's STATE through a :class:`CompactStateWriter` (in ``_state_writer``)."""
        tap: Any = self
        tap._state_writer = CompactStateWriter(tap.message_writer, tap.state_throttle)

    def write_state_now(self) -> None:
        """Write the current STATE (unless it equals the last one written)."""
        tap: Any = self
        tap._state_writer.write_now(tap.state)

    @classmethod
    def env_var_prefix(cls) -> str:
        """The prefix of the tap's settings in the environment (``TAP_FIVETRAN_META_``)."""
        return str(cls._env_var_prefix)  # type: ignore[attr-defined]
