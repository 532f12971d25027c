"""Schema config and lineage: five children of ``connections`` sharing one request.

``GET /connections/{id}/schemas`` is read once per connection, by whichever of these
streams syncs first for it; the others reuse the flattened result. Only the current
connection's config is kept (the children of one connection sync right after it), so
memory does not grow with the account. A connection without a schema config (404
``NotFound_SchemaConfig``: never synced, or not set up yet) gives no rows and is
counted in each stream's end-of-run summary line.

``connection_columns`` can add the full column list of each enabled table through the
per-table ``/columns`` endpoint (setting ``column_details``). Those calls query the
source and count against Fivetran's source-interaction limit, so they are capped by
``column_request_budget`` per run.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from singer_sdk import typing as th
from singer_sdk.exceptions import RetriableAPIError

from tap_fivetran_meta.api.errors import FivetranAPIError, FivetranAuthError
from tap_fivetran_meta.client import FivetranStream
from tap_fivetran_meta.rules.coerce import as_str
from tap_fivetran_meta.rules.lineage import destination_fqn, destination_name
from tap_fivetran_meta.rules.schema_changes import (
    TABLE,
    Fingerprint,
    changes,
    fingerprint_of,
    object_key,
)
from tap_fivetran_meta.rules.schema_config import (
    CallBudget,
    FlatConfig,
    Row,
    columns_path,
    endpoint_columns,
    flatten,
    merge_columns,
)
from tap_fivetran_meta.rules.timeutil import format_timestamp
from tap_fivetran_meta.runtime.partition_state import bookmark_value, clear_transient, commit
from tap_fivetran_meta.runtime.sdk_hooks import SelfCommittedPartitions
from tap_fivetran_meta.schemas.fragments import CONNECTION_COLUMNS, DT, key, prop
from tap_fivetran_meta.streams.core import ConnectionsStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Iterator

    from singer_sdk.helpers.types import Context


NO_SCHEMA_CONFIG = "NoSchemaConfig"
REPLICATION_KEY = "observed_at"
DEFAULT_COLUMN_REQUEST_BUDGET = 500

CONNECTION_KEY = (key("connection_id", "Connection id."), *CONNECTION_COLUMNS)

PATCH_SETTINGS = th.ObjectType(
    prop("allowed", th.BooleanType, "Whether the item may be disabled (excluded)."),
    prop("reason_code", th.StringType, "Why not: SYSTEM_TABLE, SYSTEM_COLUMN, DELETED, OTHER."),
    prop("reason", th.StringType, "Why not, in words."),
)


# --- the shared, size-1 cache ---------------------------------------------------------


@dataclass(frozen=True)
class LastSchemaConfig:
    """The schema config of the connection whose children are syncing."""

    connection_id: str
    config: FlatConfig | None
    miss_reason: str | None
    fetched_by: str


@dataclass
class _Summary:
    """What one stream read over the run, for its summary line."""

    connections: int = 0
    connections_without_rows: int = 0
    rows: int = 0
    not_due: int = 0


def _prefetch_key(connection_id: str) -> tuple[str, str]:
    """One key for the five streams: whichever submits first, all share the result."""
    return ("schema_config", connection_id)


# --- base -----------------------------------------------------------------------------


class _SchemaConfigStream(FivetranStream):
    """A child of ``connections`` whose rows come from the connection's schema config."""

    parent_stream_type = ConnectionsStream
    path = "/connections/{connection_id}/schemas"
    paginated = False
    tolerate_not_found = True
    state_partitioning_keys: tuple[str, ...] = ()
    permission_hint = "CONNECTOR at READ"
    trusted_rows = True  # rows built by schema_config.flatten / lineage, typed per column
    #: Warn at the end of the run when connections were read but no row came out.
    warn_when_empty: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summary = _Summary()
        self._is_last: bool | None = None

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        ctx = dict(context or {})
        config = self.schema_config(ctx)
        if config is None:
            return
        count = 0
        columns = self.connection_columns(ctx)
        for row in self.rows(config, ctx):
            count += 1
            yield {**columns, **row}
        self.connection_done(ctx, count)

    def connection_done(self, context: dict[str, Any], rows: int) -> None:
        """Count one connection read; the last schema stream records its read time."""
        self.summary.connections += 1
        self.summary.rows += rows
        if rows == 0:
            self.summary.connections_without_rows += 1
        if self._last_schema_stream():
            self.services.schema_refresh.mark_read(str(context["connection_id"]))

    def _last_schema_stream(self) -> bool:
        """Whether this is the last selected schema stream a connection's children sync."""
        if self._is_last is None:
            siblings = [
                child
                for child in self.services.streams["connections"].child_streams
                if isinstance(child, _SchemaConfigStream) and child.selected
            ]
            self._is_last = bool(siblings) and siblings[-1] is self
        return self._is_last

    def rows(self, config: FlatConfig, context: dict[str, Any]) -> Iterator[Row]:
        """This stream's rows for one connection (without the connection columns)."""
        raise NotImplementedError

    def connection_columns(self, context: dict[str, Any]) -> Row:
        """Columns every row carries, from the parent's context."""
        return {
            "connection_id": str(context["connection_id"]),
            "group_id": as_str(context.get("group_id")),
            "service": as_str(context.get("service")),
        }

    # --- one request per connection ---------------------------------------------------

    def schema_config(self, context: dict[str, Any]) -> FlatConfig | None:
        """The connection's flattened config: fetched once, shared by the five streams.

        Returns:
            The config, or None (counted as a skipped parent) when it does not exist.
        """
        connection_id = str(context["connection_id"])
        if not self.services.schema_refresh.due(connection_id):
            # Read recently (schema_refresh_hours): no rows this run, and no
            # ACTIVATE_VERSION either, which would flag its rows deleted.
            self.summary.not_due += 1
            self._resource_unavailable = True
            return None
        last = self.services.last_schema_config
        if last is None or last.connection_id != connection_id:
            last = self._fetch_config(connection_id, context)
            self.services.last_schema_config = last
        elif last.config is None and last.fetched_by != self.name:
            self.count_skip(last.miss_reason or NO_SCHEMA_CONFIG)
        return last.config

    def _fetch_config(self, connection_id: str, context: dict[str, Any]) -> LastSchemaConfig:
        data, reason = self.services.prefetcher.take(
            _prefetch_key(connection_id), lambda: self._request_config(connection_id, context)
        )
        if data is None:
            if reason is None:  # 200 without a config object
                reason = NO_SCHEMA_CONFIG
                self.count_skip(reason)
            return LastSchemaConfig(connection_id, None, reason, self.name)
        config = flatten(data)
        if config.malformed:
            self.logger.warning(
                "Schema config of connection %s has %d entries that are not objects; "
                "they are left out, everything else is read: %s",
                connection_id,
                len(config.malformed),
                "; ".join(config.malformed[:5]),
            )
        return LastSchemaConfig(connection_id, config, None, self.name)

    def _request_config(
        self, connection_id: str, context: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str | None]:
        path = f"/connections/{quote(connection_id, safe='')}/schemas"
        return self.fetch_data_or_reason(path, context)

    @override
    def prefetch_jobs(self, context: dict[str, Any]) -> Iterable[tuple[Hashable, Any]]:
        connection_id = str(context["connection_id"])
        if self.services.schema_refresh.due(connection_id):
            yield _prefetch_key(connection_id), lambda: self._request_config(connection_id, context)

    # --- summary ------------------------------------------------------------------------

    @override
    def log_skips(self) -> None:
        summary = self.summary
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(self.skip_counts.items()))
        empty = summary.rows == 0 and (summary.connections or self.skip_counts)
        warn = bool(self.skip_counts) or (self.warn_when_empty and bool(empty))
        self.logger.log(
            logging.WARNING if warn else logging.INFO,
            "Stream '%s': %d rows from %d connections with a schema config (%d gave no "
            "rows; %d read recently were left out, schema_refresh_hours); skipped parents: "
            "%s.%s",
            self.name,
            summary.rows,
            summary.connections,
            summary.connections_without_rows,
            summary.not_due,
            skipped or "none",
            " No row at all: check the connections' schema configs and the filters."
            if self.warn_when_empty and empty
            else "",
        )


class ConnectionSchemaSettingsStream(_SchemaConfigStream):
    """Connection-level schema settings: how new schemas, tables and columns are handled."""

    name = "connection_schema_settings"
    primary_keys = ("connection_id",)
    schema = th.PropertiesList(
        *CONNECTION_KEY,
        prop(
            "schema_change_handling",
            th.StringType,
            "ALLOW_ALL, ALLOW_COLUMNS (new columns only) or BLOCK_ALL.",
        ),
        prop("enable_new_by_default", th.BooleanType, "Older flag derived from the above."),
        prop("is_type_locked", th.BooleanType, "Destination types locked to the source's."),
        prop("schema_count", th.IntegerType, "Source schemas in the config."),
        prop("table_count", th.IntegerType, "Source tables in the config."),
        prop("enabled_table_count", th.IntegerType, "Tables enabled, in enabled schemas."),
        prop(
            "schema_config_column_count",
            th.IntegerType,
            "Columns listed in the bulk config (only those a user changed).",
        ),
    ).to_dict()

    @override
    def rows(self, config: FlatConfig, context: dict[str, Any]) -> Iterator[Row]:
        yield dict(config.settings)


class ConnectionSchemasStream(_SchemaConfigStream):
    """Source schemas of each connection and the destination schema they load into."""

    name = "connection_schemas"
    primary_keys = ("connection_id", "schema_name")
    schema = th.PropertiesList(
        *CONNECTION_KEY,
        key("schema_name", "Source schema name (case-sensitive, as in the source)."),
        prop("name_in_destination", th.StringType, "Destination schema name."),
        prop("enabled", th.BooleanType, "Whether the schema is synced."),
        prop("table_count", th.IntegerType, "Tables of the schema in the config."),
        prop("enabled_table_count", th.IntegerType, "Tables of the schema that are enabled."),
    ).to_dict()

    @override
    def rows(self, config: FlatConfig, context: dict[str, Any]) -> Iterator[Row]:
        yield from config.schemas


class ConnectionTablesStream(_SchemaConfigStream):
    """Source tables of each connection: destination name, enabled flag, sync mode."""

    name = "connection_tables"
    primary_keys = ("connection_id", "schema_name", "table_name")
    schema = th.PropertiesList(
        *CONNECTION_KEY,
        key("schema_name", "Source schema name."),
        key("table_name", "Source table name (case-sensitive)."),
        prop("name_in_destination", th.StringType, "Destination table name."),
        prop("enabled", th.BooleanType, "Whether the table is enabled (see schema_enabled)."),
        prop("schema_enabled", th.BooleanType, "Whether its schema is enabled."),
        prop("sync_mode", th.StringType, "SOFT_DELETE, HISTORY or LIVE; null if not switchable."),
        prop("supports_columns_config", th.BooleanType, "Columns can be configured."),
        prop("supports_history_mode", th.BooleanType, "History mode is available."),
        prop("enabled_patch_settings", PATCH_SETTINGS, "Whether the table may be disabled."),
        prop(
            "object_key",
            th.StringType,
            "The table's key in schema_changes.object_key (schema and table names).",
        ),
    ).to_dict()

    @override
    def rows(self, config: FlatConfig, context: dict[str, Any]) -> Iterator[Row]:
        for table in config.tables:
            row = dict(table)
            row.pop("schema_name_in_destination", None)
            row["object_key"] = object_key(row["schema_name"], row["table_name"])
            yield row


class ConnectionColumnsStream(_SchemaConfigStream):
    """Column settings: from the bulk config, or the full list when ``column_details``."""

    name = "connection_columns"
    primary_keys = ("connection_id", "schema_name", "table_name", "column_name")
    schema = th.PropertiesList(
        *CONNECTION_KEY,
        key("schema_name", "Source schema name."),
        key("table_name", "Source table name."),
        key("column_name", "Source column name (case-sensitive)."),
        prop("name_in_destination", th.StringType, "Destination column name."),
        prop("enabled", th.BooleanType, "Whether the column is synced."),
        prop("hashed", th.BooleanType, "Whether values are hashed in the destination."),
        prop("is_primary_key", th.BooleanType, "Whether the column is (part of) the key."),
        prop("enabled_patch_settings", PATCH_SETTINGS, "Whether the column may be disabled."),
        prop(
            "config_source",
            th.StringType,
            "'schema_config' (bulk config: only user-changed columns) or "
            "'columns_endpoint' (full per-table list, setting column_details).",
        ),
        prop(
            "in_schema_config",
            th.BooleanType,
            "Listed in the bulk config, i.e. a user changed the column's settings.",
        ),
        prop(
            "object_key",
            th.StringType,
            "The column's key in schema_changes.object_key (schema, table, column names).",
        ),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = CallBudget(
            int(self.config.get("column_request_budget", DEFAULT_COLUMN_REQUEST_BUDGET))
        )
        self.detail_failures: dict[str, int] = {}
        self.detail_tables = 0

    @property
    def column_details(self) -> bool:
        """Whether the full per-table column lists were asked for."""
        return bool(self.config.get("column_details", False))

    @override
    def rows(self, config: FlatConfig, context: dict[str, Any]) -> Iterator[Row]:
        for column in self._columns(config, context):
            names = (column["schema_name"], column["table_name"], column["column_name"])
            yield {**column, "object_key": object_key(*names)}

    def _columns(self, config: FlatConfig, context: dict[str, Any]) -> Iterator[Row]:
        if not self.column_details:
            yield from config.columns
            return
        bulk = config.columns_by_table()
        detail = self._connection_connected(context)
        for table in config.tables:
            names = (table["schema_name"], table["table_name"])
            rows = bulk.get(names, [])
            if detail and _wants_full_columns(table):
                full = self._full_columns(context, *names)
                if full is not None:
                    rows = merge_columns(*names, rows, full)
            yield from rows

    def _connection_connected(self, context: dict[str, Any]) -> bool:
        """Whether the connection being synced is ``connected`` (the endpoint needs it)."""
        current = self.services.current_connection or {}
        return current.get("id") == context["connection_id"] and (
            current.get("setup_state") == "connected"
        )

    def _full_columns(
        self, context: dict[str, Any], schema_name: str, table_name: str
    ) -> dict[str, dict[str, Any]] | None:
        """The table's full column map, or None (budget spent, failure: use bulk rows)."""
        connection_id = str(context["connection_id"])
        if not self.budget.take(connection_id):
            self._mark_partial()
            return None
        path = columns_path(connection_id, schema_name, table_name)
        try:
            data = self.fetch_data(path, context)
        except FivetranAuthError:
            raise
        except FivetranAPIError as exc:
            self._detail_failed(path, exc.status, exc.code, exc)
            return None
        except RetriableAPIError as exc:
            status = exc.response.status_code if exc.response is not None else None
            self._detail_failed(path, status, None, exc)
            return None
        if data is None:
            return None
        columns, malformed = endpoint_columns(data)
        if malformed:
            self.warn_once(
                "detail-malformed",
                "Column list of %s has entries that are not objects; they are left out: %s",
                path,
                "; ".join(malformed[:5]),
            )
        self.detail_tables += 1
        return columns

    def _mark_partial(self) -> None:
        """Some full lists are missing: the run must not flag their rows deleted.

        The base class then sends no ACTIVATE_VERSION for this stream (see activation.py).
        """
        self._resource_unavailable = True

    def _detail_failed(
        self, path: str, status: int | None, code: str | None, exc: Exception
    ) -> None:
        self._mark_partial()
        if status == 429:
            self.budget.stop("Fivetran's rate limit (HTTP 429)")
            self.warn_once(
                "detail-429",
                "Stopping per-table column requests for the rest of the run: %s. Tables "
                "not read yet keep their bulk schema-config columns.",
                exc,
            )
            return
        reason = code or f"HTTP {status}"
        self.detail_failures[reason] = self.detail_failures.get(reason, 0) + 1
        self.warn_once(
            f"detail-{reason}",
            "Could not read the full column list (%s): %s. The table keeps its bulk "
            "schema-config columns; further failures like this are counted in the summary.",
            path,
            exc,
        )

    @override
    def log_skips(self) -> None:
        super().log_skips()
        if not self.column_details:
            return
        budget = self.budget
        failures = ", ".join(f"{k}={v}" for k, v in sorted(self.detail_failures.items()))
        self.logger.info(
            "Stream '%s': full column lists read for %d tables with %d of %d budgeted "
            "requests; failed: %s.",
            self.name,
            self.detail_tables,
            budget.used,
            budget.limit,
            failures or "none",
        )
        if budget.left_out:
            self.logger.warning(
                "column_request_budget: the full column list was not read for %d enabled "
                "tables in %d connections (%s); they have only the columns a user changed "
                "(config_source 'schema_config'). Raise column_request_budget to cover "
                "them; Fivetran allows 5,000 source-interaction requests an hour "
                "(250 on trial accounts).",
                budget.left_out,
                len(budget.left_out_connections),
                budget.stopped or f"budget of {budget.limit} requests spent",
            )


def _wants_full_columns(table: Row) -> bool:
    """Enabled tables in enabled schemas whose columns can be configured."""
    return (
        table["enabled"] is True
        and table["schema_enabled"] is True
        and table["supports_columns_config"] is not False
    )


class TableLineageStream(_SchemaConfigStream):
    """One row per source table -> destination table, through one connection."""

    @override
    def prefetch_jobs(self, context: dict[str, Any]) -> Iterable[tuple[Hashable, Any]]:
        # The destination's details (for its database name) are fetched ahead as well,
        # concurrently, instead of on the main thread when the first row needs them.
        group_id = as_str(context.get("group_id"))
        if group_id and self.services.schema_refresh.due(str(context["connection_id"])):
            yield from self.services.destination_prefetch_jobs(group_id, context)
        yield from super().prefetch_jobs(context)

    name = "table_lineage"
    primary_keys = ("connection_id", "source_schema", "source_table")
    warn_when_empty = True
    schema = th.PropertiesList(
        *CONNECTION_KEY,
        key("source_schema", "Source schema name (case-sensitive)."),
        key("source_table", "Source table name (case-sensitive)."),
        prop("connection_schema", th.StringType, "The connection's name (its 'schema' field)."),
        prop("destination_id", th.StringType, "Destination id (equals group_id)."),
        prop("destination_database", th.StringType, "Database / project / catalog, if known."),
        prop("destination_schema", th.StringType, "Destination schema name."),
        prop("destination_table", th.StringType, "Destination table name."),
        prop(
            "destination_fqn",
            th.StringType,
            "database.schema.table, unquoted (schema.table when no database is known).",
        ),
        prop("enabled", th.BooleanType, "Table and its schema are both enabled."),
        prop("schema_enabled", th.BooleanType, "Whether the source schema is enabled."),
        prop("table_enabled", th.BooleanType, "Whether the source table is enabled."),
        prop("sync_mode", th.StringType, "SOFT_DELETE, HISTORY or LIVE; null if not switchable."),
        prop(
            "lineage_rule",
            th.StringType,
            "How the destination names were found: 'name_in_destination' (from the "
            "config) or the derived rules, see docs/lineage.md.",
        ),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._database_unknown: set[str] = set()

    @override
    def rows(self, config: FlatConfig, context: dict[str, Any]) -> Iterator[Row]:
        group_id = as_str(context.get("group_id"))
        database = self._database(group_id, context)
        multi_schema = len(config.schemas) > 1
        for table in config.tables:
            name = destination_name(
                connection_schema=as_str(context.get("connection_schema")),
                source_schema=table["schema_name"],
                schema_name_in_destination=table["schema_name_in_destination"],
                source_table=table["table_name"],
                table_name_in_destination=table["name_in_destination"],
                multi_schema=multi_schema,
            )
            yield {
                "source_schema": table["schema_name"],
                "source_table": table["table_name"],
                "connection_schema": as_str(context.get("connection_schema")),
                "destination_id": group_id,
                "destination_database": database,
                "destination_schema": name.schema,
                "destination_table": name.table,
                "destination_fqn": destination_fqn(database, name.schema, name.table),
                "enabled": table["enabled"] is True and table["schema_enabled"] is True,
                "schema_enabled": table["schema_enabled"],
                "table_enabled": table["enabled"],
                "sync_mode": table["sync_mode"],
                "lineage_rule": name.rule,
            }

    def _database(self, group_id: str | None, context: dict[str, Any]) -> str | None:
        """The destination's database; None (warned once) when it cannot be read."""
        if not group_id or group_id in self._database_unknown:
            return None
        try:
            return self.services.destination_database(group_id, context)
        except FivetranAPIError as exc:
            self._database_unknown.add(group_id)
            self.warn_once(
                "database",
                "Could not read the database of destination %s (%s); its lineage rows "
                "have no destination_database.",
                group_id,
                exc,
            )
            return None


class SchemaChangesStream(SelfCommittedPartitions, _SchemaConfigStream):
    """A row each time a table's or a listed column's settings change (change-only).

    Compares the connection's schema config with the fingerprint kept in its state
    partition (see :mod:`tap_fivetran_meta.rules.schema_changes`). The first read of a
    connection only records the fingerprint: changes are reported from the next run
    on. Each object's entry in the fingerprint is updated right after its rows were
    written, so an interrupted run never loses or repeats a change.
    """

    name = "schema_changes"
    # Few rows, built from before/after values of any type: the SDK's conformance stays on.
    trusted_rows = False
    state_partitioning_keys = ("connection_id",)
    primary_keys = ("connection_id", "object_key", "observed_at", "change_type")
    replication_key = "observed_at"
    schema = th.PropertiesList(
        key("connection_id", "Connection id."),
        key(
            "object_key",
            "Short key of the table or column: base64 of the first 6 bytes of the MD5 of "
            "its source names joined by chr(31) (schema, table[, column]).",
        ),
        th.Property(
            "observed_at",
            DT,
            required=True,
            description="Start of the run that saw the change (UTC); the replication key.",
        ),
        key(
            "change_type", "added, removed, enabled, disabled, sync_mode_changed, hashed, unhashed."
        ),
        prop(
            "previous_observed_at",
            DT,
            "Start of the previous run that read this connection's schema config: the "
            "change happened between the two.",
        ),
        *CONNECTION_COLUMNS,
        prop("object_type", th.StringType, "'table' or 'column'."),
        prop("schema_name", th.StringType, "Source schema; null for removed objects."),
        prop("table_name", th.StringType, "Source table; null for removed objects."),
        prop("column_name", th.StringType, "Source column (column rows); null when removed."),
        prop(
            "previous_enabled",
            th.BooleanType,
            "Synced before (tables: enabled in an enabled schema); null when added.",
        ),
        prop("enabled", th.BooleanType, "Synced now; null when removed."),
        prop("previous_sync_mode", th.StringType, "Table sync mode before."),
        prop("sync_mode", th.StringType, "Table sync mode now."),
        prop("previous_hashed", th.BooleanType, "Column hashed before."),
        prop("hashed", th.BooleanType, "Column hashed now."),
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        if context is None:
            return
        partition = self.get_context_state(context)
        count = 0
        try:
            config = self.schema_config(dict(context))
            if config is None:
                return  # no schema config now: the fingerprint stays as it was
            for row in self._changes(dict(context), config, partition):
                count += 1
                yield row
        finally:
            clear_transient(partition)
        self.connection_done(dict(context), count)

    def _changes(
        self, context: dict[str, Any], config: FlatConfig, partition: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        observed_at = format_timestamp(self.services.run_started_at)
        previous = Fingerprint.from_state(partition)
        if previous is None:  # first read: the baseline, no rows
            commit(partition, REPLICATION_KEY, observed_at, **fingerprint_of(config).packed())
            return
        previous_observed = bookmark_value(partition, REPLICATION_KEY)
        stored = Fingerprint(dict(previous.tables), dict(previous.columns))
        common = {
            **self.connection_columns(context),
            "observed_at": observed_at,
            "previous_observed_at": previous_observed,
        }
        for change in changes(previous, config):
            with self.services.deferred_termination():  # the rows and their entry, or neither
                for row in change.rows:
                    yield {**common, **row}
                entries = stored.tables if change.kind == TABLE else stored.columns
                if change.code is None:
                    entries.pop(change.key, None)
                else:
                    entries[change.key] = change.code
                partition.update(stored.packed())
        commit(partition, REPLICATION_KEY, observed_at, **stored.packed())
