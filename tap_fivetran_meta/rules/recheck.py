"""Which per-connection reads an incremental run can leave out (pure functions, no I/O).

Most connections do not change between two runs an hour apart, yet a run used to ask
for every connection's sync history and schema config. Two rules decide instead:

* **sync history** (:func:`history_read_reason`): read a connection's history when
  something can have changed since its last complete read — it is new, its *sync
  marker* (last success, last failure, sync state, rescheduled-for, historical-sync
  flag: what moves when a sync starts, ends or is rescheduled) differs, a sync is
  running or was running at the last read, or the periodic re-check is due;
* **schema config** (:func:`refresh_due`, :class:`SchemaRefresh`): read it when the
  connection is new or its last read is older than the refresh period.

Periodic reads are spread: a connection is due after between half and all of the
period since its last read, at a fixed point given by a hash of its id, so runs after
a first full read do not all re-read the whole account at the same time.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from tap_fivetran_meta.rules.timeutil import normalize_timestamp, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

MARKER_LENGTH = 12

#: Reasons an incremental run reads a connection's sync history (summary-line keys).
NEW = "new"
NOT_READ_COMPLETELY = "no complete read yet"
SYNC_MARKER_MOVED = "sync marker moved"
SYNCING = "syncing"
WAS_RUNNING = "sync running at last read"
RECHECK_DUE = "re-check due"


def spread(key: str) -> float:
    """A fixed number in ``[0, 1)`` for a connection id (same on every machine and run)."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def refresh_due(last_read: datetime | None, now: datetime, period: timedelta, key: str) -> bool:
    """Whether a periodic read is due: never read, or read long enough ago.

    Args:
        last_read: When the last complete read happened (None: never).
        now: The run's start.
        period: The longest time between two reads; zero or less means every run.
        key: The connection id (spreads the due points over the period's second half).

    Returns:
        True when the read must happen in this run. A last read *after* ``now`` (a
        clock that was ahead once wrote it) cannot be trusted: due at once, so the read
        stamps a true time instead of waiting until that date.
    """
    if last_read is None or period <= timedelta(0) or last_read > now:
        return True
    return now - last_read >= period * (1 - spread(key) / 2)


def _status_of(connection: Mapping[str, Any]) -> Mapping[str, Any]:
    status = connection.get("status")
    return status if isinstance(status, dict) else {}


def sync_marker(connection: Mapping[str, Any]) -> str:
    """A short hash of what changes when a sync starts, ends or is rescheduled.

    Works on the raw list item and on the processed record alike (timestamps are
    normalised here, so both give the same marker).
    """
    status = _status_of(connection)
    state = status.get("sync_state")
    values = [
        normalize_timestamp(connection.get("succeeded_at")),
        normalize_timestamp(connection.get("failed_at")),
        state.lower() if isinstance(state, str) else None,
        normalize_timestamp(status.get("rescheduled_for")),
        status.get("is_historical_sync") is True,
    ]
    return hashlib.sha256(msgspec.json.encode(values)).hexdigest()[:MARKER_LENGTH]


def is_syncing(connection: Mapping[str, Any]) -> bool:
    """Whether the connection says a sync is running now."""
    state = _status_of(connection).get("sync_state")
    return isinstance(state, str) and state.lower() == "syncing"


def history_read_reason(
    *,
    has_bookmark: bool,
    read_at: datetime | None,
    stored_marker: str | None,
    was_running: bool,
    marker: str,
    syncing: bool,
    now: datetime,
    recheck: timedelta,
    key: str,
) -> str | None:
    """Why this run must read the connection's sync history, or None to leave it out.

    Args:
        has_bookmark: The connection has a sync-history bookmark.
        read_at: Start of the run that last read its history completely.
        stored_marker: The sync marker at that read.
        was_running: That read saw a sync still running.
        marker: The sync marker now.
        syncing: The connection says a sync is running now.
        now: The run's start.
        recheck: ``sync_history_recheck_hours``; zero means every run.
        key: The connection id.

    Returns:
        One of the reason constants, or None.
    """
    if recheck <= timedelta(0):
        return RECHECK_DUE
    checks = (
        (lambda: not has_bookmark, NEW),
        (lambda: read_at is None or stored_marker is None, NOT_READ_COMPLETELY),
        (lambda: stored_marker != marker, SYNC_MARKER_MOVED),
        (lambda: syncing, SYNCING),
        (lambda: was_running, WAS_RUNNING),
        (lambda: refresh_due(read_at, now, recheck, key), RECHECK_DUE),
    )
    return next((reason for applies, reason in checks if applies()), None)


#: Where the schema-config read times live: in the state of this stream, one map.
SCHEMA_STATE_STREAM = "connection_schema_settings"
SCHEMA_READ_AT_KEY = "schema_read_at"


class SchemaRefresh:
    """Which connections' schema configs this run reads (``schema_refresh_hours``).

    The read times are one map, connection id -> run start of the last read, in the
    state of :data:`SCHEMA_STATE_STREAM` (key :data:`SCHEMA_READ_AT_KEY`). Entries
    already due are dropped when the run starts: being due and being absent mean the
    same, so connections that no longer exist do not stay in the state forever.
    """

    def __init__(self, stream_state: dict[str, Any], *, now: datetime, period: timedelta) -> None:
        self.now = now
        self.period = period
        self._stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        stored = stream_state.get(SCHEMA_READ_AT_KEY)
        self._read_at: dict[str, str] = stored if isinstance(stored, dict) else {}
        stream_state[SCHEMA_READ_AT_KEY] = self._read_at
        for key in [k for k, v in self._read_at.items() if self.due_at(k, v)]:
            del self._read_at[key]
        #: Read by this run. Not told by the stamp: a run starting within the second of
        #: the previous one has the same stamp, and would read everything again.
        self._read_now: set[str] = set()
        self.left_out = 0

    def due_at(self, connection_id: str, read_at: Any) -> bool:
        """Whether a read stored as ``read_at`` (text) is due now."""
        parsed = parse_timestamp(read_at) if isinstance(read_at, str) else None
        return refresh_due(parsed, self.now, self.period, connection_id)

    def due(self, connection_id: str) -> bool:
        """Whether this run reads the connection's schema config (stays so once read)."""
        if connection_id in self._read_now:
            return True
        return self.due_at(connection_id, self._read_at.get(connection_id))

    def mark_read(self, connection_id: str) -> None:
        """Remember that this run read it (once all its schema rows were written)."""
        self._read_now.add(connection_id)
        if self.period > timedelta(0):
            self._read_at[connection_id] = self._stamp
