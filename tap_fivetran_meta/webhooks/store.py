"""The webhook inbox: an append-only SQLite table written by the receiver, read by the tap.

Durability: the database runs in WAL mode with ``synchronous=FULL``, so every commit
is fsynced before the receiver answers 2xx. ``NORMAL`` would survive a crash of the
receiver process but may drop the last commits on power loss, and Fivetran never
resends a delivery it saw acknowledged.

Ordering: ``seq`` comes from ``AUTOINCREMENT`` (never reused, even after deletes; a
refused duplicate may leave a gap) and SQLite runs one write transaction at a time,
so rows become visible in ``seq`` order: a reader never sees a higher ``seq`` before
a lower one, and a ``seq > bookmark`` query cannot skip rows.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator
    from types import TracebackType

    from tap_fivetran_meta.webhooks.events import WebhookEvent

SCHEMA_VERSION = 1

COLUMNS = (
    "seq",
    "event_id",
    "received_at",
    "raw_body",
    "event",
    "created",
    "connector_type",
    "connection_id",
    "connection_name",
    "sync_id",
    "group_id",
    "status",
    "reason",
    "signature_verified",
)

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    raw_body TEXT NOT NULL,
    event TEXT,
    created TEXT,
    connector_type TEXT,
    connection_id TEXT,
    connection_name TEXT,
    sync_id TEXT,
    group_id TEXT,
    status TEXT,
    reason TEXT,
    signature_verified INTEGER NOT NULL CHECK (signature_verified IN (0, 1))
)
"""

# Only a repeated event_id is a "duplicate". Unlike INSERT OR IGNORE, this does not
# silently swallow NOT NULL or CHECK violations.
_INSERT = f"""
INSERT INTO webhook_events ({", ".join(COLUMNS[1:])})
VALUES ({", ".join("?" * (len(COLUMNS) - 1))})
ON CONFLICT (event_id) DO NOTHING
"""  # noqa: S608  (column names are constants)

_SELECT_AFTER = f"""
SELECT {", ".join(COLUMNS)} FROM webhook_events WHERE seq > ? ORDER BY seq
"""  # noqa: S608  (column names are constants)


class InboxError(RuntimeError):
    """The inbox file cannot be used (wrong format, newer schema, not WAL-capable)."""


@dataclass(frozen=True)
class StoreResult:
    """Outcome of storing one delivery.

    Attributes:
        seq: The new row's sequence number, or None for a duplicate.
        duplicate: True if a delivery with the same event_id was already stored.
    """

    seq: int | None
    duplicate: bool


class Inbox:
    """The writer side of the inbox; one instance is shared by all receiver threads.

    All statements go through one connection guarded by a lock, so threads never
    contend for SQLite's write lock among themselves; ``busy_timeout`` covers other
    processes (a second receiver, a manual cleanup) holding it briefly.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 10.0) -> None:
        """Open (creating if needed) the inbox database.

        Args:
            path: The SQLite file.
            busy_timeout_s: How long to wait for another process's write lock.

        Raises:
            InboxError: If the file is not a usable inbox.
        """
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                self.path,
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise InboxError(f"cannot open {self.path}: {exc}") from None
        try:
            self._prepare()
        except sqlite3.Error as exc:
            self._conn.close()
            raise InboxError(f"cannot use {self.path} as an inbox: {exc}") from None
        except BaseException:
            self._conn.close()
            raise

    def _prepare(self) -> None:
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise InboxError(f"{self.path} cannot use WAL mode (journal_mode={mode})")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_schema_version()
            self._conn.execute(_CREATE_TABLE)
            self._check_columns()
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _check_schema_version(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InboxError(
                f"{self.path} has inbox schema {version}; this version knows {SCHEMA_VERSION}"
            )

    def _check_columns(self) -> None:
        found = {row[1] for row in self._conn.execute("PRAGMA table_info(webhook_events)")}
        missing = [name for name in COLUMNS if name not in found]
        if missing:
            raise InboxError(f"{self.path} has a webhook_events table without {', '.join(missing)}")

    def add(
        self, event: WebhookEvent, *, received_at: str, signature_verified: bool
    ) -> StoreResult:
        """Store a delivery durably; returns once the commit is on disk.

        Args:
            event: The parsed delivery.
            received_at: When the receiver got it (UTC ISO 8601).
            signature_verified: Whether its signature was checked and matched.

        Returns:
            The new seq, or a duplicate marker if event_id was already stored.
        """
        values = (
            event.event_id,
            received_at,
            event.raw_body,
            event.event,
            event.created,
            event.connector_type,
            event.connection_id,
            event.connection_name,
            event.sync_id,
            event.group_id,
            event.status,
            event.reason,
            int(signature_verified),
        )
        with self._lock:
            cursor = self._conn.execute(_INSERT, values)
            if cursor.rowcount == 1:
                return StoreResult(seq=cursor.lastrowid, duplicate=False)
        return StoreResult(seq=None, duplicate=True)

    def count(self) -> int:
        """Return the number of stored events."""
        with self._lock:
            row = self._conn.execute("SELECT count(*) FROM webhook_events").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection (checkpointing the WAL if this is the last one)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Inbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open the inbox read-only (``mode=ro``), so a reader can never change it.

    Args:
        path: The SQLite file; it must exist.

    Returns:
        A read-only connection.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True)


def iter_events(path: str | os.PathLike[str], *, after_seq: int = 0) -> Iterator[dict[str, Any]]:
    """Yield stored events with ``seq > after_seq`` in ``seq`` order, one row at a time.

    The query runs in one read transaction: the result is a consistent snapshot and
    concurrent inserts by the receiver neither block nor appear in it.

    Args:
        path: The inbox file.
        after_seq: The last seq already processed.

    Yields:
        One dict per row, keyed by :data:`COLUMNS`.

    Raises:
        InboxError: If the file is not a webhook inbox.
    """
    conn = open_readonly(path)
    try:
        try:
            cursor = conn.execute(_SELECT_AFTER, (after_seq,))
        except sqlite3.DatabaseError as exc:
            raise InboxError(f"{path} is not a webhook inbox: {exc}") from None
        for row in cursor:
            yield dict(zip(COLUMNS, row, strict=True))
    finally:
        conn.close()
