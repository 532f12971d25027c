"""Connection status snapshots and their fingerprints (pure functions, no I/O).

``connection_status_history`` writes one row per connection whenever the
fingerprint of its status changes. The fingerprint covers what a person would call
the connection's status (states, last success and failure, health, task and
warning codes, pause and schedule) and nothing that changes merely because time
passes or the tap ran again (``observed_at``, ``minutes_since_last_success``,
``is_fresh``).

Each row's key is ``(connection_id, change_id)``. ``change_id`` hashes the connection,
the previous row's ``observed_at`` and fingerprint (both kept in the connection's
bookmark) and this row's fingerprint: nothing of the run writing it. A run that resumes
after its STATE was lost sends the same change again under the same key, so an
upserting target keeps one row.

A connection gone from a complete, unfiltered ``/v1/connections`` listing gets one row
with health ``deleted`` (:func:`deleted_row`); its fingerprint is always
:data:`DELETED_FINGERPRINT`, so it is written once.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from tap_fivetran_meta.rules.coerce import as_bool, as_int, as_object, as_str

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Snapshot fields that make up the fingerprint, in a fixed order.
FINGERPRINT_FIELDS = (
    "paused",
    "setup_state",
    "sync_state",
    "update_state",
    "is_historical_sync",
    "schema_status",
    "rescheduled_for",
    "succeeded_at",
    "failed_at",
    "health",
    "task_codes",
    "warning_codes",
    "sync_frequency",
    "schedule_type",
    "daily_sync_time",
    "schedule",
)
FINGERPRINT_LENGTH = 16
CHANGE_ID_LENGTH = 16
#: Health of the row written for a connection gone from a complete listing.
DELETED = "deleted"
#: ``kind`` of a ``connection_status_issues`` row.
TASK = "task"
WARNING = "warning"


def issue_codes(issues: Any) -> list[str]:
    """Sorted, distinct ``code`` values of a ``status.tasks`` / ``status.warnings`` list."""
    if not isinstance(issues, list):
        return []
    codes = {str(item.get("code")) for item in issues if isinstance(item, dict)}
    codes.discard("None")
    return sorted(codes)


def status_snapshot(connection: Mapping[str, Any]) -> dict[str, Any]:
    """The status columns of one processed ``connections`` record.

    Args:
        connection: A record as emitted by the connections stream (timestamps
            normalised, states lower-cased, derived ``health`` present).

    Returns:
        The snapshot (no ids, no observation time).
    """
    status = as_object(connection.get("status")) or {}
    return {
        "paused": as_bool(connection.get("paused")),
        "setup_state": as_str(connection.get("setup_state")),
        "sync_state": as_str(connection.get("sync_state")),
        "update_state": as_str(connection.get("update_state")),
        "is_historical_sync": as_bool(connection.get("is_historical_sync")),
        "schema_status": as_str(status.get("schema_status")),
        "rescheduled_for": as_str(connection.get("rescheduled_for")),
        "succeeded_at": as_str(connection.get("succeeded_at")),
        "failed_at": as_str(connection.get("failed_at")),
        "last_sync_completed_at": as_str(connection.get("last_sync_completed_at")),
        "last_sync_succeeded": as_bool(connection.get("last_sync_succeeded")),
        "health": as_str(connection.get("health")),
        "task_codes": issue_codes(status.get("tasks")),
        "warning_codes": issue_codes(status.get("warnings")),
        "sync_frequency": as_int(connection.get("sync_frequency")),
        "schedule_type": as_str(connection.get("schedule_type")),
        "daily_sync_time": as_str(connection.get("daily_sync_time")),
        "schedule": as_object(connection.get("schedule")),
    }


def fingerprint(snapshot: Mapping[str, Any]) -> str:
    """A short, stable hash of the snapshot's status fields.

    Key order, list order of codes and number types do not matter; any change of
    a fingerprinted value does.
    """
    values = [[name, snapshot.get(name)] for name in FINGERPRINT_FIELDS]
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def change_id(
    connection_id: str,
    previous_observed_at: str | None,
    previous_fingerprint: str | None,
    this_fingerprint: str,
) -> str:
    """The key of one status change: the same for the same change, whichever run sends it.

    Args:
        connection_id: The connection.
        previous_observed_at: ``observed_at`` of the connection's previous row (None: first).
        previous_fingerprint: Fingerprint of that row (None: first).
        this_fingerprint: Fingerprint of the new row.

    Returns:
        :data:`CHANGE_ID_LENGTH` hex characters.
    """
    canonical = json.dumps(
        [connection_id, previous_observed_at, previous_fingerprint, this_fingerprint],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:CHANGE_ID_LENGTH]


def status_row(
    connection: Mapping[str, Any],
    *,
    observed_at: str,
    previous_fingerprint: str | None,
    previous_observed_at: str | None = None,
) -> dict[str, Any]:
    """The ``connection_status_history`` row for one connection observation."""
    snapshot = status_snapshot(connection)
    return _row(
        str(connection.get("id")),
        snapshot,
        observed_at=observed_at,
        previous=(previous_observed_at, previous_fingerprint),
        identity=(as_str(connection.get("group_id")), as_str(connection.get("service"))),
    )


def deleted_snapshot() -> dict[str, Any]:
    """The status columns of a deleted connection: health ``deleted``, all else null."""
    return {**dict.fromkeys(status_snapshot({})), "health": DELETED}


#: Fingerprint of every deleted connection's row.
DELETED_FINGERPRINT = fingerprint(deleted_snapshot())


def deleted_row(
    connection_id: str,
    *,
    observed_at: str,
    previous_fingerprint: str | None,
    previous_observed_at: str | None,
) -> dict[str, Any]:
    """The one row of a connection gone from a complete, unfiltered listing."""
    return _row(
        connection_id,
        deleted_snapshot(),
        observed_at=observed_at,
        previous=(previous_observed_at, previous_fingerprint),
        identity=(None, None),
    )


def _row(
    connection_id: str,
    snapshot: dict[str, Any],
    *,
    observed_at: str,
    previous: tuple[str | None, str | None],
    identity: tuple[str | None, str | None],
) -> dict[str, Any]:
    previous_observed_at, previous_fingerprint = previous
    this = fingerprint(snapshot)
    return {
        "connection_id": connection_id,
        "change_id": change_id(
            connection_id, as_str(previous_observed_at), as_str(previous_fingerprint), this
        ),
        "observed_at": observed_at,
        "fingerprint": this,
        "previous_fingerprint": as_str(previous_fingerprint),
        "group_id": identity[0],
        "service": identity[1],
        **snapshot,
    }


def issue_rows(connection: Mapping[str, Any], change: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``connection_status_issues`` rows of one status row: its tasks and warnings.

    One row per distinct ``(kind, code)``; when a code repeats, its first message is kept.

    Args:
        connection: The processed connection record the status row was built from.
        change: The ``connection_status_history`` row (its key and ``observed_at``).
    """
    status = as_object(connection.get("status")) or {}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, field in ((TASK, "tasks"), (WARNING, "warnings")):
        items = status.get(field)
        for item in items if isinstance(items, list) else ():
            code = as_str(item.get("code")) if isinstance(item, dict) else None
            if code is None or (kind, code) in rows:
                continue
            rows[(kind, code)] = {
                "connection_id": change["connection_id"],
                "change_id": change["change_id"],
                "kind": kind,
                "code": code,
                "observed_at": change["observed_at"],
                "message": as_str(item.get("message")),
            }
    return list(rows.values())
