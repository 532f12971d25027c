"""tap-fivetran-meta: the Tap class, its settings and its streams."""

from __future__ import annotations

import io
import logging
import os
import sys
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import click
import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from singer_sdk.tap_base import CliTestOptionValue

from tap_fivetran_meta import __version__
from tap_fivetran_meta.api.http_session import ApiSession
from tap_fivetran_meta.api.ratelimit import RateBudget
from tap_fivetran_meta.api.redirects import apply_redirect_policy
from tap_fivetran_meta.api.transport import MEBIBYTE, BoundedAdapter
from tap_fivetran_meta.rules.config_checks import (
    env_config_errors,
    semantic_config_errors,
    without_secret_values,
)
from tap_fivetran_meta.rules.filters import Filters
from tap_fivetran_meta.rules.lineage import destination_database
from tap_fivetran_meta.rules.recheck import SCHEMA_STATE_STREAM, SchemaRefresh
from tap_fivetran_meta.rules.redact import scrub_auth_tokens
from tap_fivetran_meta.rules.timeutil import utcnow
from tap_fivetran_meta.runtime.activation import ActivationTracker
from tap_fivetran_meta.runtime.connection_index import ConnectionIndex
from tap_fivetran_meta.runtime.input_files import (
    InputFileError,
    StreamBookmarkRules,
    check_shape,
    drop_outdated_bookmarks,
    read_config_file,
    read_json_file,
    unwrap_meltano_state,
)
from tap_fivetran_meta.runtime.log_levels import install_log_filters
from tap_fivetran_meta.runtime.message_volume import (
    StateFlushingWriter,
    StateThrottle,
    flush_pending_output,
)
from tap_fivetran_meta.runtime.partition_state import prune
from tap_fivetran_meta.runtime.prefetch import Prefetcher
from tap_fivetran_meta.runtime.progress import RunProgress
from tap_fivetran_meta.runtime.sdk_hooks import TapHooks
from tap_fivetran_meta.runtime.shutdown import (
    RunInterrupted,
    StopSignal,
    exit_after_interrupt,
    signal_name,
)
from tap_fivetran_meta.streams import STREAM_TYPES
from tap_fivetran_meta.streams.core import (
    AccountStream,
    ConnectionsStream,
    DestinationsStream,
)

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime

    from singer_sdk import Stream
    from singer_sdk.helpers.capabilities import CapabilitiesEnum

    from tap_fivetran_meta.streams.schemas import LastSchemaConfig

DEFAULT_API_URL = "https://api.fivetran.com/v1"
#: ``--test=account``: the Test Connection's first step only (``/account/info``).
TEST_ACCOUNT_ONLY = "account"
DEFAULT_STATE_PRUNE_DAYS = 30


def _list_of_strings(name: str, description: str) -> th.Property:
    return th.Property(name, th.ArrayType(th.StringType), description=description)


CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType,
        required=True,
        secret=True,
        title="API key",
        description="Fivetran API key (a read-only system key is best, see SECURITY.md).",
    ),
    th.Property(
        "api_secret",
        th.StringType,
        required=True,
        secret=True,
        title="API secret",
        description="Secret of the API key.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=DEFAULT_API_URL,
        title="API URL",
        description="Base URL of the REST API. Must be https (http only for loopback hosts).",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Earliest history to read for time-based streams (default: one sync-history "
        "window, 7 days minus a minute, before the run).",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=1000),
        default=1000,
        title="Page size",
        description="Items per list page, 1..1000 (1000 is the API maximum: fewest requests).",
    ),
    _list_of_strings("group_ids", "Only these groups (destinations) and their connections."),
    _list_of_strings("connection_ids", "Only these connections (and their children)."),
    _list_of_strings("services", "Only connections of these connector types, e.g. postgres."),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1, maximum=3600),
        default=60,
        description="Seconds to wait for one HTTP response, headers and whole body, "
        "before retrying.",
    ),
    th.Property(
        "max_response_mb",
        th.IntegerType(minimum=1, maximum=1024),
        default=64,
        description="Largest response body (MB, after decompression) the tap reads; a "
        "larger one stops the run (a gzip bomb or a broken proxy, never Fivetran).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=20),
        default=5,
        description="Retries of one request on 429, 5xx, timeouts and connection errors.",
    ),
    th.Property(
        "max_retry_wait",
        th.IntegerType(minimum=1),
        default=900,
        description="Longest Retry-After (seconds) the tap will wait; longer fails the run.",
    ),
    th.Property(
        "max_requests_per_hour",
        th.IntegerType(minimum=1, maximum=20000),
        default=10000,
        description="Client-side budget of requests in any rolling hour (Fivetran allows "
        "20,000 per account; leave room for other API users).",
    ),
    th.Property(
        "rate_limit_reserve",
        th.IntegerType(minimum=0),
        description="Slow down once Fivetran's X-Rate-Limit-Remaining falls below this. "
        "Default: 5% of the account's X-Rate-Limit (1,000 of 20,000; 25 of a trial "
        "account's 500).",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        default=f"tap-fivetran-meta/{__version__}",
        description="User-Agent header sent with every request.",
    ),
    th.Property(
        "freshness_slack_minutes",
        th.IntegerType(minimum=0),
        default=60,
        description="Minutes past sync_frequency before a connection counts as stale.",
    ),
    th.Property(
        "records_per_state_message",
        th.IntegerType(minimum=1),
        default=10000,
        description="Child streams write STATE at a connection's end only after this many "
        "records since the last STATE (every stream's end always writes it). Lower it to "
        "resume closer to where an interrupted run stopped; each STATE carries the "
        "bookmarks of every connection.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=64),
        default=8,
        description="Per-connection (and per-user/team) requests in flight at once; 1 = "
        "sequential. Output and state are identical for every value.",
    ),
    th.Property(
        "webhook_inbox_path",
        th.StringType,
        title="Webhook inbox path",
        description="Path to the SQLite inbox written by `tap-fivetran-meta-webhooks serve`. "
        "If unset, the `webhook_events` stream emits nothing.",
    ),
    th.Property(
        "emit_activate_version_messages",
        th.BooleanType,
        default=False,
        description="After each complete full-table stream, send ACTIVATE_VERSION so the "
        "target flags rows that no longer exist upstream as deleted.",
    ),
    th.Property(
        "column_details",
        th.BooleanType,
        default=False,
        description="connection_columns: also read each enabled table's full column list "
        "(one source-interaction request per table; see docs/lineage.md).",
    ),
    th.Property(
        "column_request_budget",
        th.IntegerType(minimum=0),
        default=500,
        description="Most per-table column requests in one run (column_details).",
    ),
    th.Property(
        "sync_history_overlap_minutes",
        th.IntegerType(minimum=0, maximum=10080),
        default=60,
        description="sync_history: minutes before each connection's bookmark that every "
        "run reads again, to catch syncs listed late; rows already written unchanged are "
        "not written again.",
    ),
    th.Property(
        "state_prune_days",
        th.IntegerType(minimum=0, maximum=3650),
        default=DEFAULT_STATE_PRUNE_DAYS,
        description="Forget the per-connection state (sync_history and "
        "connection_status_history bookmarks) of connections no run has seen for this "
        "many days (deleted, or filtered out); 0 keeps it forever.",
    ),
    th.Property(
        "sync_history_running_hold_days",
        th.IntegerType(minimum=0, maximum=365),
        default=7,
        description="sync_history: a sync still running holds its connection's bookmark "
        "(so its end is read later) for at most this many days after it started.",
    ),
    th.Property(
        "sync_history_recheck_hours",
        # Whole hours: Meltano passes a decimal setting to the tap as a Decimal it then
        # fails to serialise.
        th.IntegerType(minimum=0, maximum=8760),
        default=24,
        description="sync_history: an incremental run asks for a connection's history only "
        "when it is new, its last success, failure or sync state moved, a sync runs or was "
        "running, or its last complete read is older than this (spread over the second "
        "half of it, per connection). 0 = every connection, every run. See docs/history.md.",
    ),
    th.Property(
        "schema_refresh_hours",
        th.IntegerType(minimum=0, maximum=8760),
        default=24,
        description="Schema-config streams (connection_schema_settings ... table_lineage): "
        "read a connection's schema config when it is new or its last read is older than "
        "this (spread over the second half of it, per connection). 0 = every run. See "
        "docs/lineage.md.",
    ),
).to_dict()


class TapFivetranMeta(TapHooks, Tap):
    """Singer tap for Fivetran account metadata."""

    name = "tap-fivetran-meta"
    package_name = "tap-fivetran-meta"
    config_jsonschema = CONFIG_SCHEMA
    #: What --about declares; meltano.yml and the Meltano Hub definition list the same.
    #: No BATCH: the history streams commit bookmarks per record, a path BATCH bypasses.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        TapCapabilities.TEST,
        TapCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    message_writer_class = StateFlushingWriter

    #: The connection record being synced; its child streams sync right after it.
    current_connection: dict[str, Any] | None = None
    #: The schema config of that connection, shared by the five schema streams.
    last_schema_config: LastSchemaConfig | None = None

    # --- run-wide shared objects ---------------------------------------------------------

    @cached_property
    def run_started_at(self) -> datetime:
        """The instant derived, time-dependent columns are computed against."""
        return utcnow()

    @property
    def tap_version(self) -> str:
        """The version of this tap."""
        return __version__

    def clock(self) -> datetime:
        """The current instant (UTC), e.g. for when the run ended."""
        return utcnow()

    @cached_property
    def user_agent(self) -> str:
        """The User-Agent sent with every request."""
        return str(self.config.get("user_agent") or f"tap-fivetran-meta/{__version__}")

    @cached_property
    def http_session(self) -> requests.Session:
        """One keep-alive session shared by every stream."""
        session = ApiSession()
        adapter = BoundedAdapter(
            max_body_bytes=int(self.config.get("max_response_mb", 64)) * MEBIBYTE,
            pool_connections=4,
            pool_maxsize=max(10, self.prefetcher.max_concurrency),
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        # A redirect never takes the Basic credentials to another origin or to plain http.
        return apply_redirect_policy(session)

    @cached_property
    def stop(self) -> StopSignal:
        """Set by SIGTERM/SIGINT: every wait of every thread ends, no request leaves."""
        return StopSignal()

    @cached_property
    def rate_budget(self) -> RateBudget:
        """The client-side request budget shared by every stream."""
        return RateBudget(
            int(self.config.get("max_requests_per_hour", 10000)),
            reserve=_optional_int(self.config.get("rate_limit_reserve")),
            sleep=self.stop.sleep,
        )

    @cached_property
    def progress(self) -> RunProgress:
        """Progress lines of the per-connection phase."""
        return RunProgress(self.rate_budget)

    @cached_property
    def prefetcher(self) -> Prefetcher:
        """Concurrent fetching of child streams' per-parent requests."""
        return Prefetcher(int(self.config.get("max_concurrency", 8)))

    @cached_property
    def state_throttle(self) -> StateThrottle:
        """Limits STATE messages written at child contexts' ends (see message_volume.py)."""
        return StateThrottle(int(self.config.get("records_per_state_message", 10000)))

    @cached_property
    def activation(self) -> ActivationTracker:
        """ACTIVATE_VERSION bookkeeping for full-table streams."""
        return ActivationTracker(
            enabled=bool(self.config.get("emit_activate_version_messages", False)),
            version=int(self.run_started_at.timestamp() * 1000),
        )

    @cached_property
    def schema_refresh(self) -> SchemaRefresh:
        """Which connections' schema configs this run reads (``schema_refresh_hours``)."""
        stream = self.streams[SCHEMA_STATE_STREAM]
        return SchemaRefresh(
            stream.stream_state,
            now=self.run_started_at,
            period=timedelta(hours=float(self.config.get("schema_refresh_hours", 24))),
        )

    @cached_property
    def filters(self) -> Filters:
        """The configured group/connection/service filters."""
        return Filters.from_config(self.config)

    @cached_property
    def connection_index(self) -> ConnectionIndex:
        """Connection id -> group and service, for filters on streams that lack them."""
        return ConnectionIndex(self._list_all_connections)

    @cached_property
    def _destination_details(self) -> dict[str, dict[str, Any] | None]:
        return {}

    def _destination_fetch(self, group_id: str, context: Any) -> Callable[[], Any]:
        stream = self.streams["destinations"]
        assert isinstance(stream, DestinationsStream)  # noqa: S101
        return lambda: stream.fetch_data(f"/destinations/{quote(group_id, safe='')}", context)

    def prefetch_destination_detail(self, group_id: str, context: Any = None) -> None:
        """Start fetching a destination's details in the background (see prefetch.py)."""
        if group_id not in self._destination_details:
            self.prefetcher.submit(
                ("destination", group_id), self._destination_fetch(group_id, context)
            )

    def destination_prefetch_jobs(
        self, group_id: str, context: Any = None
    ) -> list[tuple[tuple[str, str], Callable[[], Any]]]:
        """The prefetch job for a destination's details, unless already fetched."""
        if group_id in self._destination_details:
            return []
        return [(("destination", group_id), self._destination_fetch(group_id, context))]

    def destination_detail(self, group_id: str, context: Any = None) -> dict[str, Any] | None:
        """``GET /destinations/{id}``, at most once per destination per run (None if gone)."""
        if group_id not in self._destination_details:
            self._destination_details[group_id] = self.prefetcher.take(
                ("destination", group_id), self._destination_fetch(group_id, context)
            )
        return self._destination_details[group_id]

    def destination_database(self, group_id: str | None, context: Any = None) -> str | None:
        """Database (project, catalog) named in a destination's config, if any."""
        if not group_id:
            return None
        detail = self.destination_detail(group_id, context) or {}
        config = detail.get("config")
        return destination_database(config if isinstance(config, dict) else None)

    @cached_property
    def account_id(self) -> str:
        """The account every row belongs to (``GET /account/info``, once per run)."""
        stream = self.streams["account"]
        assert isinstance(stream, AccountStream)  # noqa: S101
        return str(stream.info()["account_id"])

    def _list_all_connections(self) -> Iterable[dict[str, Any]]:
        stream = self.streams["connections"]
        assert isinstance(stream, ConnectionsStream)  # noqa: S101
        return stream.request_records(None)

    # --- streams -------------------------------------------------------------------------

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    _ordered_streams: tuple[dict[str, Stream], dict[str, Stream]] | None = None

    @property
    def streams(self) -> dict[str, Stream]:
        """The SDK's streams (synced in name order), a ``synced_last`` one (the run log) last."""
        loaded = super().streams
        if self._ordered_streams is None or self._ordered_streams[0] is not loaded:
            order = sorted(loaded, key=lambda name: bool(getattr(loaded[name], "synced_last", 0)))
            self._ordered_streams = (loaded, {name: loaded[name] for name in order})
        return self._ordered_streams[1]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        install_log_filters(self.name, (stream_type.name for stream_type in STREAM_TYPES))
        self._state_notes: list[str] = []
        self._reads_env_config = bool(kwargs.get("parse_env_config"))
        if _is_parsed(kwargs.get("catalog")):
            check_shape(kwargs["catalog"], "catalog")
        if _is_parsed(kwargs.get("state")):
            state, note = unwrap_meltano_state(kwargs["state"])
            check_shape(state, "state")
            kwargs["state"] = state
            self._state_notes = [note] if note else []
        try:
            super().__init__(*args, **kwargs)
        except ValueError:
            # singer-sdk's own reading of TAP_FIVETRAN_META_* (e.g. int("abc")).
            errors = self._env_errors() if self._reads_env_config else []
            if not errors:
                raise
            raise ConfigValidationError("Config validation failed", errors=errors) from None
        self.use_compact_state_writer()
        self.stop.on_finish(self._after_interrupt)
        self._prune_stale_partitions()
        self._check_catalog_streams()

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        rules = {
            name: StreamBookmarkRules(stream.replication_key, stream.state_partitioning_keys)
            for name, stream in self.streams.items()
        }
        usable, dropped = drop_outdated_bookmarks(state, rules)
        notes = [*self._state_notes, *(f"ignored {what}" for what in dropped)]
        if notes:
            self.logger.warning(
                "Reading the state: %s. Streams left without a bookmark read from start_date.",
                "; ".join(notes),
            )
        super().load_state(usable)

    def _prune_stale_partitions(self) -> None:
        """Drop the state of connections not seen for ``state_prune_days`` (before any STATE).

        Without it the state keeps one partition per connection that ever existed,
        and every STATE message carries all of them.
        """
        days = int(self.config.get("state_prune_days", DEFAULT_STATE_PRUNE_DAYS))
        bookmarks = self.state.get("bookmarks")
        if days <= 0 or not isinstance(bookmarks, dict):
            return
        for stream in self.streams.values():
            stream_state = bookmarks.get(stream.name)
            if not getattr(stream, "prunable_partitions", False) or not isinstance(
                stream_state, dict
            ):
                continue
            dated = getattr(stream, "bookmark_dates_partition", False)
            dated_by = stream.replication_key if dated else None
            dropped = prune(
                stream_state,
                today=self.run_started_at.date(),
                max_age_days=days,
                bookmark_key=dated_by,
                keep=getattr(stream, "keeps_unseen_partition", None),
            )
            if dropped:
                self.logger.info(
                    "State of '%s': forgot %d connections not seen for more than %d days "
                    "(state_prune_days).",
                    stream.name,
                    dropped,
                    days,
                )

    def _check_catalog_streams(self) -> None:
        """Refuse a catalog naming streams this tap does not have.

        A typo or an old catalog would otherwise be ignored silently.
        """
        if self.input_catalog is None:
            return
        unknown = sorted(
            entry.tap_stream_id
            for entry in self.input_catalog.streams
            if entry.tap_stream_id not in self.streams
        )
        if unknown:
            known = ", ".join(sorted(self.streams))
            msg = f"The catalog names unknown streams: {', '.join(unknown)}. Known: {known}."
            raise ConfigValidationError(msg, errors=[msg])

    # --- termination -----------------------------------------------------------------

    _termination_hold = 0
    _held_signal: tuple[int, Any] | None = None

    @contextmanager
    def deferred_termination(self) -> Iterator[None]:
        """Hold the stop a SIGTERM/SIGINT causes until the block is done.

        A signal ends the run by raising :class:`RunInterrupted` wherever the main
        thread is; the final STATE is written once the stack has unwound
        (:meth:`_after_interrupt`).
        Streams that emit a record and then commit its bookmark wrap both in this
        block, so a signal can never produce a STATE that lacks a record already
        written (or the reverse). Worker threads stop at once either way.
        """
        self._termination_hold += 1
        try:
            yield
        finally:
            self._termination_hold -= 1
            held, self._held_signal = self._held_signal, None
            if held is not None and self._termination_hold == 0:
                raise self.stop.interrupted(held[0])
            if held is not None:
                self._held_signal = held

    def on_termination_signal(self, signum: int, frame: Any) -> None:
        """SIGTERM/SIGINT (the SDK's handler hook, see sdk_hooks.TapHooks): stop the run."""
        if self.stop.requested:
            return  # already stopping: a second signal must not interrupt the shutdown
        self.stop.request(signum)
        if self._termination_hold:
            self._held_signal = (signum, frame)
            return
        raise self.stop.interrupted(signum)

    def stop_workers(self) -> None:
        """After a failure on the main thread: no more requests from worker threads.

        Interpreter exit joins the read-ahead pool, which would otherwise go on
        retrying and draining queued requests after the error was reported.
        """
        self.stop.halt()
        self.prefetcher.abandon()

    def _after_interrupt(self, stopped: RunInterrupted) -> None:
        """Once a signal's stop has unwound: drop queued work, write one last STATE.

        The state then covers exactly the records written (see deferred_termination).
        """
        self.prefetcher.abandon()
        try:
            self.write_state_now()
            sys.stdout.flush()
        except OSError as exc:  # the target went away: nothing more can be delivered
            self.logger.warning("Could not write the final STATE after the signal: %s", exc)
            return
        self.logger.warning(
            "After %s: wrote the last STATE; it covers every record written, so the next "
            "run resumes from there.",
            signal_name(stopped.signum),
        )

    # --- config validation ---------------------------------------------------------------

    def validate_all_config(
        self, sdk_validation: Callable[[], list[str]], *, raise_errors: bool = True
    ) -> list[str]:
        """The SDK's schema checks (``sdk_validation``) plus the tap's own, every error once.

        Called for the SDK's config validation (see sdk_hooks.TapHooks). Semantic rules
        and the environment's values join the schema's errors; no error shows the value
        of a secret setting.
        """
        semantic = semantic_config_errors(self.config, now=utcnow())
        if self._reads_env_config:
            semantic = [*self._env_errors(), *semantic]
        secrets = {
            name
            for name, prop in self.config_jsonschema.get("properties", {}).items()
            if prop.get("secret")
        }
        try:
            errors = sdk_validation()
        except ConfigValidationError as exc:
            schema_errors = [without_secret_values(error, secrets) for error in exc.errors]
            raise ConfigValidationError(
                "Config validation failed", errors=[*schema_errors, *semantic], schema=exc.schema
            ) from None
        if semantic and raise_errors:
            raise ConfigValidationError(
                "Config validation failed", errors=semantic, schema=self.config_jsonschema
            )
        return [*(without_secret_values(error, secrets) for error in errors), *semantic]

    @classmethod
    def _env_errors(cls) -> list[str]:
        return env_config_errors(cls.config_jsonschema, cls.env_var_prefix(), os.environ)

    # --- test connection -----------------------------------------------------------------

    def describe_account(self) -> dict[str, Any]:
        """Call ``/account/info`` and log which account and kind of key this is."""
        stream = self.streams["account"]
        assert isinstance(stream, AccountStream)  # noqa: S101
        info = next(iter(stream.request_records(None)), None) or {}
        key_type = "system key" if info.get("system_key_id") else "user (scoped) key"
        self.logger.info(
            "Connected to Fivetran account '%s' (id %s) with a %s.",
            info.get("account_name"),
            info.get("account_id"),
            key_type,
        )
        return info

    @override
    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        if value == CliTestOptionValue.Disabled.value:
            return
        config = ctx.params.get("config")
        with _readable_errors(cls.logger):
            tap = cls(
                config=config.config if config else None,
                parse_env_config=config.parse_env if config else False,
                validate_config=True,
            )
            if value != CliTestOptionValue.Schema.value:
                tap.describe_account()
            if value == TEST_ACCOUNT_ONLY:
                ctx.exit()
            super().cb_test(ctx, param, value)

    @override
    @classmethod
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        for param in command.params:
            if param.name == "test":
                param.help = (
                    f"{param.help} Use --test={TEST_ACCOUNT_ONLY} to check only the "
                    "credentials: one request, a line naming the account, no output."
                )
            if param.name in {"state", "catalog"}:
                # Read by invoke(), so a missing or unreadable file is one readable
                # line (exit 1) rather than click's usage error.
                param.type = click.STRING
        return command

    @override
    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        with _readable_errors(cls.logger):
            for path in value:
                if path != "ENV":
                    read_config_file(path)  # one clear line for a missing or bad file
        return super().cb_config(ctx, param, value)

    @override
    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        sources = {
            kind: f"--{kind} {kwargs[kind]}" for kind in ("state", "catalog") if kwargs.get(kind)
        }
        with _readable_errors(cls.logger, sources):
            for kind in sources:
                text, value = read_json_file(kwargs[kind], kind)
                if kind == "state":
                    value, _ = unwrap_meltano_state(value)
                check_shape(value, kind)
                kwargs[kind] = io.StringIO(text)
            super().invoke(*args, **kwargs)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _is_parsed(value: object) -> bool:
    """Whether a state/catalog argument is parsed JSON (not a path, a Catalog or None)."""
    return isinstance(value, dict | list | int | float)


@contextmanager
def _readable_errors(
    logger: logging.Logger, sources: dict[str, str] | None = None
) -> Iterator[None]:
    """Turn expected failures into readable log lines and exit code 1 (no traceback).

    A run stopped by a signal exits 128 + the signal number (143 for SIGTERM).

    Args:
        logger: Where the line goes.
        sources: How the user named each input file, by kind (``state``, ``catalog``).
    """
    try:
        try:
            yield
        except BaseException:
            flush_pending_output()  # the messages written so far come before the error
            raise
    except RunInterrupted as stopped:
        stopped.finish()
        logger.error(  # noqa: TRY400
            "tap-fivetran-meta stopped by %s before it finished; no request was sent "
            "after the signal (exit code %d).",
            signal_name(stopped.signum),
            stopped.exit_code,
        )
        exit_after_interrupt(stopped.exit_code)
    except InputFileError as exc:
        source = (sources or {}).get(exc.kind)
        named = exc.naming(source) if source else exc
        logger.error("tap-fivetran-meta cannot start: %s", named)  # noqa: TRY400
        sys.exit(1)
    except ConfigValidationError as exc:
        for error in exc.errors:
            logger.error("Invalid configuration: %s", error)  # noqa: TRY400
        sys.exit(1)
    except (FatalAPIError, RetriableAPIError, requests.RequestException) as exc:
        logger.error("tap-fivetran-meta failed: %s", scrub_auth_tokens(str(exc)))  # noqa: TRY400
        sys.exit(1)


if __name__ == "__main__":
    TapFivetranMeta.cli()
