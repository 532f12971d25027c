"""Sync-history items as Fivetran documents them (pure functions, no I/O).

``GET /connections/{id}/sync-history`` items are documented with ``start`` (null while
the sync has not started); ``end`` and ``status`` are very likely and parsed when
present. No other field is documented (in particular no sync id), so a row is
identified by its connection and its start, and every other field of the item is kept
as returned in ``extra_fields``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from tap_fivetran_meta.rules.coerce import as_str
from tap_fivetran_meta.rules.item_shape import MAX_FREE_FORM_DEPTH, deeper_than
from tap_fivetran_meta.rules.timeutil import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

#: The documented item fields; each becomes a column, every other field stays raw.
DOCUMENTED_FIELDS = ("start", "end", "status")

SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"
RESCHEDULED = "rescheduled"
RUNNING = "running"
OTHER = "other"
OUTCOMES = (SUCCEEDED, FAILED, CANCELED, RESCHEDULED, RUNNING, OTHER)

#: Status (upper case) -> outcome. The first six are the values seen on the real API;
#: the rest are the same words in the vocabulary of Fivetran's logs and webhooks.
#: TRUNCATED is "other": Fivetran does not say what a truncated sync delivered, so it
#: is counted neither as a success nor as a failure.
STATUS_OUTCOMES: dict[str, str] = {
    "COMPLETED": SUCCEEDED,
    "SUCCESS_WITH_TASK": SUCCEEDED,
    "FAILURE_WITH_TASK": FAILED,
    "CANCELED": CANCELED,
    "TRUNCATED": OTHER,
    "RESCHEDULED": RESCHEDULED,
    "SUCCESSFUL": SUCCEEDED,
    "FAILURE": FAILED,
    "CANCELLED": CANCELED,
    "SYNCING": RUNNING,
    "RUNNING": RUNNING,
}


@dataclass(frozen=True)
class ConnectionRef:
    """The parent connection's columns copied into every row."""

    connection_id: str
    group_id: str | None = None
    service: str | None = None

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> ConnectionRef:
        """Read the reference from the child context of the connections stream."""
        return cls(
            connection_id=str(context["connection_id"]),
            group_id=as_str(context.get("group_id")),
            service=as_str(context.get("service")),
        )


def outcome(status: str | None, *, ended: bool) -> str:
    """Classify a sync by :data:`STATUS_OUTCOMES`.

    A sync without a status is running while it has no end (and ``other`` once it
    has one); a status not in the table is ``other``.
    """
    if status is None or not status.strip():
        return OTHER if ended else RUNNING
    return STATUS_OUTCOMES.get(status.strip().upper().replace(" ", "_"), OTHER)


def duration_seconds(started: datetime, ended: datetime | None) -> float | None:
    """Seconds from start to end (None while running or when the end precedes the start)."""
    if ended is None or ended < started:
        return None
    return round((ended - started).total_seconds(), 6)


def parse_sync_item(item: Any, connection: ConnectionRef) -> dict[str, Any] | None:
    """The row of :func:`parse_sync_item_at` alone."""
    parsed = parse_sync_item_at(item, connection)
    return None if parsed is None else parsed[1]


def parse_sync_item_at(
    item: Any, connection: ConnectionRef
) -> tuple[datetime, dict[str, Any]] | None:
    """Turn one sync-history item into a row, or None when it cannot be placed in time.

    An item whose ``start`` is null (a sync not started yet) or unreadable has no
    identity: it is not emitted, and a later run reads it once it started. Extra fields
    nested deeper than ``item_shape.MAX_FREE_FORM_DEPTH`` are left out.

    Args:
        item: One element of ``data.items``.
        connection: The parent connection.

    Returns:
        The sync's start (parsed once, for bookmarks) and its row (all schema
        columns), or None.
    """
    if not isinstance(item, dict):
        return None
    started = parse_timestamp(item.get("start"))
    if started is None:
        return None
    ended = parse_timestamp(item.get("end"))
    raw_status = item.get("status")
    status = raw_status if isinstance(raw_status, str) else None
    extra = {k: v for k, v in item.items() if k not in DOCUMENTED_FIELDS}
    if raw_status is not None and status is None:
        extra["status"] = raw_status  # an unexpected type: kept as returned
    if deeper_than(extra, MAX_FREE_FORM_DEPTH):
        extra = {}  # nested too deeply: no target needs it, and it may not even serialise
    return started, {
        "connection_id": connection.connection_id,
        "started_at": format_timestamp(started),
        "ended_at": None if ended is None else format_timestamp(ended),
        "status": status,
        "outcome": outcome(status, ended=ended is not None),
        "duration_seconds": duration_seconds(started, ended),
        "group_id": connection.group_id,
        "service": connection.service,
        "extra_fields": extra or None,
    }


DIGEST_LENGTH = 12


#: Sorted keys, compact: for rows of text, nulls and plain floats the same bytes as
#: ``json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)``, which made
#: the digests stored by earlier versions, at a tenth of the cost.
_CANONICAL = msgspec.json.Encoder(order="sorted")


def row_digest(row: Mapping[str, Any]) -> str:
    """A short hash of a whole row: equal digests mean nothing in the row changed."""
    canonical = _CANONICAL.encode(row) if _plain(row) else b"\x80"
    # json.dumps escapes non-ASCII text and DEL (0x7f), msgspec writes them as they are:
    # for those the digest stays json.dumps' (the one earlier versions stored).
    if not canonical.isascii() or b"\x7f" in canonical:
        canonical = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(canonical).hexdigest()[:DIGEST_LENGTH]


def _plain(row: Mapping[str, Any]) -> bool:
    """No raw API values and a duration both encoders write alike (no exponent)."""
    duration = row.get("duration_seconds")
    return row.get("extra_fields") is None and (
        duration is None or duration == 0 or 1e-4 <= abs(duration) < 1e15
    )
