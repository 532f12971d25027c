"""tap-fivetran-meta: the Tap class, its settings and its streams."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import click
import requests
import simplejson
from requests.adapters import HTTPAdapter
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.tap_base import CliTestOptionValue

from tap_fivetran_meta import __version__
from tap_fivetran_meta.activation import ActivationTracker
from tap_fivetran_meta.config_checks import semantic_config_errors
from tap_fivetran_meta.connection_index import ConnectionIndex
from tap_fivetran_meta.filters import Filters
from tap_fivetran_meta.http_session import ApiSession
from tap_fivetran_meta.lineage import destination_database
from tap_fivetran_meta.message_volume import (
    CompactStateWriter,
    StateFlushingWriter,
    StateThrottle,
)
from tap_fivetran_meta.prefetch import Prefetcher
from tap_fivetran_meta.progress import RunProgress
from tap_fivetran_meta.ratelimit import RateBudget
from tap_fivetran_meta.recheck import SCHEMA_STATE_STREAM, SchemaRefresh
from tap_fivetran_meta.streams import STREAM_TYPES
from tap_fivetran_meta.streams.core import (
    AccountStream,
    ConnectionsStream,
    DestinationsStream,
)
from tap_fivetran_meta.timeutil import utcnow

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime

    from singer_sdk import Stream

    from tap_fivetran_meta.streams.schemas import LastSchemaConfig

DEFAULT_API_URL = "https://api.fivetran.com/v1"


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
        description="Seconds to wait for one HTTP response before retrying.",
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
        "run reads again (late-listed syncs); duplicates are upserted by primary key.",
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
        th.NumberType(minimum=0),
        default=24,
        description="sync_history: an incremental run asks for a connection's history only "
        "when it is new, its last success, failure or sync state moved, a sync runs or was "
        "running, or its last complete read is older than this (spread over the second "
        "half of it, per connection). 0 = every connection, every run. See docs/history.md.",
    ),
    th.Property(
        "schema_refresh_hours",
        th.NumberType(minimum=0),
        default=24,
        description="Schema-config streams (connection_schema_settings ... table_lineage): "
        "read a connection's schema config when it is new or its last read is older than "
        "this (spread over the second half of it, per connection). 0 = every run. See "
        "docs/lineage.md.",
    ),
).to_dict()


class TapFivetranMeta(Tap):
    """Singer tap for Fivetran account metadata."""

    name = "tap-fivetran-meta"
    package_name = "tap-fivetran-meta"
    config_jsonschema = CONFIG_SCHEMA
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

    @cached_property
    def user_agent(self) -> str:
        """The User-Agent sent with every request."""
        return str(self.config.get("user_agent") or f"tap-fivetran-meta/{__version__}")

    @cached_property
    def http_session(self) -> requests.Session:
        """One keep-alive session shared by every stream."""
        session = ApiSession()
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=max(10, self.prefetcher.max_concurrency)
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def rate_budget(self) -> RateBudget:
        """The client-side request budget shared by every stream."""
        return RateBudget(
            int(self.config.get("max_requests_per_hour", 10000)),
            reserve=_optional_int(self.config.get("rate_limit_reserve")),
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

    def _list_all_connections(self) -> Iterable[dict[str, Any]]:
        stream = self.streams["connections"]
        assert isinstance(stream, ConnectionsStream)  # noqa: S101
        return stream.request_records(None)

    # --- streams -------------------------------------------------------------------------

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state_writer = CompactStateWriter(self.message_writer)
        self._check_catalog_streams()

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
        """Hold SIGTERM/SIGINT handling until the block is done.

        The SDK's handler writes the current STATE and exits. Streams that emit a
        record and then commit its bookmark wrap both in this block, so a signal can
        never produce a STATE that lacks a record already written (or the reverse).
        """
        self._termination_hold += 1
        try:
            yield
        finally:
            self._termination_hold -= 1
            held, self._held_signal = self._held_signal, None
            if held is not None and self._termination_hold == 0:
                super()._handle_termination(*held)
            elif held is not None:
                self._held_signal = held

    @override
    def _handle_termination(self, signum: int, frame: Any) -> None:
        if self._termination_hold:
            self._held_signal = (signum, frame)
            return
        super()._handle_termination(signum, frame)

    # --- config validation ---------------------------------------------------------------

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        semantic = semantic_config_errors(self.config, now=utcnow())
        try:
            errors = super()._validate_config(raise_errors=raise_errors)
        except ConfigValidationError as exc:
            raise ConfigValidationError(
                "Config validation failed", errors=[*exc.errors, *semantic], schema=exc.schema
            ) from None
        if semantic and raise_errors:
            raise ConfigValidationError(
                "Config validation failed", errors=semantic, schema=self.config_jsonschema
            )
        return [*errors, *semantic]

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
        if value != CliTestOptionValue.Disabled.value:
            config = ctx.params.get("config")
            with _readable_errors(cls.logger):
                tap = cls(
                    config=config.config if config else None,
                    parse_env_config=config.parse_env if config else False,
                    validate_config=True,
                )
                if value != CliTestOptionValue.Schema.value:
                    tap.describe_account()
        super().cb_test(ctx, param, value)

    @override
    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        with _readable_errors(cls.logger):
            super().invoke(*args, **kwargs)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@contextmanager
def _readable_errors(logger: logging.Logger) -> Iterator[None]:
    """Turn expected failures into readable log lines and exit code 1 (no traceback)."""
    try:
        yield
    except ConfigValidationError as exc:
        for error in exc.errors:
            logger.error("Invalid configuration: %s", error)  # noqa: TRY400
        sys.exit(1)
    except (FatalAPIError, RetriableAPIError, requests.RequestException) as exc:
        logger.error("tap-fivetran-meta failed: %s", exc)  # noqa: TRY400
        sys.exit(1)
    except (json.JSONDecodeError, simplejson.JSONDecodeError) as exc:
        logger.error(  # noqa: TRY400
            "tap-fivetran-meta failed: a --state or --catalog file is not valid JSON "
            "(line %d, column %d: %s).",
            exc.lineno,
            exc.colno,
            exc.msg,
        )
        sys.exit(1)


if __name__ == "__main__":
    TapFivetranMeta.cli()
