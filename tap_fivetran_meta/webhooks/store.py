"""The webhook inbox: an append-only SQLite table written by the receiver, read by the tap.

Durability: the database runs in WAL mode with ``synchronous=FULL``, so every commit
is fsynced before the receiver answers 2xx. ``NORMAL`` would survive a crash of the
receiver process but may drop the last commits on power loss, and Fivetran never
resends a delivery it saw acknowledged.

Ordering: ``seq`` comes from ``AUTOINCREMENT`` (never reused, even after deletes; a
refused duplicate may leave a gap) and SQLite runs one write transaction at a time,
so rows become visible in ``seq`` order: a reader never sees a higher ``seq`` before
a lower one, and a ``seq > bookmark`` query cannot skip rows.

Identity: ``seq`` only means something within one file. When an inbox is deleted and
created again, numbering restarts at 1, and a bookmark taken from the old file would
skip the new file's first events. So each inbox gets a random ``inbox_id`` when it is
created (table ``inbox_meta``); the tap keeps it next to its bookmark and starts from
the beginning when the id changes.

Health: the writer remembers its last write failure (kind, message, how many) until
a write succeeds again, so ``/healthz`` can say the inbox is not writable, and logs
one line per kind of failure instead of one per delivery.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tap_fivetran_meta.rules.timeutil import format_timestamp, utcnow
from tap_fivetran_meta.webhooks.inbox_errors import (
    NEWER_SCHEMA,
    NOT_AN_INBOX,
    InboxError,
    InboxWriteError,
    check_inbox_path,
    from_sqlite_error,
)
from tap_fivetran_meta.webhooks.ratelog import RateLimitedLog

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

    from tap_fivetran_meta.webhooks.events import WebhookEvent

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "Inbox",
    "InboxError",
    "InboxHealth",
    "InboxIdentity",
    "InboxSnapshot",
    "InboxWriteError",
    "StoreResult",
    "iter_events",
    "open_readonly",
    "open_snapshot",
]

LOG = logging.getLogger(__name__)

#: 1: the webhook_events table. 2: adds inbox_meta (the inbox_id).
SCHEMA_VERSION = 2
#: Below this much free space the inbox is reported as not writable.
LOW_DISK_BYTES = 1024 * 1024
_PROBE_BYTES = 4096

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

_CREATE_META = """
CREATE TABLE IF NOT EXISTS inbox_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
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

_LAST_SEQ = "SELECT seq FROM sqlite_sequence WHERE name = 'webhook_events'"


def new_inbox_id() -> str:
    """A fresh inbox identity: 32 random lower-case hex characters."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class StoreResult:
    """Outcome of storing one delivery.

    Attributes:
        seq: The new row's sequence number, or None for a duplicate.
        duplicate: True if a delivery with the same event_id was already stored.
    """

    seq: int | None
    duplicate: bool


@dataclass
class WriteFailure:
    """The write problem the inbox has had since its last successful write.

    Attributes:
        kind: The kind of failure (see :mod:`.inbox_errors`), e.g. ``disk_full``.
        message: One line saying what is wrong.
        since: When the first of these failures happened (UTC).
        failures: How many writes failed since the last success.
    """

    kind: str
    message: str
    since: str
    failures: int = 1

    def as_dict(self) -> dict[str, Any]:
        """The failure as JSON-ready fields."""
        return {
            "kind": self.kind,
            "message": self.message,
            "since": self.since,
            "failures": self.failures,
        }


@dataclass(frozen=True)
class InboxHealth:
    """What ``/healthz`` reports about the inbox.

    Attributes:
        ok: True when the inbox can be read and written.
        events: Stored events, or None if they could not be counted.
        inbox_id: The inbox's identity.
        writable: False after a failed write (until one succeeds) or on a nearly full disk.
        problem: Why the inbox is not ok, in one line (None when ok).
        last_write_at: When a delivery was last stored by this process (UTC).
        last_write_error: The current write failure, if any.
        disk_free_bytes: Free space for unprivileged users on the inbox's file system.
    """

    ok: bool
    events: int | None
    inbox_id: str
    writable: bool
    problem: str | None
    last_write_at: str | None
    last_write_error: WriteFailure | None
    disk_free_bytes: int | None

    def as_dict(self) -> dict[str, Any]:
        """The health as the ``/healthz`` JSON body."""
        return {
            "status": "ok" if self.ok else "error",
            "events": self.events,
            "inbox": {
                "id": self.inbox_id,
                "writable": self.writable,
                "problem": self.problem,
                "last_write_at": self.last_write_at,
                "last_write_error": (
                    None if self.last_write_error is None else self.last_write_error.as_dict()
                ),
                "disk_free_bytes": self.disk_free_bytes,
            },
        }


class Inbox:
    """The writer side of the inbox; one instance is shared by all receiver threads.

    All statements go through one connection guarded by a lock, so threads never
    contend for SQLite's write lock among themselves; ``busy_timeout`` covers other
    processes (a second receiver, a manual cleanup) holding it briefly.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout_s: float = 10.0,
        probe_interval_s: float = 5.0,
    ) -> None:
        """Open (creating if needed) the inbox database.

        Args:
            path: The SQLite file.
            busy_timeout_s: How long to wait for another process's write lock.
            probe_interval_s: While writes fail, how often :meth:`health` tries a small
                test write to notice that the problem is over.

        Raises:
            InboxError: If the file is not a usable inbox (the message says why).
        """
        self.path = Path(path)
        self._lock = threading.Lock()
        self._probe_interval_s = probe_interval_s
        self._failure: WriteFailure | None = None
        self._failed_at = 0.0
        self._last_write_at: str | None = None
        self._log = RateLimitedLog(LOG)
        check_inbox_path(self.path, must_exist=False)
        try:
            self._conn = sqlite3.connect(
                self.path,
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise from_sqlite_error(self.path, exc, writing=True) from None
        try:
            self.inbox_id = self._prepare()
        except sqlite3.Error as exc:
            self._conn.close()
            raise from_sqlite_error(self.path, exc, writing=True) from None
        except BaseException:
            self._conn.close()
            raise

    def _prepare(self) -> str:
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise InboxError(f"{self.path} cannot use WAL mode (journal_mode={mode})")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_schema_version()
            self._conn.execute(_CREATE_TABLE)
            self._check_columns()
            self._conn.execute(_CREATE_META)
            inbox_id = self._ensure_identity()
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        return inbox_id

    def _check_schema_version(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InboxError(
                f"{self.path} has inbox schema {version}; this version knows {SCHEMA_VERSION}",
                kind=NEWER_SCHEMA,
            )

    def _check_columns(self) -> None:
        found = {row[1] for row in self._conn.execute("PRAGMA table_info(webhook_events)")}
        missing = [name for name in COLUMNS if name not in found]
        if missing:
            raise InboxError(
                f"{self.path} has a webhook_events table without {', '.join(missing)}",
                kind=NOT_AN_INBOX,
            )

    def _ensure_identity(self) -> str:
        """Give the inbox an id the first time it is opened (also an inbox from schema 1)."""
        self._conn.execute(
            "INSERT INTO inbox_meta (key, value) VALUES ('inbox_id', ?), ('created_at', ?) "
            "ON CONFLICT (key) DO NOTHING",
            (new_inbox_id(), format_timestamp(utcnow())),
        )
        row = self._conn.execute("SELECT value FROM inbox_meta WHERE key = 'inbox_id'").fetchone()
        return str(row[0])

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

        Raises:
            InboxWriteError: The write failed (disk full, read-only, locked...); the
                failure is remembered for :meth:`health` and logged once per kind.
            sqlite3.IntegrityError: The values break a constraint (a bug, not a full disk).
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
            try:
                cursor = self._conn.execute(_INSERT, values)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise self._write_failed(exc) from None
            self._write_succeeded()
            if cursor.rowcount == 1:
                return StoreResult(seq=cursor.lastrowid, duplicate=False)
        return StoreResult(seq=None, duplicate=True)

    def _write_failed(self, exc: sqlite3.Error) -> InboxWriteError:
        """Remember and log a failed write (lock held); returns the error to raise."""
        found = from_sqlite_error(self.path, exc, writing=True)
        error = InboxWriteError(str(found), kind=found.kind)
        self._failed_at = time.monotonic()
        failure = self._failure
        if failure is not None and failure.kind == error.kind:
            failure.failures += 1
            failure.message = str(error)
        else:
            self._failure = WriteFailure(
                kind=error.kind, message=str(error), since=format_timestamp(utcnow())
            )
        self._log.log(error.kind, logging.ERROR, f"could not store deliveries: {error}")
        return error

    def _write_succeeded(self) -> None:
        """Clear a remembered failure after a write went through (lock held)."""
        self._last_write_at = format_timestamp(utcnow())
        failure, self._failure = self._failure, None
        if failure is not None:
            self._log.reset(failure.kind)
            LOG.info(
                "the inbox %s accepts writes again (%d write(s) had failed since %s: %s)",
                self.path,
                failure.failures,
                failure.since,
                failure.kind,
            )

    def count(self) -> int:
        """Return the number of stored events."""
        with self._lock:
            row = self._conn.execute("SELECT count(*) FROM webhook_events").fetchone()
        return int(row[0])

    def health(self) -> InboxHealth:
        """Check the inbox: can it be counted, written, and is there room left?

        While a write failure is remembered, a small test write is tried (at most
        once per ``probe_interval_s``); when it succeeds the failure is cleared.

        Returns:
            The inbox's health.
        """
        self._probe_if_due()
        problem: str | None = None
        try:
            events: int | None = self.count()
        except sqlite3.Error as exc:
            error = from_sqlite_error(self.path, exc, writing=False)
            self._log.log(f"count:{error.kind}", logging.ERROR, f"health check: {error}")
            events, problem = None, str(error)
        free = _free_bytes(self.path)
        with self._lock:
            failure = None if self._failure is None else WriteFailure(**vars(self._failure))
            last_write_at = self._last_write_at
        writable = failure is None and (free is None or free >= LOW_DISK_BYTES)
        if failure is not None:
            problem = failure.message
        elif not writable:
            problem = f"less than {LOW_DISK_BYTES} bytes free on the disk holding {self.path}"
        return InboxHealth(
            ok=writable and events is not None,
            events=events,
            inbox_id=self.inbox_id,
            writable=writable,
            problem=problem,
            last_write_at=last_write_at,
            last_write_error=failure,
            disk_free_bytes=free,
        )

    def _probe_if_due(self) -> None:
        with self._lock:
            if self._failure is None:
                return
            if time.monotonic() - self._failed_at < self._probe_interval_s:
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO inbox_meta (key, value) VALUES ('write_probe', ?)",
                        (os.urandom(_PROBE_BYTES // 2).hex(),),
                    )
                    self._conn.execute("DELETE FROM inbox_meta WHERE key = 'write_probe'")
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._write_failed(exc)
                return
            self._write_succeeded()

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


def _free_bytes(path: Path) -> int | None:
    try:
        usage = os.statvfs(path.parent)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return None
    return usage.f_bavail * usage.f_frsize


@dataclass(frozen=True)
class InboxIdentity:
    """Which inbox a reader is looking at.

    Attributes:
        inbox_id: The id created with the inbox; None for an inbox made by a receiver
            older than schema 2 that has not been opened by a newer one since.
        last_seq: The highest ``seq`` ever assigned in this file (0 if none): a
            bookmark above it cannot come from this file.
    """

    inbox_id: str | None
    last_seq: int


@dataclass
class InboxSnapshot:
    """A read-only, consistent view of the inbox: identity and events from one transaction."""

    path: Path
    identity: InboxIdentity
    _conn: sqlite3.Connection = field(repr=False)

    def events(self, *, after_seq: int = 0) -> Iterator[dict[str, Any]]:
        """Yield stored events with ``seq > after_seq`` in ``seq`` order, one row at a time.

        Args:
            after_seq: The last seq already processed.

        Yields:
            One dict per row, keyed by :data:`COLUMNS`.

        Raises:
            InboxError: If the rows cannot be read.
        """
        try:
            cursor = self._conn.execute(_SELECT_AFTER, (after_seq,))
            for row in cursor:
                yield dict(zip(COLUMNS, row, strict=True))
        except sqlite3.Error as exc:
            raise from_sqlite_error(self.path, exc, writing=False) from None


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open the inbox read-only (``mode=ro``), so a reader can never change it.

    Args:
        path: The SQLite file; it must exist.

    Returns:
        A read-only connection in autocommit mode.
    """
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


@contextmanager
def open_snapshot(path: str | os.PathLike[str]) -> Iterator[InboxSnapshot]:
    """Open the inbox read-only and start one read transaction.

    Everything read through the snapshot (its identity and its events) comes from the
    same state of the file; concurrent inserts by the receiver neither block nor appear.

    Args:
        path: The inbox file; it must exist.

    Yields:
        The snapshot.

    Raises:
        InboxError: If the path is not a readable webhook inbox (the message says why).
    """
    inbox = Path(path)
    check_inbox_path(inbox, must_exist=True)
    try:
        conn = open_readonly(inbox)
    except sqlite3.Error as exc:
        raise from_sqlite_error(inbox, exc, writing=False) from None
    try:
        try:
            conn.execute("BEGIN")
            identity = _read_identity(conn)
        except sqlite3.Error as exc:
            raise from_sqlite_error(inbox, exc, writing=False) from None
        yield InboxSnapshot(path=inbox, identity=identity, _conn=conn)
    finally:
        conn.close()


def _read_identity(conn: sqlite3.Connection) -> InboxIdentity:
    tables = {
        str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if "webhook_events" not in tables:
        raise sqlite3.OperationalError("no such table: webhook_events")
    inbox_id = None
    if "inbox_meta" in tables:
        row = conn.execute("SELECT value FROM inbox_meta WHERE key = 'inbox_id'").fetchone()
        inbox_id = None if row is None else str(row[0])
    last = conn.execute(_LAST_SEQ).fetchone() if "sqlite_sequence" in tables else None
    return InboxIdentity(inbox_id=inbox_id, last_seq=int(last[0]) if last else 0)


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
        InboxError: If the file is not a readable webhook inbox.
    """
    with open_snapshot(path) as snapshot:
        yield from snapshot.events(after_seq=after_seq)
