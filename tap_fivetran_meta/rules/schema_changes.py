"""Schema-config changes between two runs, and the compact fingerprint they are found with.

``schema_changes`` writes a row only when a table's or a listed column's settings
changed since the tap last read that connection's schema config. To know what changed
without keeping the whole config in state, each connection's state partition keeps
two packed strings: one fixed-width entry per table and per listed column, made of a
short key (the first 6 bytes of the MD5 of the object's source names joined by
:data:`KEY_SEPARATOR`, in base64: :data:`KEY_LENGTH` characters) and a few characters
encoding its settings:

* table: enabled, schema enabled, sync mode (``1``/``0``/``-`` for true/false/null;
  ``S``/``H``/``L`` for SOFT_DELETE/HISTORY/LIVE, ``-`` none, ``?`` another value);
* column: enabled, hashed.

Names are not stored, so a *removed* object's row carries only its key; the dbt
model ``fivetran_meta__schema_changelog`` finds the names again from the last
``connection_tables`` / ``connection_columns`` rows, computing the same key in SQL
(macro ``fivetran_meta_object_key``). The MD5 is an identifier here, not a security
measure; 48 bits make a clash within one connection's tables negligible.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from tap_fivetran_meta.rules.schema_config import FlatConfig, Row

KEY_LENGTH = 8
KEY_BYTES = 6
KEY_SEPARATOR = "\x1f"
TABLE = "table"
COLUMN = "column"

ADDED = "added"
REMOVED = "removed"
ENABLED = "enabled"
DISABLED = "disabled"
SYNC_MODE_CHANGED = "sync_mode_changed"
HASHED = "hashed"
UNHASHED = "unhashed"
CHANGE_TYPES = (ADDED, REMOVED, ENABLED, DISABLED, SYNC_MODE_CHANGED, HASHED, UNHASHED)

_FLAG = {True: "1", False: "0", None: "-"}
_FLAG_VALUE = {code: value for value, code in _FLAG.items()}
_SYNC_MODE = {"SOFT_DELETE": "S", "HISTORY": "H", "LIVE": "L", None: "-"}
_SYNC_MODE_VALUE = {code: value for value, code in _SYNC_MODE.items()}
_OTHER_SYNC_MODE = "?"
TABLE_CODE_LENGTH = 3
COLUMN_CODE_LENGTH = 2


def object_key(*names: str) -> str:
    """The short, stable key of a table ``(schema, table)`` or column ``(.., column)``."""
    digest = hashlib.md5(KEY_SEPARATOR.join(names).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest[:KEY_BYTES]).decode("ascii")


@dataclass(frozen=True)
class TableSettings:
    """The tracked settings of one table."""

    enabled: bool | None
    schema_enabled: bool | None
    sync_mode: str | None

    @property
    def effective_enabled(self) -> bool | None:
        """Whether the table is synced: enabled in an enabled schema (None if unknown)."""
        if self.enabled is False or self.schema_enabled is False:
            return False
        if self.enabled is None or self.schema_enabled is None:
            return None
        return True

    def code(self) -> str:
        """The settings as :data:`TABLE_CODE_LENGTH` characters."""
        mode = _SYNC_MODE.get(self.sync_mode, _OTHER_SYNC_MODE)
        return _FLAG[self.enabled] + _FLAG[self.schema_enabled] + mode

    @classmethod
    def from_code(cls, code: str) -> TableSettings:
        """Decode :meth:`code` (an unknown sync mode decodes as None)."""
        return cls(
            _FLAG_VALUE.get(code[0]), _FLAG_VALUE.get(code[1]), _SYNC_MODE_VALUE.get(code[2])
        )


@dataclass(frozen=True)
class ColumnSettings:
    """The tracked settings of one column listed in the schema config."""

    enabled: bool | None
    hashed: bool | None

    def code(self) -> str:
        """The settings as :data:`COLUMN_CODE_LENGTH` characters."""
        return _FLAG[self.enabled] + _FLAG[self.hashed]

    @classmethod
    def from_code(cls, code: str) -> ColumnSettings:
        """Decode :meth:`code`."""
        return cls(_FLAG_VALUE.get(code[0]), _FLAG_VALUE.get(code[1]))


@dataclass
class Fingerprint:
    """One connection's schema config as key -> settings code, for tables and columns."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    def packed(self) -> dict[str, str]:
        """The two packed strings kept in state (entries sorted by key)."""
        return {"tables": pack(self.tables), "columns": pack(self.columns)}

    @classmethod
    def from_state(cls, partition: Mapping[str, Any]) -> Fingerprint | None:
        """The fingerprint kept in a state partition; None when there is none (or garbage)."""
        tables, columns = partition.get("tables"), partition.get("columns")
        if not isinstance(tables, str) or not isinstance(columns, str):
            return None
        unpacked_tables = unpack(tables, TABLE_CODE_LENGTH)
        unpacked_columns = unpack(columns, COLUMN_CODE_LENGTH)
        if unpacked_tables is None or unpacked_columns is None:
            return None
        return cls(unpacked_tables, unpacked_columns)


def pack(entries: Mapping[str, str]) -> str:
    """Concatenate ``key + code`` entries, sorted by key."""
    return "".join(key + entries[key] for key in sorted(entries))


def unpack(packed: str, code_length: int) -> dict[str, str] | None:
    """Split a packed string back into key -> code; None when it is malformed."""
    width = KEY_LENGTH + code_length
    if len(packed) % width:
        return None
    entries = {}
    for start in range(0, len(packed), width):
        entry = packed[start : start + width]
        entries[entry[:KEY_LENGTH]] = entry[KEY_LENGTH:]
    return entries


def table_settings(row: Row) -> TableSettings:
    """Tracked settings of a flattened table row."""
    return TableSettings(row.get("enabled"), row.get("schema_enabled"), row.get("sync_mode"))


def column_settings(row: Row) -> ColumnSettings:
    """Tracked settings of a flattened column row."""
    return ColumnSettings(row.get("enabled"), row.get("hashed"))


def fingerprint_of(config: FlatConfig) -> Fingerprint:
    """The fingerprint of a flattened schema config."""
    return Fingerprint(
        tables={
            object_key(t["schema_name"], t["table_name"]): table_settings(t).code()
            for t in config.tables
        },
        columns={
            object_key(c["schema_name"], c["table_name"], c["column_name"]): column_settings(
                c
            ).code()
            for c in config.columns
        },
    )


@dataclass
class ObjectChange:
    """The rows one table or column gets in one observation, and its new state entry."""

    kind: str  # TABLE or COLUMN
    key: str
    code: str | None  # None: the object is gone
    rows: list[Row]


def changes(previous: Fingerprint, config: FlatConfig) -> Iterator[ObjectChange]:
    """What changed from ``previous`` to ``config``: current objects first, then removals.

    Rows hold the change columns only (no connection columns, no observation times).
    """
    seen_tables: set[str] = set()
    for table in config.tables:
        key = object_key(table["schema_name"], table["table_name"])
        seen_tables.add(key)
        current = table_settings(table)
        names = {"schema_name": table["schema_name"], "table_name": table["table_name"]}
        old = previous.tables.get(key)
        rows = _table_rows(None if old is None else TableSettings.from_code(old), current)
        if old != current.code():
            yield ObjectChange(
                TABLE, key, current.code(), [_row(TABLE, key, names, r) for r in rows]
            )
    seen_columns: set[str] = set()
    for column in config.columns:
        names = {k: column[k] for k in ("schema_name", "table_name", "column_name")}
        key = object_key(*names.values())
        seen_columns.add(key)
        current_column = column_settings(column)
        old = previous.columns.get(key)
        rows = _column_rows(None if old is None else ColumnSettings.from_code(old), current_column)
        if old != current_column.code():
            yield ObjectChange(
                COLUMN, key, current_column.code(), [_row(COLUMN, key, names, r) for r in rows]
            )
    for key in sorted(set(previous.tables) - seen_tables):
        gone = TableSettings.from_code(previous.tables[key])
        yield ObjectChange(TABLE, key, None, [_row(TABLE, key, {}, _removed_table(gone))])
    for key in sorted(set(previous.columns) - seen_columns):
        gone_column = ColumnSettings.from_code(previous.columns[key])
        yield ObjectChange(COLUMN, key, None, [_row(COLUMN, key, {}, _removed_column(gone_column))])


def _row(kind: str, key: str, names: Mapping[str, str], values: Row) -> Row:
    return {
        "object_key": key,
        "object_type": kind,
        "schema_name": names.get("schema_name"),
        "table_name": names.get("table_name"),
        "column_name": names.get("column_name"),
        **values,
    }


def _values(
    change_type: str,
    *,
    enabled: tuple[bool | None, bool | None] = (None, None),
    sync_mode: tuple[str | None, str | None] = (None, None),
    hashed: tuple[bool | None, bool | None] = (None, None),
) -> Row:
    """One change's value columns; each pair is (previous, current)."""
    return {
        "change_type": change_type,
        "previous_enabled": enabled[0],
        "enabled": enabled[1],
        "previous_sync_mode": sync_mode[0],
        "sync_mode": sync_mode[1],
        "previous_hashed": hashed[0],
        "hashed": hashed[1],
    }


def _table_rows(old: TableSettings | None, new: TableSettings) -> list[Row]:
    if old is None:
        return [
            _values(ADDED, enabled=(None, new.effective_enabled), sync_mode=(None, new.sync_mode))
        ]
    enabled = (old.effective_enabled, new.effective_enabled)
    sync_mode = (old.sync_mode, new.sync_mode)
    types = []
    if enabled[0] != enabled[1] and enabled[1] is not None:
        types.append(ENABLED if enabled[1] else DISABLED)
    if old.code()[2] != new.code()[2]:
        types.append(SYNC_MODE_CHANGED)
    return [_values(t, enabled=enabled, sync_mode=sync_mode) for t in types]


def _removed_table(old: TableSettings) -> Row:
    return _values(REMOVED, enabled=(old.effective_enabled, None), sync_mode=(old.sync_mode, None))


def _column_rows(old: ColumnSettings | None, new: ColumnSettings) -> list[Row]:
    if old is None:
        return [_values(ADDED, enabled=(None, new.enabled), hashed=(None, new.hashed))]
    enabled, hashed = (old.enabled, new.enabled), (old.hashed, new.hashed)
    types = []
    if enabled[0] != enabled[1] and enabled[1] is not None:
        types.append(ENABLED if enabled[1] else DISABLED)
    if hashed[0] != hashed[1] and hashed[1] is not None:
        types.append(HASHED if hashed[1] else UNHASHED)
    return [_values(t, enabled=enabled, hashed=hashed) for t in types]


def _removed_column(old: ColumnSettings) -> Row:
    return _values(REMOVED, enabled=(old.enabled, None), hashed=(old.hashed, None))
