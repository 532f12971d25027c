"""Connection status snapshots and their fingerprints (pure functions, no I/O).

``connection_status_history`` writes one row per connection whenever the
fingerprint of its status changes. The fingerprint covers what a person would call
the connection's status (states, last success and failure, health, task and
warning codes, pause and schedule) and nothing that changes merely because time
passes or the tap ran again (``observed_at``, ``minutes_since_last_success``,
``is_fresh``).
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


def status_row(
    connection: Mapping[str, Any],
    *,
    observed_at: str,
    previous_fingerprint: str | None,
) -> dict[str, Any]:
    """The ``connection_status_history`` row for one connection observation."""
    snapshot = status_snapshot(connection)
    return {
        "connection_id": str(connection.get("id")),
        "observed_at": observed_at,
        "fingerprint": fingerprint(snapshot),
        "previous_fingerprint": as_str(previous_fingerprint),
        "group_id": as_str(connection.get("group_id")),
        "service": as_str(connection.get("service")),
        **snapshot,
    }
