"""Tolerant parsing of sync-history items (pure functions, no I/O).

The item shape of ``GET /connections/{id}/sync-history`` is only partly documented
(see the API notes, section 4): field names are read from several candidates,
timestamps leniently, figures wherever they appear, and every field that is not
mapped to a column is kept in ``extra_fields``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tap_fivetran_meta.timeutil import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

START_FIELDS = ("start", "started_at", "start_time", "startTime", "startedAt")
END_FIELDS = (
    "end",
    "completed_at",
    "end_time",
    "ended_at",
    "finished_at",
    "endTime",
    "completedAt",
)
SYNC_ID_FIELDS = ("sync_id", "syncId", "id")
STATUS_FIELDS = ("status", "sync_status", "result")
REASON_FIELDS = ("reason", "message", "error", "failure_reason")
#: Candidate names whose value becomes a column (or is null); other values stay in extra.
KNOWN_FIELDS = frozenset(START_FIELDS + END_FIELDS + SYNC_ID_FIELDS + STATUS_FIELDS + REASON_FIELDS)
RECORD_FIGURES = {
    "extract_records": ("extract_records", "extracted_records", "extract_rows", "extracted_rows"),
    "process_records": ("process_records", "processed_records", "process_rows", "processed_rows"),
    "load_records": ("load_records", "loaded_records", "load_rows", "loaded_rows"),
}
#: Keys of per-stage figures (volumes, times), top-level or nested one level deep.
STAGE_KEY = re.compile(r"^(extract|process|load|total)", re.IGNORECASE)

SUCCEEDED = "succeeded"
FAILED = "failed"
RUNNING = "running"
RESCHEDULED = "rescheduled"
CANCELED = "canceled"
UNKNOWN = "unknown"
_OUTCOMES = (
    (("SYNCING", "RUNNING", "IN_PROGRESS", "STARTED", "QUEUED", "PENDING"), RUNNING),
    (("COMPLETED", "SUCCESSFUL", "SUCCESS", "SUCCEEDED", "SUCCESS_WITH_TASK"), SUCCEEDED),
    (("FAILURE", "FAILURE_WITH_TASK", "FAILED", "ERROR", "TRUNCATED"), FAILED),
    (("RESCHEDULED",), RESCHEDULED),
    (("CANCELED", "CANCELLED", "ABORTED"), CANCELED),
)


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
            group_id=context.get("group_id"),
            service=context.get("service"),
        )


def _first(item: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str | None, Any]:
    for name in names:
        if item.get(name) is not None:
            return name, item[name]
    return None, None


def _first_timestamp(item: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str | None, Any]:
    for name in names:
        if parse_timestamp(item.get(name)) is not None:
            return name, parse_timestamp(item[name])
    return None, None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (Decimal, float)) and value == int(value):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def stage_figures(item: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Every numeric per-stage figure (``extract*``, ``process*``, ``load*``, ``total*``).

    Nested objects under a stage key are flattened one level with ``_``:
    ``{"extract": {"records": 5}}`` gives ``{"extract_records": 5}``. A nested
    object with anything but numbers stays unparsed (kept in ``extra_fields``).

    Returns:
        The figures and the item keys they were read from.
    """
    figures: dict[str, Any] = {}
    sources: set[str] = set()
    for key, value in item.items():
        if not STAGE_KEY.match(str(key)):
            continue
        if _is_number(value):
            figures[str(key)] = value
            sources.add(key)
        elif isinstance(value, dict) and value and all(map(_is_number, value.values())):
            figures.update({f"{key}_{inner}": leaf for inner, leaf in value.items()})
            sources.add(key)
    return figures, sources


def outcome(status: str | None, *, ended: bool) -> str:
    """Classify a sync: succeeded, failed, running, rescheduled, canceled or unknown.

    A sync without an end is running whatever its status says.
    """
    if not ended:
        return RUNNING
    normalized = (status or "").strip().upper().replace(" ", "_")
    for names, verdict in _OUTCOMES:
        if normalized in names:
            return verdict
    if "FAIL" in normalized:
        return FAILED
    if "SUCCE" in normalized:
        return SUCCEEDED
    return UNKNOWN


def duration_seconds(started: datetime, ended: datetime | None) -> float | None:
    """Seconds from start to end (None while running or when the end precedes the start)."""
    if ended is None or ended < started:
        return None
    return round((ended - started).total_seconds(), 6)


def sync_key(sync_id: str | None, started_at: str) -> str:
    """The row key within a connection: the sync id, else the normalised start."""
    return sync_id if sync_id else f"start:{started_at}"


def parse_sync_item(item: Any, connection: ConnectionRef) -> dict[str, Any] | None:
    """Turn one sync-history item into a row, or None when it has no usable start.

    An item without a start (a sync not started yet) cannot be placed in time; it
    is read again by a later run once it started.

    Args:
        item: One element of ``data.items``.
        connection: The parent connection.

    Returns:
        The row (all schema columns) or None.
    """
    if not isinstance(item, dict):
        return None
    start_name, started = _first_timestamp(item, START_FIELDS)
    if started is None:
        return None
    end_name, ended = _first_timestamp(item, END_FIELDS)
    id_name, raw_id = _first(item, SYNC_ID_FIELDS)
    status_name, raw_status = _first(item, STATUS_FIELDS)
    reason_name, raw_reason = _first(item, REASON_FIELDS)
    started_at = format_timestamp(started)
    sync_id = _text(raw_id)
    status = _text(raw_status)
    figures, figure_sources = stage_figures(item)
    chosen = {start_name, end_name, id_name, status_name, reason_name}
    used = {k for k in KNOWN_FIELDS if k in chosen or item.get(k) is None} | figure_sources
    row: dict[str, Any] = {
        "connection_id": connection.connection_id,
        "sync_key": sync_key(sync_id, started_at),
        "sync_id": sync_id,
        "started_at": started_at,
        "ended_at": None if ended is None else format_timestamp(ended),
        "status": status,
        "outcome": outcome(status, ended=ended is not None),
        "reason": _text(raw_reason),
        "duration_seconds": duration_seconds(started, ended),
        "group_id": connection.group_id,
        "service": connection.service,
        "stage_figures": figures or None,
        "extra_fields": {k: v for k, v in item.items() if k not in used} or None,
    }
    for column, names in RECORD_FIGURES.items():
        row[column] = _integer(_first(figures, names)[1])
    return row


DIGEST_LENGTH = 12


def row_digest(row: Mapping[str, Any]) -> str:
    """A short hash of a whole row: equal digests mean nothing in the row changed."""
    canonical = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:DIGEST_LENGTH]
