"""Durable sync history: ``sync_history`` and ``connection_status_history``.

Both streams are children of ``connections`` (filtered-out connections cost
nothing) and keep one bookmark per connection (``state_partitioning_keys``). The
streams write each connection's bookmark themselves, always *after* the record it
covers (see :mod:`tap_fivetran_meta.runtime.partition_state`): every STATE message, whenever
it is written, covers only records already written, and an interrupted run resumes
every connection from exactly what it wrote. User documentation: docs/history.md.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlparse

from singer_sdk import Stream
from singer_sdk import typing as th

from tap_fivetran_meta.api.errors import FivetranAPIError
from tap_fivetran_meta.api.payload import MalformedBodyError, response_payload
from tap_fivetran_meta.client import INJECTED_KEYS, FivetranStream, error_summary
from tap_fivetran_meta.rules.recheck import history_read_reason
from tap_fivetran_meta.rules.status_history import (
    DELETED_FINGERPRINT,
    deleted_row,
    issue_rows,
    status_row,
)
from tap_fivetran_meta.rules.sync_items import ConnectionRef, parse_sync_item_at, row_digest
from tap_fivetran_meta.rules.timeutil import format_timestamp, parse_timestamp
from tap_fivetran_meta.rules.windows import (
    MAX_WINDOW,
    ReadProgress,
    Window,
    next_bookmark,
    plan_windows,
    read_from,
    recent_digests,
)
from tap_fivetran_meta.runtime.account_scope import AccountScoped
from tap_fivetran_meta.runtime.partition_state import (
    bookmark_timestamp,
    bookmark_value,
    clear_transient,
    commit,
    mark_seen,
)
from tap_fivetran_meta.runtime.sdk_hooks import (
    IndexedStateManager,
    MessageHooks,
    SelfCommittedPartitions,
)
from tap_fivetran_meta.schemas.fragments import CONNECTION_COLUMNS, DT, OPAQUE, key, prop
from tap_fivetran_meta.streams.core import ConnectionsStream, Listing

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Iterator, Mapping
    from datetime import datetime

    import requests
    from singer_sdk.helpers.types import Context


#: Default history for a connection without bookmark: one window (just under 7 days).
DEFAULT_LOOKBACK = MAX_WINDOW
DEFAULT_OVERLAP_MINUTES = 60
DEFAULT_RUNNING_HOLD_DAYS = 7
FINGERPRINT_KEY = "fingerprint"
#: Partition key holding the digests of the rows inside the next run's overlap.
RECENT_KEY = "recent_digests"
#: Partition keys written after a complete read (see recheck.py): when it happened (the
#: run's start), the connection's sync marker then, and whether a sync was running.
READ_AT_KEY = "read_at"
MARKER_KEY = "sync_marker"
RUNNING_KEY = "sync_running"
DEFAULT_RECHECK_HOURS = 24
#: More windows than this for one connection earn a warning (start_date far back).
MANY_WINDOWS = 5
#: Different connections answering 404 in a row, before any success in the run, that
#: mean "this account has no sync-history endpoint" (fewer are vanished connections).
ABSENT_AFTER_404S = 3


def query_time(value: datetime) -> str:
    """Format a window bound for ``start_time``/``end_time``: ``2026-01-01T00:00:00Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_second(value: datetime) -> datetime:
    """Drop the fraction of a second (window bounds are sent with second precision)."""
    return value.replace(microsecond=0)


def _content_digest(row: Mapping[str, Any]) -> str:
    """The digest of a row already written, as the same row was parsed.

    The columns stamped on every row after parsing (``account_id``) are left out.
    """
    return row_digest({k: v for k, v in row.items() if k not in INJECTED_KEYS})


def connection_of(response: requests.Response) -> str:
    """The connection id in a sync-history URL (``/connections/{id}/sync-history``)."""
    parts = urlparse(response.url or "").path.split("/")
    try:
        return unquote(parts[parts.index("connections") + 1])
    except (ValueError, IndexError):
        return "?"


def fivetran_code(response: requests.Response) -> str:
    """The ``code`` of an error body ('' when absent or unreadable)."""
    try:
        body = response_payload(response)
    except MalformedBodyError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


class SyncHistoryStream(SelfCommittedPartitions, FivetranStream):
    """Syncs of each connection (``GET /connections/{id}/sync-history``), incrementally.

    Reads ``[max(start_date, bookmark - overlap), run start]`` in windows of less
    than 7 days, one request per window plus pagination. Rows are de-duplicated by
    ``(connection_id, started_at)`` within a run; across runs the overlap re-reads a
    few rows on purpose and the target's primary-key upsert keeps one of each. A
    connection where nothing can have changed since its last complete read is not
    asked at all (:func:`tap_fivetran_meta.rules.recheck.history_read_reason`).
    """

    name = "sync_history"
    path = "/connections/{connection_id}/sync-history"
    parent_stream_type = ConnectionsStream
    state_partitioning_keys = ("connection_id",)
    primary_keys = ("connection_id", "started_at")
    replication_key = "started_at"
    tolerate_not_found = True
    #: Partitions of connections not seen for ``state_prune_days`` are dropped (tap.py);
    #: this stream's bookmark moves on every read, so it also dates old partitions.
    prunable_partitions = True
    bookmark_dates_partition = True
    trusted_rows = True  # rows built by sync_items.parse_sync_item, typed per column
    schema = th.PropertiesList(
        key("connection_id", "Connection id."),
        th.Property(
            "started_at",
            DT,
            required=True,
            description="When the sync started (UTC): with connection_id the primary key "
            "(Fivetran documents no sync id), and the replication key.",
        ),
        prop("ended_at", DT, "When the sync ended (UTC); null while it runs."),
        prop(
            "status",
            th.StringType,
            "Status as returned: COMPLETED, SUCCESS_WITH_TASK, FAILURE_WITH_TASK, CANCELED, "
            "TRUNCATED, RESCHEDULED; null while running.",
        ),
        prop(
            "outcome",
            th.StringType,
            "succeeded, failed, canceled, rescheduled, running or other (from status; see "
            "docs/history.md).",
        ),
        prop("duration_seconds", th.NumberType, "ended_at - started_at in seconds."),
        prop("extra_fields", OPAQUE, "Item fields besides start, end and status, as returned."),
        *CONNECTION_COLUMNS,
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._endpoint_confirmed = False
        #: Connections that answered 404 since the run started, before any success.
        self._unconfirmed_404s: set[str] = set()
        self._disabled = False
        self._probing = False  # a first request, not yet answered, is in flight
        #: Why connections were read in this run (reason -> count); None: left out.
        self.read_reasons: dict[str | None, int] = {}

    # --- settings (fixed for the run) ------------------------------------------------------

    @cached_property
    def run_end(self) -> datetime:
        """End of the last window: the run's start, to the second."""
        return whole_second(self.services.run_started_at)

    @cached_property
    def start_date(self) -> datetime:
        """``start_date`` from the config, or one window (just under 7 days) before the run."""
        configured = parse_timestamp(self.config.get("start_date"))
        return configured or self.run_end - DEFAULT_LOOKBACK

    @cached_property
    def overlap(self) -> timedelta:
        """How far before the bookmark each run reads again."""
        minutes = self.config.get("sync_history_overlap_minutes", DEFAULT_OVERLAP_MINUTES)
        return timedelta(minutes=int(minutes))

    @cached_property
    def running_hold(self) -> timedelta:
        """How long a running sync may hold a connection's bookmark back."""
        days = self.config.get("sync_history_running_hold_days", DEFAULT_RUNNING_HOLD_DAYS)
        return timedelta(days=int(days))

    @cached_property
    def recheck(self) -> timedelta:
        """Longest time an unchanged connection's history goes without a read (0: always)."""
        hours = self.config.get("sync_history_recheck_hours", DEFAULT_RECHECK_HOURS)
        return timedelta(hours=float(hours))

    def read_reason(
        self, context: Context | dict[str, Any], partition: dict[str, Any]
    ) -> str | None:
        """Why this run reads the connection's history, or None when nothing can be new."""
        return history_read_reason(
            has_bookmark=bookmark_value(partition, self._bookmark_key) is not None,
            read_at=parse_timestamp(partition.get(READ_AT_KEY)),
            stored_marker=partition.get(MARKER_KEY),
            was_running=partition.get(RUNNING_KEY) is True,
            marker=str(context.get("sync_marker") or ""),
            syncing=context.get("syncing") is True,
            now=self.run_end,
            recheck=self.recheck,
            key=str(context["connection_id"]),
        )

    # --- requests -----------------------------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        super().validate_response(response)
        if response.status_code < 400:
            with self._bookkeeping:
                self._endpoint_confirmed = True
                self._unconfirmed_404s.clear()

    @override
    def _handle_client_error(self, response: requests.Response) -> None:
        """Map sync-history errors (rules in docs/history.md, "When Fivetran says no").

        * 404: one connection gone (skipped, counted) — unless, before any success
          in this run, :data:`ABSENT_AFTER_404S` different connections answered 404
          in a row: then the account has no such endpoint and the stream stops.
        * 403: the key may not read sync history: the stream stops (before any
          success), or that connection is skipped (after one).
        * 400: Fivetran rejects the request itself; the run fails with its message.
        """
        status = response.status_code
        if status == 404:
            self._on_not_found(response)
        elif status == 403:
            if self._endpoint_confirmed:
                self._skip_connection(response, logging.WARNING)
            else:
                self._disable(response, "answered HTTP 403 to its first request")
        elif status == 400:
            raise FivetranAPIError(
                f"Fivetran rejected a sync-history request ({error_summary(response)}). The "
                "tap asks for windows of less than 7 days from start_date or the bookmark; "
                "check start_date, and report this with the request id if it persists.",
                status=status,
                code=fivetran_code(response) or None,
            )
        else:
            super()._handle_client_error(response)

    def _on_not_found(self, response: requests.Response) -> None:
        connection_id = connection_of(response)
        with self._bookkeeping:
            if not self._endpoint_confirmed:
                self._unconfirmed_404s.add(connection_id)
            absent = len(self._unconfirmed_404s) >= ABSENT_AFTER_404S
        if absent:
            self._disable(
                response,
                f"answered 404 for {ABSENT_AFTER_404S} different connections in a row "
                "before any success",
            )
        else:
            self._skip_connection(response, logging.INFO)

    def _disable(self, response: requests.Response, evidence: str) -> None:
        """No sync history in this run: the endpoint is absent or forbidden."""
        self._disabled = True
        self._tolerate(response, whole_resource=True, reason="endpoint absent")
        self.warn_once(
            "absent",
            "Stream '%s' is disabled for this run: the sync-history endpoint %s (last: "
            "%s), so this account, plan or key does not offer it. Bookmarks are kept; "
            "connection_status_history still records outcomes.",
            self.name,
            evidence,
            error_summary(response),
        )

    def _skip_connection(self, response: requests.Response, level: int) -> None:
        """One connection's history is not readable: skip it, count it, keep its bookmark."""
        code = fivetran_code(response) or "no code"
        reason = f"HTTP {response.status_code} {code}"
        self._tolerate(response, whole_resource=False, reason=reason)
        self.count_skip(reason)
        self.logger.log(
            level,
            "Skipping the sync history of connection %s in '%s' (%s); its bookmark keeps "
            "the rows already written.",
            connection_of(response),
            self.name,
            error_summary(response),
        )

    # --- records and bookmarks ---------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:
            return
        partition = self.get_context_state(context)
        mark_seen(partition, self.services.run_started_at.date())
        try:
            if not self._disabled:
                reason = self.read_reason(context, partition)
                self.read_reasons[reason] = self.read_reasons.get(reason, 0) + 1
                if reason is not None:
                    yield from self._read_connection(context, partition)
        finally:
            clear_transient(partition)

    def _read_connection(
        self, context: Context, partition: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Read every window of one connection, oldest first; emit new or changed rows.

        The bookmark is committed once, after the connection's last row was written
        (a STATE written meanwhile, even by a SIGTERM handler, holds the previous
        bookmark: behind the rows, never ahead), together with the digests of the
        rows the next run will read again (the overlap; emitted again only if they
        changed) and what the re-check rule needs (:data:`READ_AT_KEY`...).
        """
        connection_id = str(context["connection_id"])
        previous = self._trusted_bookmark(partition, connection_id)
        unchanged = self._recent_digests(partition, connection_id)
        start = self._read_start(previous)
        oldest = format_timestamp(start)
        progress = ReadProgress()
        # Per start: the parsed start, the row, and its digest once computed. A digest is
        # needed to compare with the previous run's overlap (when there is one) and, at
        # the end, for the rows inside the next run's overlap.
        seen: dict[str, tuple[datetime, dict[str, Any], str | None]] = {}
        windows = plan_windows(start, self.run_end)
        self._log_plan(connection_id, windows)
        fetched = self.services.prefetcher.take(
            self._prefetch_key(context, start), lambda: self._fetch_windows(context, windows)
        )
        self._probing = False
        for rows in fetched.windows:
            for started, row in rows:
                started_at = row["started_at"]
                if started_at in seen or started_at < oldest:
                    continue
                if started > self.run_end:
                    self.note_malformed(
                        "sync starting after the run started",
                        f"Fivetran lists a sync of connection {connection_id} starting "
                        f"{row['started_at']}, after this run started; it is emitted, but "
                        "the bookmark stays at the run's start",
                    )
                # Written straight (trusted rows), a row stays as it is: its digest can
                # wait; the SDK's path may prune it in place once written.
                lazy = not unchanged and self._direct_records is True
                digest = None if lazy else row_digest(row)
                seen[started_at] = (started, row, digest)
                progress.observe(started, running=row["ended_at"] is None)
                if digest is None or digest not in unchanged:
                    yield row
        with self.services.deferred_termination():  # the partition's keys change together
            if fetched.stopped_by is not None:
                # Incomplete read: the bookmark covers what was read; the next run reads
                # this connection again whatever its status says.
                self._commit(partition, previous, progress, complete=False)
                for name in (READ_AT_KEY, MARKER_KEY, RUNNING_KEY):
                    partition.pop(name, None)
                return
            bookmark = self._commit(partition, previous, progress, complete=True)
            if bookmark is not None:
                floor = bookmark - self.overlap
                partition[RECENT_KEY] = recent_digests(
                    (
                        (started, digest or _content_digest(row))
                        for started, row, digest in seen.values()
                        if started >= floor
                    ),
                    floor,
                )
            partition[READ_AT_KEY] = query_time(self.run_end)
            partition[MARKER_KEY] = str(context.get("sync_marker") or "")
            if progress.running_starts:
                partition[RUNNING_KEY] = True
            else:
                partition.pop(RUNNING_KEY, None)

    @override
    def log_skips(self) -> None:
        super().log_skips()
        if not self.read_reasons:
            return
        left_out = self.read_reasons.get(None, 0)
        read = ", ".join(
            f"{reason} {count}"
            for reason, count in sorted(self.read_reasons.items(), key=str)
            if reason is not None
        )
        self.logger.info(
            "Stream '%s': read the history of %d connections (%s); left out %d where no sync "
            "can have started or ended since their last read (sync_history_recheck_hours=%s).",
            self.name,
            sum(self.read_reasons.values()) - left_out,
            read or "none",
            left_out,
            self.config.get("sync_history_recheck_hours", DEFAULT_RECHECK_HOURS),
        )

    def _trusted_bookmark(
        self, partition: Mapping[str, Any], connection_id: str, *, report: bool = True
    ) -> datetime | None:
        """The connection's bookmark, or None (read from start_date) when it is unusable.

        A stored value that is not a timestamp, or one after the run's start (which
        would make every later run read nothing), is replaced after this read, with
        a warning (counted when ``report``: once per connection, at its read).
        """
        raw = bookmark_value(partition, self._bookmark_key)
        if raw is None:
            return None
        value = bookmark_timestamp(partition, self._bookmark_key) if isinstance(raw, str) else None
        if not report:
            return None if value is None or value > self.run_end else value
        if value is None:
            self.note_malformed(
                "bookmark that is not a timestamp",
                f"state holds {str(raw)[:40]!r} as the bookmark of connection {connection_id}, "
                "not a timestamp; it is read from start_date and the bookmark replaced",
            )
        elif value > self.run_end:
            self.note_malformed(
                "bookmark after the run's start",
                f"state holds {raw} as the bookmark of connection {connection_id}, after "
                "this run started; it is read from start_date and the bookmark replaced",
            )
            value = None
        return value

    def _recent_digests(self, partition: Mapping[str, Any], connection_id: str) -> frozenset[str]:
        """The digests of the rows of the overlap, as the previous run stored them."""
        stored = partition.get(RECENT_KEY)
        if stored is None:
            return frozenset()
        if isinstance(stored, list) and all(isinstance(d, str) for d in stored):
            return frozenset(stored)
        self.note_malformed(
            "recent_digests that are not a list of strings",
            f"state holds {str(stored)[:40]!r} as the {RECENT_KEY} of connection "
            f"{connection_id}; the rows of the overlap are emitted again and it is replaced",
        )
        return frozenset()

    def _log_plan(self, connection_id: str, windows: list[Window]) -> None:
        if len(windows) > MANY_WINDOWS:
            self.warn_once(
                "many-windows",
                "Stream '%s' reads %d windows of just under 7 days for connection %s (from %s): "
                "one request each. Fivetran keeps little sync history, so a start_date "
                "this far back mostly costs requests; later runs need one window.",
                self.name,
                len(windows),
                connection_id,
                query_time(windows[0].start),
            )
        self.logger.debug(
            "Reading the sync history of %s in %d windows.", connection_id, len(windows)
        )

    @property
    def _bookmark_key(self) -> str:
        return str(self.replication_key)

    def _commit(
        self,
        partition: dict[str, Any],
        previous: datetime | None,
        progress: ReadProgress,
        *,
        complete: bool,
    ) -> datetime | None:
        bookmark = next_bookmark(
            previous,
            progress,
            run_end=self.run_end,
            overlap=self.overlap,
            running_hold=self.running_hold,
            complete=complete,
        )
        if bookmark is not None:
            commit(partition, self._bookmark_key, format_timestamp(bookmark))
        return bookmark

    def _read_start(self, previous: datetime | None) -> datetime:
        return whole_second(read_from(previous, self.start_date, self.overlap))

    def _prefetch_key(self, context: Context | dict[str, Any], start: datetime) -> tuple[str, ...]:
        return (self.name, str(context["connection_id"]), format_timestamp(start))

    @override
    def prefetch_jobs(self, context: dict[str, Any]) -> list[tuple[Hashable, Any]] | None:
        """Fetch a connection's windows ahead, once the endpoint is known to exist.

        Until a first answer confirmed the endpoint, only one connection (the first to
        be synced, as in a sequential run) is fetched ahead and the others wait, so an
        absent endpoint is detected exactly as sequentially. Runs on the main thread:
        it only reads the bookmark (never creates state), so state and output stay
        those of a sequential run.
        """
        if self._disabled:
            return []
        partition = self._peek_partition(str(context["connection_id"]))
        if self.read_reason(context, partition) is None:
            return []
        if not self._endpoint_confirmed:
            if self._probing:
                return None
            self._probing = True
        start = self._read_start(self._peeked_bookmark(partition))
        windows = plan_windows(start, self.run_end)
        return [(self._prefetch_key(context, start), lambda: self._fetch_windows(context, windows))]

    def planned_requests(self, context: dict[str, Any]) -> int:
        """Windows this run will ask for, for one connection (0: left out; for the plan)."""
        if self._disabled:
            return 0
        partition = self._peek_partition(str(context["connection_id"]))
        if self.read_reason(context, partition) is None:
            return 0
        start = self._read_start(self._peeked_bookmark(partition))
        return len(plan_windows(start, self.run_end))

    def _peeked_bookmark(self, partition: Mapping[str, Any]) -> datetime | None:
        """The bookmark a read will start from (an unusable one counts as none), unreported."""
        return self._trusted_bookmark(partition, "", report=False)

    def _peek_partition(self, connection_id: str) -> dict[str, Any]:
        """The connection's partition as it is ({} when none), without creating one."""
        manager = self.state_manager
        assert isinstance(manager, IndexedStateManager)  # noqa: S101
        return manager.peek_context_state({"connection_id": connection_id}) or {}

    def _fetch_windows(self, context: Context | dict[str, Any], windows: list[Window]) -> Fetched:
        """Rows of each window in order, stopping at the first refused one (thread-safe)."""
        fetched = Fetched()
        for window in windows:
            rows, stopped_by = self._fetch_window(context, window)
            if stopped_by is not None:
                fetched.stopped_by = stopped_by
                break
            fetched.windows.append(rows)
        return fetched

    def _fetch_window(
        self, context: Context | dict[str, Any], window: Window
    ) -> tuple[list[tuple[datetime, dict[str, Any]]], str | None]:
        """All rows of one window (every page) with their start, oldest first, or why it stopped."""
        ref = ConnectionRef.from_context(context)
        path = f"/connections/{quote(ref.connection_id, safe='')}/sync-history"
        params = {"start_time": query_time(window.start), "end_time": query_time(window.end)}
        items, stopped_by = self.fetch_list_or_reason(path, context, params)
        if stopped_by is not None:
            return [], stopped_by
        rows = [row for row in (parse_sync_item_at(item, ref) for item in items) if row]
        if len(rows) < len(items):
            self.logger.debug(
                "Ignored %d sync-history items without a start for connection %s.",
                len(items) - len(rows),
                ref.connection_id,
            )
        rows.sort(key=lambda pair: pair[1]["started_at"])
        return rows, None


@dataclass
class Fetched:
    """What one connection's windows returned."""

    windows: list[list[tuple[datetime, dict[str, Any]]]] = field(default_factory=list)
    #: Why the read stopped early (vanished connection, refused, endpoint absent).
    stopped_by: str | None = None


#: The name of the status stream (the issues stream reads its partitions).
STATUS_STREAM = "connection_status_history"
#: Context key marking the sync of a connection gone from a complete listing.
DELETED_KEY = "deleted"


class ConnectionStatusHistoryStream(AccountScoped, SelfCommittedPartitions, MessageHooks, Stream):
    """One row per connection each time its status changes (no API request).

    Reads the connection record the ``connections`` stream just processed, and
    compares the fingerprint of its status with the one kept in the connection's
    bookmark. The first run writes every connection; a run without changes writes
    nothing. After a complete, unfiltered listing, each connection the state knows
    that the listing lacks gets one row with health ``deleted`` (:meth:`after_listing`).
    """

    name = STATUS_STREAM
    parent_stream_type = ConnectionsStream
    state_partitioning_keys = ("connection_id",)
    primary_keys = ("connection_id", "change_id")
    replication_key = "observed_at"
    #: See SyncHistoryStream; this bookmark moves only on a change, so it dates nothing.
    prunable_partitions = True
    bookmark_dates_partition = False
    trusted_rows = True  # rows built by status_history.status_row, typed per column
    schema = th.PropertiesList(
        key("connection_id", "Connection id."),
        key(
            "change_id",
            "Key of this status change (16 hex characters): a hash of the connection, the "
            "previous row's observed_at and fingerprint, and this fingerprint. A resumed "
            "run sends a change again under the same change_id.",
        ),
        th.Property(
            "observed_at",
            DT,
            required=True,
            description="Start of the run that saw this status (UTC; equals "
            "connections.observed_at and tap_runs.started_at of that run). The "
            "replication key; not part of the key.",
        ),
        prop("fingerprint", th.StringType, "Short hash of the status fields below."),
        prop(
            "previous_fingerprint",
            th.StringType,
            "Fingerprint of the connection's previous row; null for its first row.",
        ),
        *CONNECTION_COLUMNS,
        prop("paused", th.BooleanType, "Whether the connection is paused."),
        prop("setup_state", th.StringType, "incomplete, connected or broken."),
        prop("sync_state", th.StringType, "scheduled, syncing, paused or rescheduled."),
        prop("update_state", th.StringType, "on_schedule or delayed."),
        prop("is_historical_sync", th.BooleanType, "True while a historical (re)sync runs."),
        prop("schema_status", th.StringType, "status.schema_status, e.g. 'ready'."),
        prop("rescheduled_for", DT, "When a rescheduled sync resumes (UTC)."),
        prop("succeeded_at", DT, "Last successful sync (UTC)."),
        prop("failed_at", DT, "Last failed sync (UTC)."),
        prop("last_sync_completed_at", DT, "Later of succeeded_at and failed_at."),
        prop("last_sync_succeeded", th.BooleanType, "Whether the last completed sync succeeded."),
        prop(
            "health",
            th.StringType,
            "Derived health, as in the connections stream; 'deleted' (every other status "
            "column null) once a complete, unfiltered listing lacks the connection.",
        ),
        prop("task_codes", th.ArrayType(th.StringType), "Codes of status.tasks, sorted."),
        prop("warning_codes", th.ArrayType(th.StringType), "Codes of status.warnings, sorted."),
        prop("sync_frequency", th.IntegerType, "Minutes between syncs."),
        prop("schedule_type", th.StringType, "'auto' or 'manual'."),
        prop("daily_sync_time", th.StringType, "HH:MM for daily syncs."),
        prop("schedule", OPAQUE, "Flexible schedule object, when present."),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state_warnings: set[str] = set()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:
            return
        if context.get(DELETED_KEY) is True:
            yield from self._deleted(context)
            return
        partition = self.get_context_state(context)
        mark_seen(partition, self.services.run_started_at.date())
        try:
            row = self._changed_row(context, partition)
            if row is None:
                return
            yield from self._emit(partition, row)
        finally:
            clear_transient(partition)

    def _emit(self, partition: dict[str, Any], row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Yield the row, then commit its observed_at and fingerprint (both, or neither)."""
        with self.services.deferred_termination():
            yield row
            # Only now, after the record was written, does state learn about it.
            assert self.replication_key  # noqa: S101 - set on the class
            previous = self._stored_observed_at(partition, row["connection_id"])
            observed = max(filter(None, (previous, row["observed_at"])))
            commit(partition, self.replication_key, observed, fingerprint=row[FINGERPRINT_KEY])

    def pending_row(self, context: Context | dict[str, Any]) -> dict[str, Any] | None:
        """The row this run writes (or wrote) for the connection being synced, or None.

        Reads the connection's partition without creating it; the issues stream, synced
        just before this one, builds its rows on it.
        """
        manager = self.state_manager
        assert isinstance(manager, IndexedStateManager)  # noqa: S101
        partition = manager.peek_context_state({"connection_id": context["connection_id"]})
        return self._changed_row(context, dict(partition or {}))

    def _changed_row(
        self, context: Context | dict[str, Any], partition: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The row for the connection being synced, or None when its status is unchanged."""
        connection = self.services.current_connection
        if not connection or connection.get("id") != context.get("connection_id"):
            self.logger.warning(
                "Stream '%s' found no processed record for connection %s; skipped.",
                self.name,
                context.get("connection_id"),
            )
            return None
        observed_at = connection.get("observed_at") or format_timestamp(
            self.services.run_started_at
        )
        previous = self._stored_fingerprint(partition, str(context["connection_id"]))
        row = status_row(
            connection,
            observed_at=observed_at,
            previous_fingerprint=previous,
            previous_observed_at=self._stored_observed_at(partition, str(context["connection_id"])),
        )
        return None if row[FINGERPRINT_KEY] == previous else row

    # --- deleted connections -------------------------------------------------------------

    def after_listing(self, listing: Listing) -> None:
        """Write the ``deleted`` row of each known connection a complete listing lacks.

        Only after a complete, unfiltered listing (a filter leaves connections out that
        still exist), once per connection: a partition already holding the deleted
        fingerprint gets nothing more. Sorted by id, so output is the same every time.
        """
        if not self.selected or not listing.complete_and_unfiltered:
            return
        gone = sorted(
            connection_id
            for connection_id, partition in self._partitions_by_id().items()
            if connection_id not in listing.ids
            and partition.get(FINGERPRINT_KEY) != DELETED_FINGERPRINT
        )
        for connection_id in gone:
            self.sync({"connection_id": connection_id, DELETED_KEY: True})
        if gone:
            self.logger.info(
                "Stream '%s': %d connections known from earlier runs are gone from the "
                "complete connections listing; each got one row with health 'deleted'.",
                self.name,
                len(gone),
            )

    def _partitions_by_id(self) -> dict[str, dict[str, Any]]:
        partitions = self.stream_state.get("partitions")
        found: dict[str, dict[str, Any]] = {}
        for partition in partitions if isinstance(partitions, list) else ():
            context = partition.get("context") if isinstance(partition, dict) else None
            connection_id = context.get("connection_id") if isinstance(context, dict) else None
            if isinstance(connection_id, str):
                found[connection_id] = partition
        return found

    def _deleted(self, context: Context) -> Iterator[dict[str, Any]]:
        """The deleted row of one connection (its partition is not marked seen)."""
        partition = self.get_context_state(context)
        connection_id = str(context["connection_id"])
        row = deleted_row(
            connection_id,
            observed_at=format_timestamp(self.services.run_started_at),
            previous_fingerprint=self._stored_fingerprint(partition, connection_id),
            previous_observed_at=self._stored_observed_at(partition, connection_id),
        )
        try:
            yield from self._emit(partition, row)
        finally:
            clear_transient(partition)

    def keeps_unseen_partition(self, partition: Mapping[str, Any]) -> bool:
        """Whether ``state_prune_days`` must keep a partition of a connection not seen lately.

        An unfiltered run of this stream lists every connection, so it either sees the
        connection again or writes its ``deleted`` row: until then the partition is kept.
        A partition holding the deleted row, or any in a filtered run or one that does not
        sync this stream, ages out as usual.
        """
        return (
            self.selected
            and not self.services.filters.filters_connections
            and partition.get(FINGERPRINT_KEY) != DELETED_FINGERPRINT
        )

    # --- state values --------------------------------------------------------------------

    def _stored_fingerprint(self, partition: Mapping[str, Any], connection_id: str) -> str | None:
        previous = partition.get(FINGERPRINT_KEY)
        if previous is not None and not isinstance(previous, str):
            self._warn_state(
                "fingerprint",
                f"state holds {str(previous)[:40]!r} as the status fingerprint of connection "
                f"{connection_id}, not a string; its status is written again "
                "and the fingerprint replaced",
            )
            return None
        return previous

    def _stored_observed_at(self, partition: Mapping[str, Any], connection_id: str) -> str | None:
        """The stored bookmark if it is a timestamp no later than the run's start."""
        assert self.replication_key  # noqa: S101 - set on the class
        raw = bookmark_value(partition, self.replication_key)
        if raw is None:
            return None
        parsed = parse_timestamp(raw) if isinstance(raw, str) else None
        if parsed is not None and parsed <= self.services.run_started_at:
            return str(raw)
        self._warn_state(
            "observed_at",
            f"state holds {str(raw)[:40]!r} as the bookmark of connection {connection_id}, "
            "not a timestamp before this run; it is replaced by this run's start",
        )
        return None

    def _warn_state(self, key: str, detail: str) -> None:
        """Warn once per run and kind about a state value the stream had to replace."""
        if key not in self._state_warnings:
            self._state_warnings.add(key)
            self.logger.warning("Stream '%s': %s (warned once per run).", self.name, detail)

    @override
    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        super().finalize_state_progress_markers(state)
        if state is None and self.selected:
            self.services.activation.note_complete(self.name, complete=_listing_read(self))


class ConnectionStatusIssuesStream(AccountScoped, MessageHooks, Stream):
    """One row per task and warning of each ``connection_status_history`` row.

    Synced just before the status stream, for the row that stream is about to write
    (:meth:`ConnectionStatusHistoryStream.pending_row`), under the same
    ``(connection_id, change_id)``: a run that stops between the two, or resumes after
    its STATE was lost, sends the same rows again under the same keys. No state of its
    own, no API request.
    """

    name = "connection_status_issues"
    parent_stream_type = ConnectionsStream
    primary_keys = ("connection_id", "change_id", "kind", "code")
    state_partitioning_keys: tuple[str, ...] = ()
    trusted_rows = True  # rows built by status_history.issue_rows, typed per column
    schema = th.PropertiesList(
        key("connection_id", "Connection id."),
        key("change_id", "The connection_status_history row (change_id) it belongs to."),
        key("kind", "'task' (status.tasks: blocking, act on it) or 'warning' (status.warnings)."),
        key("code", "The task's or warning's code, e.g. 'reconnect'."),
        th.Property(
            "observed_at",
            DT,
            required=True,
            description="observed_at of that connection_status_history row (UTC).",
        ),
        prop("message", th.StringType, "Its message, as Fivetran wrote it."),
    ).to_dict()

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        return False  # rows of past changes are never deleted

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:
            return
        status = self.services.streams[STATUS_STREAM]
        assert isinstance(status, ConnectionStatusHistoryStream)  # noqa: S101
        change = status.pending_row(context)
        connection = self.services.current_connection
        if change is None or connection is None:
            return
        yield from issue_rows(connection, change)

    @override
    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        super().finalize_state_progress_markers(state)
        if state is None and self.selected:
            self.services.activation.note_complete(self.name, complete=_listing_read(self))


def _listing_read(stream: Stream) -> bool:
    """Whether the connections stream read its whole listing in this run (see Listing)."""
    parent = stream.services.streams.get("connections")  # type: ignore[attr-defined]
    listing = getattr(parent, "listing", None)
    return isinstance(listing, Listing) and listing.read_everything
