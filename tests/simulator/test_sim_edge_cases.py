"""The cases real accounts serve beyond the health scenarios (fivetran_sim/edge_cases.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import requests
from sim_helpers import FIXED_NOW, collect, get_data, make_config

from fivetran_sim import Simulator
from fivetran_sim.model import EDGE_SCENARIOS, LONG_RUNNING_SYNC, MANUAL_SCHEDULE, STALE_RESCHEDULE
from tap_fivetran_meta.rules.timeutil import parse_timestamp

if TYPE_CHECKING:
    from datetime import datetime


def _at(value: object) -> datetime:
    parsed = parse_timestamp(value)
    assert parsed is not None, value
    return parsed


def _connection(sim: Simulator, http: requests.Session, scenario: str) -> dict:
    [conn] = sim.dataset.by_scenario(scenario)
    return get_data(http, f"{sim.url}/connections/{conn.id}")


def test_a_large_account_has_each_edge_case_once(shared_sim: Simulator) -> None:
    for scenario in EDGE_SCENARIOS:
        assert len(shared_sim.dataset.by_scenario(scenario)) == 1, scenario


def test_a_manual_schedule_keeps_its_frequency_and_has_not_synced_for_days(
    shared_sim: Simulator, http: requests.Session
) -> None:
    item = _connection(shared_sim, http, MANUAL_SCHEDULE)
    assert item["schedule_type"] == "manual"
    assert item["sync_frequency"] > 0
    assert FIXED_NOW - _at(item["succeeded_at"]) > timedelta(days=2)
    assert item["status"]["sync_state"] == "scheduled"


def test_a_stale_rescheduled_for_lies_before_the_last_success(
    shared_sim: Simulator, http: requests.Session
) -> None:
    item = _connection(shared_sim, http, STALE_RESCHEDULE)
    assert item["status"]["sync_state"] == "rescheduled"
    rescheduled_for = _at(item["status"]["rescheduled_for"])
    assert rescheduled_for < _at(item["succeeded_at"]) < FIXED_NOW - timedelta(days=1)


def test_a_stale_rescheduled_for_stays_put_as_time_moves(
    sim: Simulator, http: requests.Session
) -> None:
    before = _connection(sim, http, STALE_RESCHEDULE)["status"]["rescheduled_for"]
    sim.advance(minutes=120)
    assert _connection(sim, http, STALE_RESCHEDULE)["status"]["rescheduled_for"] == before


def test_a_sync_runs_for_ten_hours_where_syncs_take_minutes(
    shared_sim: Simulator, http: requests.Session
) -> None:
    item = _connection(shared_sim, http, LONG_RUNNING_SYNC)
    assert item["status"]["sync_state"] == "syncing"
    history = collect(
        http,
        f"{shared_sim.url}/connections/{item['id']}/sync-history",
        start_time=(FIXED_NOW - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_time=FIXED_NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    running = [s for s in history if s["end"] is None]
    assert len(running) == 1
    assert FIXED_NOW - _at(running[0]["start"]) == timedelta(hours=10)
    finished = [s for s in history if s["end"] is not None]
    assert finished
    assert all(_at(s["end"]) - _at(s["start"]) < timedelta(hours=1) for s in finished)
    assert all(_at(s["end"]) <= _at(running[0]["start"]) for s in finished), "syncs overlap"


def test_a_project_in_error_cannot_clone_its_repository(
    shared_sim: Simulator, http: requests.Session
) -> None:
    failing = [p for p in shared_sim.dataset.projects.values() if p["status"] == "ERROR"]
    assert failing
    detail = get_data(http, f"{shared_sim.url}/transformation-projects/{failing[0]['id']}")
    assert detail["status"] == "ERROR"
    assert detail["errors"] == ["Unable to clone the repository"]


def test_a_disabled_table_still_names_its_destination_table(
    shared_sim: Simulator, http: requests.Session
) -> None:
    disabled = []
    for conn in shared_sim.dataset.connections.values():
        if not conn.has_schema_config or conn.vanished:
            continue
        config = get_data(http, f"{shared_sim.url}/connections/{conn.id}/schemas")
        for schema in (config.get("schemas") or {}).values():
            disabled += [
                t for t in (schema.get("tables") or {}).values() if t.get("enabled") is False
            ]
    assert disabled
    assert all(t.get("name_in_destination") for t in disabled)


def test_a_small_account_keeps_its_healthy_connections() -> None:
    with Simulator(make_config(connections=20, seed=3)) as sim:
        assert not any(sim.dataset.by_scenario(s) for s in EDGE_SCENARIOS)
