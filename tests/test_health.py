"""Health and freshness rules, table-driven (README "Connection health" documents them)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tap_fivetran_meta import health

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def ago(minutes: int) -> str:
    return (NOW - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def conn(**overrides: Any) -> dict[str, Any]:
    status = {
        "setup_state": "connected",
        "sync_state": "scheduled",
        "update_state": "on_schedule",
        "is_historical_sync": False,
        "tasks": [],
        "warnings": [],
    }
    status.update(overrides.pop("status", {}))
    record = {
        "paused": False,
        "succeeded_at": ago(30),
        "failed_at": None,
        "sync_frequency": 60,
        "status": status,
    }
    record.update(overrides)
    return record


CASES = [
    ("healthy", conn()),
    ("paused", conn(paused=True, status={"setup_state": "broken"})),
    ("paused", conn(status={"sync_state": "paused"})),
    ("incomplete", conn(succeeded_at=None, status={"setup_state": "incomplete"})),
    ("broken", conn(status={"setup_state": "BROKEN", "sync_state": "rescheduled"})),
    ("rescheduled", conn(status={"sync_state": "rescheduled", "is_historical_sync": True})),
    ("historical_sync", conn(status={"is_historical_sync": True, "sync_state": "syncing"})),
    # A new connection: never synced, Fivetran reports is_historical_sync: true.
    ("first_sync", conn(succeeded_at=None, status={"is_historical_sync": True})),
    (
        "first_sync",
        conn(succeeded_at=None, status={"is_historical_sync": True, "sync_state": "syncing"}),
    ),
    # ...but not once a sync failed: that is a failing first sync.
    (
        "historical_sync",
        conn(succeeded_at=None, failed_at=ago(5), status={"is_historical_sync": True}),
    ),
    (
        "incomplete",
        conn(succeeded_at=None, status={"setup_state": "incomplete", "is_historical_sync": True}),
    ),
    ("paused", conn(succeeded_at=None, paused=True, status={"is_historical_sync": True})),
    ("syncing", conn(failed_at=ago(5), status={"sync_state": "syncing"})),
    ("failing", conn(failed_at=ago(5), status={"update_state": "delayed"})),
    ("delayed", conn(status={"update_state": "delayed"})),
    ("stale", conn(succeeded_at=ago(60 + 61))),
    ("healthy", conn(succeeded_at=ago(60 + 60))),
    ("stale", conn(succeeded_at=None, failed_at=None)),
    ("healthy", conn(succeeded_at=ago(10), failed_at=ago(20))),
    ("failing", conn(succeeded_at=ago(20), failed_at=ago(10))),
]


@pytest.mark.parametrize(("expected", "record"), CASES)
def test_health_first_match_wins(expected: str, record: dict[str, Any]) -> None:
    facts = health.ConnectionFacts.from_record(record)
    assert health.health(facts, now=NOW, slack_minutes=60).value == expected


def test_last_sync_fields() -> None:
    t1 = NOW - timedelta(hours=2)
    t2 = NOW - timedelta(hours=1)
    assert health.last_sync_completed_at(None, None) is None
    assert health.last_sync_completed_at(t1, t2) == t2
    assert health.last_sync_succeeded(None, None) is None
    assert health.last_sync_succeeded(t1, None) is True
    assert health.last_sync_succeeded(None, t1) is False
    assert health.last_sync_succeeded(t2, t1) is True
    assert health.last_sync_succeeded(t1, t2) is False
    assert health.last_sync_succeeded(t1, t1) is True


def test_minutes_since_and_freshness() -> None:
    assert health.minutes_since(None, NOW) is None
    assert health.minutes_since(NOW - timedelta(seconds=150), NOW) == 2
    assert health.minutes_since(NOW + timedelta(minutes=5), NOW) == 0
    assert health.is_fresh(NOW - timedelta(minutes=70), 60, 10, NOW) is True
    assert health.is_fresh(NOW - timedelta(minutes=71), 60, 10, NOW) is False
    assert health.is_fresh(NOW, None, 10, NOW) is False
    assert health.is_fresh(None, 60, 10, NOW) is False


def test_derived_columns() -> None:
    record = conn(
        succeeded_at=ago(90),
        failed_at=ago(30),
        status={"tasks": [{"code": "reconnect"}], "warnings": [{}, {}]},
    )
    derived = health.derived_columns(record, now=NOW, slack_minutes=60)
    assert derived == {
        "last_sync_completed_at": ago(30),
        "last_sync_succeeded": False,
        "minutes_since_last_success": 90,
        "is_fresh": True,
        "health": "failing",
        "task_count": 1,
        "warning_count": 2,
        "observed_at": "2026-11-27T12:00:00.000000Z",
    }
