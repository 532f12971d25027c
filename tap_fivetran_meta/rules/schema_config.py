"""Flatten a connection's schema config (nested maps) into rows, one level at a time.

``GET /connections/{id}/schemas`` answers with maps keyed by *source* names::

    {"schema_change_handling": "ALLOW_ALL", "enable_new_by_default": true,
     "schemas": {"public": {"name_in_destination": "postgres_public", "enabled": true,
                            "tables": {"orders": {..., "columns": {"id": {...}}}}}}}

:func:`flatten` turns one such payload into a :class:`FlatConfig`: one settings row and
lists of schema, table and column rows. Keys are kept exactly as sent (they are
case-sensitive: ``Orders`` and ``orders`` are two tables). An entry that is not an
object is left out and named in ``FlatConfig.malformed``; it never costs the other
entries their rows. Values of the wrong type become None.

:func:`merge_columns` combines the bulk rows of one table with the full list from the
per-table ``/columns`` endpoint (the bulk response lists only user-changed columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

SCHEMA_CONFIG = "schema_config"
COLUMNS_ENDPOINT = "columns_endpoint"

Row = dict[str, Any]


@dataclass
class FlatConfig:
    """One connection's schema config as flat rows (without connection columns).

    Attributes:
        settings: Connection-level settings and counts.
        schemas: One row per source schema.
        tables: One row per source table, with its schema's destination name and flag.
        columns: One row per column listed in the bulk response.
        malformed: Where an entry was not a JSON object (left out).
    """

    settings: Row
    schemas: list[Row] = field(default_factory=list)
    tables: list[Row] = field(default_factory=list)
    columns: list[Row] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)

    def columns_by_table(self) -> dict[tuple[str, str], list[Row]]:
        """Bulk column rows grouped by (schema name, table name)."""
        grouped: dict[tuple[str, str], list[Row]] = {}
        for row in self.columns:
            grouped.setdefault((row["schema_name"], row["table_name"]), []).append(row)
        return grouped


def flatten(data: Any) -> FlatConfig:
    """Flatten the ``data`` object of a ``/schemas`` response.

    Args:
        data: The response's ``data`` (anything: a non-object gives no schemas).

    Returns:
        The rows; ``settings`` counts what was found.
    """
    body = data if isinstance(data, dict) else {}
    flat = FlatConfig(settings={})
    for schema_name, schema in _entries(body.get("schemas"), "schemas", flat.malformed):
        _add_schema(flat, schema_name, schema)
    flat.settings = {
        "schema_change_handling": _str(body.get("schema_change_handling")),
        "enable_new_by_default": _bool(body.get("enable_new_by_default")),
        "is_type_locked": _bool(body.get("is_type_locked")),
        "schema_count": len(flat.schemas),
        "table_count": len(flat.tables),
        "enabled_table_count": sum(1 for t in flat.tables if t["enabled"] and t["schema_enabled"]),
        "schema_config_column_count": len(flat.columns),
    }
    return flat


def _add_schema(flat: FlatConfig, schema_name: str, schema: dict[str, Any]) -> None:
    where = f"schemas[{schema_name!r}].tables"
    tables = list(_entries(schema.get("tables"), where, flat.malformed))
    schema_row = {
        "schema_name": schema_name,
        "name_in_destination": _str(schema.get("name_in_destination")),
        "enabled": _bool(schema.get("enabled")),
        "table_count": len(tables),
        "enabled_table_count": sum(1 for _, t in tables if t.get("enabled") is True),
    }
    flat.schemas.append(schema_row)
    for table_name, table in tables:
        flat.tables.append(table_row(schema_row, table_name, table))
        where = f"schemas[{schema_name!r}].tables[{table_name!r}].columns"
        for column_name, column in _entries(table.get("columns"), where, flat.malformed):
            flat.columns.append(
                column_row(schema_name, table_name, column_name, column, SCHEMA_CONFIG)
            )


def table_row(schema_row: Row, table_name: str, table: dict[str, Any]) -> Row:
    """One table row; carries its schema's destination name and flag for lineage."""
    return {
        "schema_name": schema_row["schema_name"],
        "table_name": table_name,
        "name_in_destination": _str(table.get("name_in_destination")),
        "enabled": _bool(table.get("enabled")),
        "schema_enabled": schema_row["enabled"],
        "schema_name_in_destination": schema_row["name_in_destination"],
        "sync_mode": _str(table.get("sync_mode")),
        "supports_columns_config": _bool(table.get("supports_columns_config")),
        "supports_history_mode": _bool(table.get("supports_history_mode")),
        "enabled_patch_settings": patch_settings(table.get("enabled_patch_settings")),
    }


def column_row(
    schema_name: str, table_name: str, column_name: str, column: dict[str, Any], source: str
) -> Row:
    """One column row; ``source`` tells which endpoint it came from."""
    return {
        "schema_name": schema_name,
        "table_name": table_name,
        "column_name": column_name,
        "name_in_destination": _str(column.get("name_in_destination")),
        "enabled": _bool(column.get("enabled")),
        "hashed": _bool(column.get("hashed")),
        "is_primary_key": _bool(column.get("is_primary_key")),
        "enabled_patch_settings": patch_settings(column.get("enabled_patch_settings")),
        "config_source": source,
        "in_schema_config": source == SCHEMA_CONFIG,
    }


def patch_settings(value: Any) -> Row | None:
    """``enabled_patch_settings`` reduced to its documented fields (None if absent)."""
    if not isinstance(value, dict):
        return None
    return {
        "allowed": _bool(value.get("allowed")),
        "reason_code": _str(value.get("reason_code")),
        "reason": _str(value.get("reason")),
    }


def endpoint_columns(data: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The ``columns`` map of a per-table ``/columns`` response and its malformed entries."""
    body = data if isinstance(data, dict) else {}
    malformed: list[str] = []
    return dict(_entries(body.get("columns"), "columns", malformed)), malformed


def merge_columns(
    schema_name: str,
    table_name: str,
    bulk: list[Row],
    full: dict[str, dict[str, Any]],
) -> list[Row]:
    """One row per column of a table: the full list wins, bulk-only columns are kept.

    Args:
        schema_name: Source schema name.
        table_name: Source table name.
        bulk: The table's rows from the bulk response (user-changed columns).
        full: Column name -> config from the per-table ``/columns`` endpoint.

    Returns:
        Rows from the endpoint (``in_schema_config`` tells which were also in the bulk
        response), then bulk rows of columns the endpoint did not list.
    """
    in_bulk = {row["column_name"] for row in bulk}
    rows = []
    for column_name, column in full.items():
        row = column_row(schema_name, table_name, column_name, column, COLUMNS_ENDPOINT)
        row["in_schema_config"] = column_name in in_bulk
        rows.append(row)
    rows.extend(row for row in bulk if row["column_name"] not in full)
    return rows


def columns_path(connection_id: str, schema_name: str, table_name: str) -> str:
    """Path of the per-table columns endpoint; every name is percent-encoded."""
    parts = (quote(connection_id, safe=""), quote(schema_name, safe=""), quote(table_name, safe=""))
    return "/connections/{}/schemas/{}/tables/{}/columns".format(*parts)


def _entries(value: Any, where: str, malformed: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(key, object) pairs of a map; non-object values are reported, not returned."""
    if value is None:
        return []
    if not isinstance(value, dict):
        malformed.append(f"{where}: not an object")
        return []
    entries = []
    for name, body in value.items():
        if isinstance(body, dict):
            entries.append((str(name), body))
        else:
            malformed.append(f"{where}[{name!r}]: not an object")
    return entries


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass
class CallBudget:
    """At most ``limit`` per-table ``/columns`` calls per run; counts what it turned away.

    Attributes:
        limit: Calls allowed in the run.
        used: Calls made so far.
        left_out: Tables that qualified for a call but got none (budget spent or stopped).
        left_out_connections: Connections with at least one such table.
        stopped: Why calls stopped before the budget was spent (e.g. rate limited).
    """

    limit: int
    used: int = 0
    left_out: int = 0
    left_out_connections: set[str] = field(default_factory=set)
    stopped: str | None = None

    def take(self, connection_id: str) -> bool:
        """Spend one call if any is left; otherwise count the table as left out."""
        if self.stopped is None and self.used < self.limit:
            self.used += 1
            return True
        self.left_out += 1
        self.left_out_connections.add(connection_id)
        return False

    def stop(self, reason: str) -> None:
        """Refuse every further call (the first reason is kept)."""
        self.stopped = self.stopped or reason
