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
one line per kind of failure instead of one per delivery. Health never scans the
table: the number of events is counted once when the inbox is opened and kept up to
date by the writer, so a health check costs a few ``stat`` calls at any inbox size.

Group commit: deliveries that arrive while a commit is being written to disk are
stored together in the next transaction (one fsync for all of them). Each caller
still returns only once its own row is committed, so a 2xx still means "on disk".

The file under the path: a writer keeps the file it opened even when the path is
deleted or replaced (``rm``, ``mv``, a restore from a backup), and would go on
committing into a file the tap can no longer see. So the writer compares the path's
file (and its ``-wal``) with the one it opened before every transaction and again
after each commit. A change before a transaction: the inbox is opened again at the
path (created if missing, with a new ``inbox_id``, so the tap reads it from its
first event), and the deliveries go there. A change found after a commit: those
deliveries are refused (the receiver answers 503 and Fivetran retries them into the
reopened file). If the path cannot be opened again, every delivery is refused and
``/healthz`` names the problem until it can.
"""

from __future__ import annotations

import contextlib
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
    OTHER,
    REPLACED,
    InboxError,
    InboxWriteError,
    check_inbox_path,
    from_sqlite_error,
)
from tap_fivetran_meta.webhooks.logsafe import protect
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

LOG = protect(logging.getLogger(__name__))

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
        reopened: The last time the file at the path was found deleted or replaced and
            opened again (None if never).
    """

    ok: bool
    events: int | None
    inbox_id: str
    writable: bool
    problem: str | None
    last_write_at: str | None
    last_write_error: WriteFailure | None
    disk_free_bytes: int | None
    reopened: Reopened | None = None

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
                "reopened": None if self.reopened is None else self.reopened.as_dict(),
            },
        }


FileId = tuple[int, int]


def _file_id(path: str | Path) -> FileId | None:
    """The (device, inode) of the file at ``path``, or None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _wal_path(path: Path) -> Path:
    return path.with_name(f"{path.name}-wal")


@dataclass
class _Pending:
    """One delivery waiting for the next group commit."""

    values: tuple[Any, ...]
    done: bool = False
    result: StoreResult | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class Reopened:
    """The last time the inbox file was found deleted or replaced and opened again.

    Attributes:
        at: When (UTC).
        reason: What had happened to the file, e.g. ``was deleted``.
        previous_inbox_id: The id of the file that was lost from the path.
    """

    at: str
    reason: str
    previous_inbox_id: str

    def as_dict(self) -> dict[str, Any]:
        """The event as JSON-ready fields."""
        return {"at": self.at, "reason": self.reason, "previous_id": self.previous_inbox_id}


class Inbox:
    """The writer side of the inbox; one instance is shared by all receiver threads.

    All statements go through one connection guarded by a lock, so threads never
    contend for SQLite's write lock among themselves; ``busy_timeout`` covers other
    processes (a second receiver, a manual cleanup) holding it briefly. Whoever holds
    the lock commits every delivery queued so far (group commit).
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
                test write (or to open a replaced file again) to notice that the
                problem is over.

        Raises:
            InboxError: If the file is not a usable inbox (the message says why).
        """
        self.path = Path(path)
        self._watched = (str(self.path), str(_wal_path(self.path)))  # checked per commit
        self._lock = threading.Lock()  # the connection and everything written with it
        self._state_lock = threading.Lock()  # what health() reads
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._busy_timeout_s = busy_timeout_s
        self._probe_interval_s = probe_interval_s
        self._failure: WriteFailure | None = None
        self._failed_at = 0.0
        self._last_write_at: str | None = None
        self._reopened: Reopened | None = None
        self._lost_reason = "was lost"  # what happened to the file, while it cannot be reopened
        self._closed = False
        self._log = RateLimitedLog(LOG)
        self._conn: sqlite3.Connection | None
        self._conn, self.inbox_id, self._files, self._events = self._open()

    # --- opening -------------------------------------------------------------------------

    def _open(self) -> tuple[sqlite3.Connection, str, tuple[FileId | None, FileId | None], int]:
        """Open the file at the path: connection, inbox id, file ids, event count."""
        check_inbox_path(self.path, must_exist=False)
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise from_sqlite_error(self.path, exc, writing=True) from None
        try:
            inbox_id = self._prepare(conn)
            events = int(conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0])
        except sqlite3.Error as exc:
            conn.close()
            raise from_sqlite_error(self.path, exc, writing=True) from None
        except BaseException:
            conn.close()
            raise
        return conn, inbox_id, self._current_files(), events

    def _prepare(self, conn: sqlite3.Connection) -> str:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise InboxError(f"{self.path} cannot use WAL mode (journal_mode={mode})")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._check_schema_version(conn)
            conn.execute(_CREATE_TABLE)
            self._check_columns(conn)
            conn.execute(_CREATE_META)
            inbox_id = _ensure_identity(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return inbox_id

    def _check_schema_version(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InboxError(
                f"{self.path} has inbox schema {version}; this version knows {SCHEMA_VERSION}",
                kind=NEWER_SCHEMA,
            )

    def _check_columns(self, conn: sqlite3.Connection) -> None:
        found = {row[1] for row in conn.execute("PRAGMA table_info(webhook_events)")}
        missing = [name for name in COLUMNS if name not in found]
        if missing:
            raise InboxError(
                f"{self.path} has a webhook_events table without {', '.join(missing)}",
                kind=NOT_AN_INBOX,
            )

    # --- is the file at the path still ours? -----------------------------------------------

    def _current_files(self) -> tuple[FileId | None, FileId | None]:
        database, wal = self._watched
        return _file_id(database), _file_id(wal)

    def _lost_file(self) -> str | None:
        """What happened to the opened file, or None while the path still leads to it."""
        database, wal = self._current_files()
        opened_database, opened_wal = self._files
        if database is None:
            return "was deleted"
        if database != opened_database:
            return "was replaced by another file"
        if opened_wal is not None and wal != opened_wal:
            return f"lost its write-ahead log {_wal_path(self.path).name} (deleted or replaced)"
        return None

    def _reopen(self, reason: str) -> InboxWriteError | None:
        """Open the file now at the path (lock held); the error to raise if it cannot be."""
        if self._conn is not None:  # just found out
            self._lost_reason = reason
            self._log.log(
                f"{REPLACED}:{reason}",
                logging.ERROR,
                f"the inbox {self.path} {reason} while the receiver was running; opening "
                "the file at that path again (events stored before are in the lost file)",
            )
        self._forget_connection()
        try:
            conn, inbox_id, files, events = self._open()
        except InboxError as exc:
            return self._write_failed_with(
                REPLACED, f"the inbox {self.path} {reason} and cannot be opened again: {exc}"
            )
        previous = self.inbox_id
        with self._state_lock:
            self._conn, self.inbox_id, self._files, self._events = conn, inbox_id, files, events
            self._reopened = Reopened(format_timestamp(utcnow()), reason, previous)
        LOG.warning(
            "the inbox %s was opened again: inbox id %s (was %s), %d event(s) in it",
            self.path,
            inbox_id,
            previous,
            events,
        )
        return None

    def _forget_connection(self) -> None:
        """Close the lost file's connection and remove its write-ahead log from the path.

        SQLite neither checkpoints nor deletes the ``-wal`` of a file that moved, and a
        ``-wal`` left at the path would be read as the log of the new file there; it is
        removed only if it is still the one this connection wrote. (A stale ``-shm`` is
        harmless: the first connection to the new file rebuilds it.)
        """
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(sqlite3.Error):
            conn.close()
        wal = _wal_path(self.path)
        if self._files[1] is not None and _file_id(wal) == self._files[1]:
            with contextlib.suppress(OSError):
                wal.unlink()

    # --- writing -------------------------------------------------------------------------

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
            InboxWriteError: The write failed (disk full, read-only, locked, the file
                was deleted under the receiver...); the failure is remembered for
                :meth:`health` and logged once per kind.
            sqlite3.IntegrityError: The values break a constraint (a bug, not a full disk).
        """
        pending = _Pending(
            values=(
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
        )
        with self._queue_lock:
            self._queue.append(pending)
        with self._lock:
            if not pending.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None  # noqa: S101  (set by _commit with the error)
        return pending.result

    def _commit(self, batch: list[_Pending]) -> None:
        """Store a batch in one transaction (lock held); every entry ends done."""
        try:
            error = self._attach()
            if error is None:
                error = self._insert(batch)
            for pending in batch:
                if pending.error is None and error is not None:
                    pending.error = InboxWriteError(str(error), kind=error.kind)
        finally:
            for pending in batch:
                if pending.result is None and pending.error is None:  # an unexpected error
                    pending.error = InboxWriteError(
                        f"could not store a delivery in {self.path} (unexpected error)",
                        kind=OTHER,
                    )
                pending.done = True

    def _attach(self) -> InboxWriteError | None:
        """Make sure the connection writes the file at the path (lock held)."""
        if self._closed:
            return self._write_failed_with(OTHER, f"the inbox {self.path} is closed")
        if self._conn is not None:
            reason = self._lost_file()
            if reason is None:
                return None
        else:  # an earlier reopen failed
            if time.monotonic() - self._failed_at < min(self._probe_interval_s, 1.0):
                return self._write_failed_with(REPLACED, self._failure_message())
            reason = self._lost_reason
        return self._reopen(reason)

    def _failure_message(self) -> str:
        return self._failure.message if self._failure is not None else f"{self.path} is lost"

    def _insert(self, batch: list[_Pending]) -> InboxWriteError | None:
        conn = self._conn
        assert conn is not None  # noqa: S101  (_attach opened it)
        try:
            conn.execute("BEGIN IMMEDIATE")
            stored = 0
            for pending in batch:
                try:
                    cursor = conn.execute(_INSERT, pending.values)
                except sqlite3.IntegrityError as exc:
                    pending.error = exc
                    continue
                if cursor.rowcount == 1:
                    pending.result = StoreResult(seq=cursor.lastrowid, duplicate=False)
                    stored += 1
                else:
                    pending.result = StoreResult(seq=None, duplicate=True)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            return self._write_failed(exc)
        reason = self._lost_file()
        if reason is not None:  # committed into a file the path no longer leads to
            return self._write_failed_with(
                REPLACED,
                f"the inbox {self.path} {reason} while deliveries were being stored; "
                "they were refused and will be retried",
            )
        self._write_succeeded(stored)
        return None

    def _write_failed(self, exc: sqlite3.Error) -> InboxWriteError:
        """Remember and log a failed write (lock held); returns the error to raise."""
        found = from_sqlite_error(self.path, exc, writing=True)
        return self._write_failed_with(found.kind, str(found))

    def _write_failed_with(self, kind: str, message: str) -> InboxWriteError:
        error = InboxWriteError(message, kind=kind)
        with self._state_lock:
            self._failed_at = time.monotonic()
            failure = self._failure
            if failure is not None and failure.kind == kind:
                failure.failures += 1
                failure.message = message
            else:
                self._failure = WriteFailure(
                    kind=kind, message=message, since=format_timestamp(utcnow())
                )
        self._log.log(kind, logging.ERROR, f"could not store deliveries: {error}")
        return error

    def _write_succeeded(self, stored: int = 0) -> None:
        """Count the new rows and clear a remembered failure (lock held)."""
        with self._state_lock:
            self._events += stored
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

    # --- reading the state -----------------------------------------------------------------

    def count(self) -> int:
        """Return the number of stored events, counted in the table (a full scan)."""
        with self._lock:
            if self._conn is None:
                raise sqlite3.ProgrammingError(f"the inbox {self.path} is not open")
            row = self._conn.execute("SELECT count(*) FROM webhook_events").fetchone()
        return int(row[0])

    def health(self) -> InboxHealth:
        """Check the inbox: is the path still its file, can it be written, is there room?

        Cheap at any inbox size (no query): a few ``stat`` calls. While a write failure
        is remembered, a small test write (or, for a lost file, opening the path again)
        is tried at most once per ``probe_interval_s``; when it succeeds the failure is
        cleared.

        Returns:
            The inbox's health.
        """
        lost = self._lost_file() if self._conn is not None and not self._closed else None
        if lost is not None or self._probe_due():
            self._probe(lost)
        free = _free_bytes(self.path)
        with self._state_lock:
            failure = None if self._failure is None else WriteFailure(**vars(self._failure))
            last_write_at, events, reopened = self._last_write_at, self._events, self._reopened
            inbox_id = self.inbox_id
        writable = failure is None and (free is None or free >= LOW_DISK_BYTES)
        problem: str | None = None
        if failure is not None:
            problem = failure.message
        elif not writable:
            problem = f"less than {LOW_DISK_BYTES} bytes free on the disk holding {self.path}"
        return InboxHealth(
            ok=writable,
            events=events,
            inbox_id=inbox_id,
            writable=writable,
            problem=problem,
            last_write_at=last_write_at,
            last_write_error=failure,
            disk_free_bytes=free,
            reopened=reopened,
        )

    def _probe_due(self) -> bool:
        with self._state_lock:
            return (
                self._failure is not None
                and time.monotonic() - self._failed_at >= self._probe_interval_s
            )

    def _probe(self, lost: str | None) -> None:
        """Open a lost file again, or try a small test write (takes the lock)."""
        with self._lock:
            if self._closed:
                return
            if lost is not None or self._conn is None:
                self._attach()
                return
            if not self._probe_due():
                return
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute(
                        "INSERT OR REPLACE INTO inbox_meta (key, value) VALUES ('write_probe', ?)",
                        (os.urandom(_PROBE_BYTES // 2).hex(),),
                    )
                    conn.execute("DELETE FROM inbox_meta WHERE key = 'write_probe'")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._write_failed(exc)
                return
            self._write_succeeded()

    def close(self) -> None:
        """Close the connection (checkpointing the WAL if this is the last one)."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
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


def _ensure_identity(conn: sqlite3.Connection) -> str:
    """Give the inbox an id the first time it is opened (also an inbox from schema 1)."""
    conn.execute(
        "INSERT INTO inbox_meta (key, value) VALUES ('inbox_id', ?), ('created_at', ?) "
        "ON CONFLICT (key) DO NOTHING",
        (new_inbox_id(), format_timestamp(utcnow())),
    )
    row = conn.execute("SELECT value FROM inbox_meta WHERE key = 'inbox_id'").fetchone()
    return str(row[0])


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
