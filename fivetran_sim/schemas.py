"""Schema configuration (schemas -> tables -> columns), derived lazily per connection.

The *shape* of a connection's config (names, flags, column counts) comes from a generator
seeded by the connection's key, so the bulk ``/schemas`` endpoint, the per-table
``/columns`` endpoint and :meth:`Simulator.expected_counts` always agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from fivetran_sim import catalog as cat
from fivetran_sim.ids import mix64
from fivetran_sim.model import Connection, JsonDict

_PK_PATCH: JsonDict = {
    "allowed": False,
    "reason_code": "SYSTEM_COLUMN",
    "reason": "The column does not support exclusion as it is a Primary Key",
}
_SYSTEM_TABLE_PATCH: JsonDict = {
    "allowed": False,
    "reason_code": "SYSTEM_TABLE",
    "reason": "The table is required by the connector",
}


@dataclass(frozen=True)
class TableShape:
    """One table of a schema config.

    Attributes:
        name: Source table name (map key).
        dest: ``name_in_destination``.
        enabled: Whether the table is synced.
        sync_mode: ``SOFT_DELETE``/``HISTORY``/``LIVE`` or ``None`` if not switchable.
        supports_columns: ``supports_columns_config``.
        system: Table cannot be excluded (``enabled_patch_settings.allowed`` false).
        columns: Total number of columns (as returned by ``/columns``).
        modified: Indexes of the columns a user changed (in the bulk response).
        salt: Hash salt for the column details.
    """

    name: str
    dest: str
    enabled: bool
    sync_mode: str | None
    supports_columns: bool
    system: bool
    columns: int
    modified: tuple[int, ...]
    salt: int


@dataclass(frozen=True)
class SchemaShape:
    """One source schema with its tables."""

    name: str
    dest: str
    enabled: bool
    tables: tuple[TableShape, ...]


@dataclass(frozen=True)
class ConfigShape:
    """A connection's whole schema config."""

    schema_change_handling: str
    enable_new_by_default: bool
    schemas: tuple[SchemaShape, ...]

    @property
    def table_count(self) -> int:
        """Number of tables over all schemas."""
        return sum(len(schema.tables) for schema in self.schemas)

    @property
    def modified_column_count(self) -> int:
        """Number of columns in the bulk response."""
        return sum(len(t.modified) for s in self.schemas for t in s.tables)

    @property
    def column_count(self) -> int:
        """Number of columns over all ``/columns`` responses."""
        return sum(t.columns for s in self.schemas for t in s.tables)

    def table(self, schema: str, table: str) -> TableShape | None:
        """Look a table up by its source names.

        Args:
            schema: Source schema name.
            table: Source table name.

        Returns:
            The table, or ``None``.
        """
        for candidate in self.schemas:
            if candidate.name == schema:
                for shape in candidate.tables:
                    if shape.name == table:
                        return shape
        return None


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _source_names(connection: Connection, rng: random.Random) -> list[tuple[str, list[str]]]:
    """Source schema names with their source table names."""
    schema_name = connection.schema
    if connection.kind == cat.FILE:
        schema_part, _, table_part = schema_name.partition(".")
        return [(schema_part, [table_part or "table"])]
    if connection.kind == cat.DATABASE:
        schemas = rng.sample(cat.DATABASE_SCHEMAS, rng.randint(1, 3))
        return [(s, rng.sample(cat.DATABASE_TABLES, rng.randint(2, 8))) for s in schemas]
    if connection.kind == cat.EVENTS:
        pool: tuple[str, ...] = cat.EVENT_TABLES
    elif connection.kind == cat.FUNCTION:
        pool = cat.FUNCTION_TABLES
    else:
        pool = cat.APP_TABLES.get(connection.service, cat.GENERIC_APP_TABLES)
    tables = rng.sample(pool, rng.randint(2, min(8, len(pool))))
    if connection.service in cat.CAMEL_CASE_SERVICES:
        tables = [_camel(t) for t in tables]
    return [(schema_name, tables)]


def _table(rng: random.Random, key: int, name: str, salt: int) -> TableShape:
    dest = name.lower() if rng.random() >= 0.08 else f"{name.lower()}_v2"
    supports_history = rng.random() < 0.6
    supports_columns = rng.random() < 0.9
    columns = rng.randint(3, 12)
    modified: tuple[int, ...] = ()
    if supports_columns:
        modified = tuple(sorted(rng.sample(range(1, columns), rng.randint(0, min(3, columns - 1)))))
    return TableShape(
        name=name,
        dest=dest,
        enabled=rng.random() >= 0.12,
        sync_mode=(
            rng.choice(("SOFT_DELETE", "SOFT_DELETE", "HISTORY", "LIVE"))
            if supports_history
            else None
        ),
        supports_columns=supports_columns,
        system=rng.random() < 0.05,
        columns=columns,
        modified=modified,
        salt=mix64(key, salt),
    )


def build_shape(connection: Connection) -> ConfigShape:
    """Derive the schema-config shape of a connection.

    Args:
        connection: A connection that has a schema config.

    Returns:
        The shape.
    """
    key = connection.plan.key
    rng = random.Random(mix64(key, 11))
    schemas: list[SchemaShape] = []
    for s_index, (source, table_names) in enumerate(_source_names(connection, rng)):
        if connection.kind == cat.DATABASE:
            dest = f"{connection.schema}_{source}".lower()
        else:
            dest = source.lower()
        tables = tuple(
            _table(rng, key, name, s_index * 100 + t_index)
            for t_index, name in enumerate(table_names)
        )
        schemas.append(SchemaShape(source, dest, rng.random() >= 0.1, tables))
    return ConfigShape(
        schema_change_handling=rng.choice(("ALLOW_ALL", "ALLOW_ALL", "ALLOW_COLUMNS", "BLOCK_ALL")),
        enable_new_by_default=rng.random() < 0.7,
        schemas=tuple(schemas),
    )


def columns_json(shape: TableShape, camel: bool, only_modified: bool) -> JsonDict:
    """Render a table's columns map.

    Args:
        shape: The table.
        camel: Source column names are CamelCase (e.g. Salesforce).
        only_modified: Keep only user-modified columns (bulk ``/schemas`` response).

    Returns:
        Source column name -> column config.
    """
    rng = random.Random(shape.salt)
    names = ["id", *rng.sample(cat.COLUMN_NAMES, shape.columns - 1)]
    result: JsonDict = {}
    for index, name in enumerate(names):
        modified = index in shape.modified
        change = rng.random()
        if only_modified and not modified:
            continue
        source = _camel(name) if camel else name
        column: JsonDict = {
            "name_in_destination": name,
            "enabled": not (modified and change < 0.5),
            "hashed": modified and change >= 0.4,
            "is_primary_key": index == 0,
            "enabled_patch_settings": dict(_PK_PATCH) if index == 0 else {"allowed": True},
        }
        result[source] = column
    return result


def config_json(connection: Connection, shape: ConfigShape) -> JsonDict:
    """Render the bulk ``/schemas`` payload.

    Args:
        connection: The connection.
        shape: Its config shape.

    Returns:
        The ``data`` object.
    """
    camel = connection.service in cat.CAMEL_CASE_SERVICES
    schemas: JsonDict = {}
    for schema in shape.schemas:
        tables: JsonDict = {}
        for table in schema.tables:
            tables[table.name] = _table_json(table, camel)
        schemas[schema.name] = {
            "name_in_destination": schema.dest,
            "enabled": schema.enabled,
            "tables": tables,
        }
    return {
        "enable_new_by_default": shape.enable_new_by_default,
        "schema_change_handling": shape.schema_change_handling,
        "schemas": schemas,
    }


def _table_json(table: TableShape, camel: bool) -> JsonDict:
    body: JsonDict = {"name_in_destination": table.dest, "enabled": table.enabled}
    if table.sync_mode is not None:
        body["sync_mode"] = table.sync_mode
    body["supports_columns_config"] = table.supports_columns
    body["supports_history_mode"] = table.sync_mode is not None
    body["enabled_patch_settings"] = (
        dict(_SYSTEM_TABLE_PATCH) if table.system else {"allowed": True}
    )
    body["columns"] = columns_json(table, camel, only_modified=True)
    return body


def edit_table(
    shape: ConfigShape,
    schema: str,
    table: str,
    *,
    remove: bool = False,
    enabled: bool | None = None,
    sync_mode: str | None = None,
) -> ConfigShape:
    """A copy of ``shape`` with one table changed (what a user does in Fivetran's UI).

    A table not in the shape is added (to an existing schema), unless ``remove``.

    Args:
        shape: The connection's config shape.
        schema: Source schema name (must exist).
        table: Source table name.
        remove: Drop the table from the config (it vanished from the source).
        enabled: New ``enabled`` value, if given.
        sync_mode: New ``sync_mode`` (SOFT_DELETE, HISTORY, LIVE), if given.

    Returns:
        The new shape.

    Raises:
        KeyError: If the schema does not exist, or a removed table does not.
    """
    schemas = list(shape.schemas)
    index = next((i for i, s in enumerate(schemas) if s.name == schema), None)
    if index is None:
        raise KeyError(f"{schema!r} is not a schema of this connection")
    tables = {t.name: t for t in schemas[index].tables}
    if remove:
        if tables.pop(table, None) is None:
            raise KeyError(f"{schema}.{table} is not a table of this connection")
    else:
        current = tables.get(table) or _table(random.Random(table), 0, table, len(tables))
        changes: dict[str, object] = {}
        if enabled is not None:
            changes["enabled"] = enabled
        if sync_mode is not None:
            changes["sync_mode"] = sync_mode
        tables[table] = replace(current, **changes)  # type: ignore[arg-type]
    schemas[index] = replace(schemas[index], tables=tuple(tables.values()))
    return replace(shape, schemas=tuple(schemas))
