"""Health and freshness rules, table-driven (README "Connection health" documents them)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tap_fivetran_meta.rules import health

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


def later(minutes: int) -> str:
    return (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


CASES = [
    ("healthy", conn()),
    # A manual schedule: Fivetran ignores sync_frequency, so it is never stale by it...
    ("healthy", conn(schedule_type="manual", succeeded_at=ago(10 * 24 * 60))),
    ("healthy", conn(schedule_type="MANUAL", succeeded_at=ago(10 * 24 * 60))),
    # ...even without any frequency; the other rules still apply.
    ("healthy", conn(schedule_type="manual", sync_frequency=None)),
    ("failing", conn(schedule_type="manual", failed_at=ago(5))),
    ("delayed", conn(schedule_type="manual", status={"update_state": "delayed"})),
    ("paused", conn(schedule_type="manual", paused=True)),
    ("stale", conn(schedule_type="auto", succeeded_at=ago(10 * 24 * 60))),
    # rescheduled_for in the future (or absent): rescheduled.
    ("rescheduled", conn(status={"sync_state": "rescheduled", "rescheduled_for": later(30)})),
    ("rescheduled", conn(status={"sync_state": "rescheduled", "rescheduled_for": None})),
    # rescheduled_for in the past: a stale value; the later rules judge it.
    ("healthy", conn(status={"sync_state": "rescheduled", "rescheduled_for": ago(60)})),
    (
        "stale",
        conn(
            succeeded_at=ago(3 * 24 * 60),
            status={"sync_state": "rescheduled", "rescheduled_for": ago(2 * 24 * 60)},
        ),
    ),
    (
        "failing",
        conn(failed_at=ago(5), status={"sync_state": "rescheduled", "rescheduled_for": ago(1)}),
    ),
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


INFRA = health.Infrastructure(
    hybrid_deployment_agents={
        "agent_up": {"id": "agent_up", "online": True, "enabled": True},
        "agent_offline": {"id": "agent_offline", "online": False, "enabled": True},
        "agent_disabled": {"id": "agent_disabled", "online": True, "enabled": False},
    },
    proxy_agents={
        "proxy_up": {"id": "proxy_up", "status": "CONNECTED"},
        "proxy_down": {"id": "proxy_down", "status": "NOT_CONNECTED"},
        "proxy_gone": {"id": "proxy_gone", "status": "NOT_FOUND"},
        "proxy_unknown": {"id": "proxy_unknown", "status": "SOMETHING_NEW"},
    },
    private_links={
        "link_ok": {"id": "link_ok", "state": "OK"},
        "link_updating": {"id": "link_updating", "state": "UPDATING"},
        "link_fail": {"id": "link_fail", "state": "FAIL"},
        "link_creating": {"id": "link_creating", "state": "CREATING"},
        "link_destroying": {"id": "link_destroying", "state": "destroying"},
    },
)

#: (expected blocked_by, connection fields): only a listed object that is down blocks.
BLOCKED_BY_CASES = [
    (None, {}),
    (None, {"hybrid_deployment_agent_id": "agent_up"}),
    ("hybrid_deployment_agent:agent_offline", {"hybrid_deployment_agent_id": "agent_offline"}),
    ("hybrid_deployment_agent:agent_disabled", {"hybrid_deployment_agent_id": "agent_disabled"}),
    ("hybrid_deployment_agent:agent_offline", {"local_processing_agent_id": "agent_offline"}),
    (None, {"hybrid_deployment_agent_id": "agent_not_listed"}),
    (None, {"proxy_agent_id": "proxy_up"}),
    ("proxy_agent:proxy_down", {"proxy_agent_id": "proxy_down"}),
    ("proxy_agent:proxy_gone", {"proxy_agent_id": "proxy_gone"}),
    (None, {"proxy_agent_id": "proxy_unknown"}),
    (None, {"private_link_id": "link_ok"}),
    (None, {"private_link_id": "link_updating"}),
    ("private_link:link_fail", {"private_link_id": "link_fail"}),
    ("private_link:link_creating", {"private_link_id": "link_creating"}),
    ("private_link:link_destroying", {"private_link_id": "link_destroying"}),
    (None, {"private_link_id": "link_not_listed"}),
    # Several down: the agent is named first, then the proxy, then the private link.
    (
        "hybrid_deployment_agent:agent_offline",
        {
            "private_link_id": "link_fail",
            "proxy_agent_id": "proxy_down",
            "hybrid_deployment_agent_id": "agent_offline",
        },
    ),
    ("proxy_agent:proxy_down", {"private_link_id": "link_fail", "proxy_agent_id": "proxy_down"}),
    (
        "private_link:link_fail",
        {"hybrid_deployment_agent_id": "agent_up", "private_link_id": "link_fail"},
    ),
]

CASES += [
    ("blocked", conn(proxy_agent_id="proxy_down")),
    ("blocked", conn(private_link_id="link_fail", status={"sync_state": "rescheduled"})),
    ("blocked", conn(hybrid_deployment_agent_id="agent_offline", failed_at=ago(5))),
    ("blocked", conn(proxy_agent_id="proxy_down", succeeded_at=ago(600))),
    ("broken", conn(proxy_agent_id="proxy_down", status={"setup_state": "broken"})),
    ("incomplete", conn(private_link_id="link_fail", status={"setup_state": "incomplete"})),
    ("paused", conn(paused=True, hybrid_deployment_agent_id="agent_offline")),
    ("healthy", conn(proxy_agent_id="proxy_up", private_link_id="link_updating")),
]


@pytest.mark.parametrize(("expected", "record"), CASES)
def test_health_first_match_wins(expected: str, record: dict[str, Any]) -> None:
    facts = health.ConnectionFacts.from_record(record, INFRA)
    assert health.health(facts, now=NOW, slack_minutes=60).value == expected


@pytest.mark.parametrize(("expected", "fields"), BLOCKED_BY_CASES)
def test_blocked_by(expected: str | None, fields: dict[str, Any]) -> None:
    assert health.blocked_by(conn(**fields), INFRA) == expected


def test_nothing_is_blocked_without_the_infrastructure_lists() -> None:
    record = conn(proxy_agent_id="proxy_down", private_link_id="link_fail")
    assert health.blocked_by(record, None) is None
    assert health.blocked_by(record, health.Infrastructure()) is None
    assert health.ConnectionFacts.from_record(record).blocked_by is None


def test_health_values_in_rule_order() -> None:
    values = [h.value for h in health.Health]
    assert values[0] == "deleted"  # not a rule: the row of a connection gone from Fivetran
    assert values.index("blocked") == values.index("broken") + 1
    assert values.index("rescheduled") == values.index("blocked") + 1


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
        "blocked_by": None,
        "task_count": 1,
        "warning_count": 2,
        "observed_at": "2026-11-27T12:00:00.000000Z",
    }
    blocked = health.derived_columns(
        {**record, "proxy_agent_id": "proxy_down"}, now=NOW, slack_minutes=60, infra=INFRA
    )
    assert (blocked["health"], blocked["blocked_by"]) == ("blocked", "proxy_agent:proxy_down")


@pytest.mark.parametrize(("raw", "expected"), [(60, 60), ("360", 360), (" 15 ", 15), ("²", None)])
def test_sync_frequency_parsing(raw: object, expected: int | None) -> None:
    # "²".isdigit() is true but int("²") fails: only ASCII digits are a frequency
    assert health.ConnectionFacts.from_record(conn(sync_frequency=raw)).sync_frequency == expected


def test_a_manual_schedule_has_no_freshness_by_frequency() -> None:
    old_success = ago(10 * 24 * 60)
    manual = health.derived_columns(
        conn(schedule_type="manual", succeeded_at=old_success), now=NOW, slack_minutes=60
    )
    assert manual["is_fresh"] is None
    assert manual["health"] == "healthy"
    assert manual["minutes_since_last_success"] == 10 * 24 * 60
    auto = health.derived_columns(conn(succeeded_at=old_success), now=NOW, slack_minutes=60)
    assert auto["is_fresh"] is False
    assert auto["health"] == "stale"


@pytest.mark.parametrize(("expected", "record"), CASES)
def test_no_rule_gives_deleted(expected: str, record: dict[str, Any]) -> None:
    verdict = health.health(health.ConnectionFacts.from_record(record), now=NOW, slack_minutes=60)
    assert verdict is not health.Health.DELETED
