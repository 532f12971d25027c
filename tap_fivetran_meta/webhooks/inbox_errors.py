"""Say exactly what is wrong with an inbox file, in one line.

SQLite's own messages are terse and sometimes misleading: a directory opened as a
database gives "unable to open database file" (or "disk I/O error"), a read-only
directory gives "attempt to write a readonly database" even to a reader. This module
looks at the path first, then at SQLite's error code, and names the problem and what
to do about it. Each error has a ``kind`` (one of the constants below) so callers can
count, rate-limit and report problems by kind.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

MISSING = "missing"
DIRECTORY = "directory"
NOT_A_FILE = "not_a_file"
NO_DIRECTORY = "no_directory"
READ_ONLY = "read_only"
PERMISSION = "permission"
DISK_FULL = "disk_full"
LOCKED = "locked"
NOT_A_DATABASE = "not_a_database"
NOT_AN_INBOX = "not_an_inbox"
CORRUPT = "corrupt"
IO_ERROR = "io_error"
NEWER_SCHEMA = "newer_schema"
#: The file at the inbox path was deleted or replaced while a writer had it open.
REPLACED = "replaced"
OTHER = "other"


class InboxError(RuntimeError):
    """The inbox cannot be used; the message says why and is safe to show.

    Attributes:
        kind: What went wrong, one of this module's constants.
    """

    def __init__(self, message: str, *, kind: str = OTHER) -> None:
        super().__init__(message)
        self.kind = kind


class InboxWriteError(InboxError):
    """Storing a delivery failed (the receiver answers 503 and Fivetran retries)."""


def check_inbox_path(path: Path, *, must_exist: bool) -> None:
    """Refuse paths that cannot be an inbox file, before SQLite gets to misreport them.

    Args:
        path: The inbox path as configured.
        must_exist: True for a reader; a writer creates a missing file.

    Raises:
        InboxError: The path is a directory or another non-regular file, its directory
            is missing, or (``must_exist``) the file is missing.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InboxError(f"cannot look at {path}: {exc.strerror}", kind=PERMISSION) from None
    if mode is None:
        parent = path.parent
        if not parent.exists():
            raise InboxError(
                f"the directory {parent} does not exist (create it first)", kind=NO_DIRECTORY
            )
        if not parent.is_dir():
            raise InboxError(f"{parent} is not a directory", kind=NO_DIRECTORY)
        if must_exist:
            raise InboxError(f"{path} does not exist", kind=MISSING)
        return
    if stat.S_ISDIR(mode):
        raise InboxError(
            f"{path} is a directory, not an inbox file "
            f"(give the file's path, e.g. {path / 'webhooks.sqlite'})",
            kind=DIRECTORY,
        )
    if not stat.S_ISREG(mode):
        raise InboxError(f"{path} is not a regular file", kind=NOT_A_FILE)


def classify(exc: sqlite3.Error) -> str:
    """Return the kind of an SQLite error, from its code when Python exposes it."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc).lower()
    checks = (
        (READ_ONLY, ("SQLITE_READONLY",), ("readonly database",)),
        (DISK_FULL, ("SQLITE_FULL",), ("disk is full",)),
        (LOCKED, ("SQLITE_BUSY", "SQLITE_LOCKED"), ("database is locked",)),
        (NOT_A_DATABASE, ("SQLITE_NOTADB",), ("file is not a database",)),
        (CORRUPT, ("SQLITE_CORRUPT",), ("malformed",)),
        (PERMISSION, ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH"), ("unable to open",)),
        (IO_ERROR, ("SQLITE_IOERR",), ("disk i/o error",)),
        (NOT_AN_INBOX, (), ("no such table: webhook_events",)),
    )
    for kind, codes, phrases in checks:
        if codes and name.startswith(codes):
            return kind
        if any(phrase in text for phrase in phrases):
            return kind
    return OTHER


def from_sqlite_error(path: Path, exc: sqlite3.Error, *, writing: bool) -> InboxError:
    """Turn an SQLite error on ``path`` into a one-line :class:`InboxError`.

    Args:
        path: The inbox file.
        exc: What SQLite raised.
        writing: True for the receiver (it needs write access), False for the tap.

    Returns:
        The error to raise.
    """
    kind = classify(exc)
    return InboxError(_message(path, kind, exc, writing=writing), kind=kind)


def _message(path: Path, kind: str, exc: sqlite3.Error, *, writing: bool) -> str:  # noqa: PLR0911
    parent = path.parent
    if kind == READ_ONLY:
        return _read_only_message(path, exc, writing=writing)
    if kind == PERMISSION:
        if not os.access(path, os.R_OK):
            return f"cannot read {path}: permission denied for this user (check its owner and mode)"
        if not os.access(parent, os.X_OK):
            return f"cannot open {path}: permission denied on the directory {parent}"
        return f"cannot open {path} ({exc})"
    if kind == DISK_FULL:
        return f"the disk holding {path} is full ({exc})"
    if kind == LOCKED:
        return f"{path} is locked by another process ({exc})"
    if kind == NOT_A_DATABASE:
        return f"{path} is not an SQLite database, so not a webhook inbox (is it the right file?)"
    if kind == NOT_AN_INBOX:
        return f"{path} is an SQLite database but not a webhook inbox (no webhook_events table)"
    if kind == CORRUPT:
        return f"{path} is damaged ({exc}); restore it from a backup or move it aside"
    if kind == IO_ERROR:
        return f"I/O error on {path} ({exc})"
    return f"cannot use {path} as an inbox ({exc})"


def _read_only_message(path: Path, exc: sqlite3.Error, *, writing: bool) -> str:
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    parent = path.parent
    directory_problem = name == "SQLITE_READONLY_DIRECTORY" or not os.access(parent, os.W_OK)
    if not writing:
        # Only reading: the file itself may be read-only, but WAL mode needs a
        # shared-memory file (-shm) next to it, which the reader must be able to create.
        return (
            f"cannot read {path}: its directory {parent} is not writable by this user, and "
            f"SQLite must create {path.name}-shm there to read a WAL-mode inbox (run the tap "
            "as the receiver's user, or give it write access to the directory)"
        )
    if directory_problem:
        return (
            f"cannot write to {path}: its directory {parent} is not writable by this user "
            f"(SQLite creates {path.name}-wal and {path.name}-shm next to the inbox)"
        )
    if not os.access(path, os.W_OK):
        return (
            f"cannot write to {path}: the file is read-only for this user "
            "(check its owner and mode)"
        )
    return (
        f"cannot write to {path}: it has become read-only (is its file system mounted "
        f"read-only, or did its mode change?) ({exc})"
    )
