"""The tap against the simulator serving what Fivetran really serves (issue: real-API fidelity).

Each case is one of the real API's behaviours the first release got wrong: a connection
deleted after the list was read answering a bare ``NotFound``; a server refusing a
window of exactly 7 days; a trial account's 500 requests an hour; sync-history items
with only ``start``/``end``/``status``; a never-synced connection; project health on
the detail call only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from fivetran_sim import FaultRule, SimConfig, Simulator
from fivetran_sim.config import TRIAL_RATE_LIMIT_PER_HOUR
from tap_fivetran_meta.api.errors import FivetranAPIError
from tap_fivetran_meta.api.ratelimit import RateBudget
from tap_fivetran_meta.rules.timeutil import format_timestamp

from tap_runner import TapRun, catalog_selecting, run_tap

if TYPE_CHECKING:
    from collections.abc import Iterator

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)
HISTORY = "GET /v1/connections/{id}/sync-history"


def simulator(**overrides: Any) -> Simulator:
    config = {"connections": 20, "seed": 5, "api_key": "k", "api_secret": "s", "now": NOW}
    return Simulator(SimConfig(**{**config, **overrides}))


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with simulator() as started:
        yield started


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: NOW)


def config_for(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"api_key": "k", "api_secret": "s", "api_url": sim.url, **extra}


def run(sim: Simulator, streams: set[str], **extra: Any) -> TapRun:
    return run_tap(config_for(sim, **extra), catalog=catalog_selecting(streams))


# --- 404s ------------------------------------------------------------------------------


def test_a_vanished_first_connection_leaves_the_others_history_intact(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    first = sorted(sim.dataset.connections)[0]  # the first connection the tap asks about
    sim.vanish_after_list(first)
    with caplog.at_level(logging.INFO):
        result = run(sim, {"connections", "sync_history"})
    expected = sim.expected_counts()["sync_history"]
    assert expected > 0
    assert result.count("sync_history") == expected
    assert first not in {r["connection_id"] for r in result.records["sync_history"]}
    assert "disabled for this run" not in caplog.text
    assert "skipped parents: HTTP 404 NotFound=1" in caplog.text


def test_bare_and_prefixed_not_found_codes_are_both_one_vanished_object() -> None:
    with simulator(prefixed_not_found_codes=True) as sim:
        gone = sorted(sim.dataset.connections)[0]
        sim.vanish_after_list(gone)
        result = run(sim, {"connections", "sync_history", "connection_tables"})
        assert result.count("sync_history") == sim.expected_counts()["sync_history"]
        assert result.count("connection_tables") == sim.expected_counts()["connection_tables"]


def test_an_account_without_the_endpoint_costs_three_requests(sim: Simulator) -> None:
    sim.add_fault(FaultRule(path=r"/sync-history$", kind="absent"))
    result = run(sim, {"connections", "sync_history"})
    assert result.count("sync_history") == 0
    assert sim.request_counts()[HISTORY] == 3


def test_a_vanished_user_and_team_are_skipped_not_the_stream(sim: Simulator) -> None:
    user = sorted(sim.dataset.users)[0]
    team = sorted(sim.dataset.teams)[0]
    for path in (rf"^/v1/users/{user}/", rf"^/v1/teams/{team}/"):
        sim.add_fault(
            FaultRule(
                path=path,
                kind="http_error",
                status=404,
                body={"code": "NotFound", "message": "User with id x not found"},
            )
        )
    result = run(sim, {"users", "user_memberships", "teams", "team_memberships"})
    ds = sim.dataset
    assert user not in {r["user_id"] for r in result.records["user_memberships"]}
    assert result.count("user_memberships") == sum(
        len(ds.user_groups[u]) + len(ds.user_connections[u]) for u in ds.users if u != user
    )
    assert result.count("team_memberships") == sum(
        len(ds.team_users[t]) + len(ds.team_groups[t]) + len(ds.team_connections[t])
        for t in ds.teams
        if t != team
    )


# --- windows ------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [None, 7, 10])
def test_a_server_refusing_exactly_seven_days_is_never_asked_for_them(
    sim: Simulator, days: int | None
) -> None:
    # The simulator takes the strict reading by default: exactly 7 days is a 400.
    extra = {} if days is None else {"start_date": format_timestamp(NOW - timedelta(days=days))}
    result = run(sim, {"connections", "sync_history"}, **extra)
    start = None if days is None else NOW - timedelta(days=days)
    assert result.count("sync_history") == sim.expected_counts(start=start)["sync_history"]


def test_a_rejected_window_fails_the_run_with_fivetrans_message(sim: Simulator) -> None:
    sim.add_fault(
        FaultRule(
            path=r"/sync-history$",
            kind="http_error",
            status=400,
            body={"code": "InvalidInput", "message": "maximum allowed range is 7 days"},
        )
    )
    with pytest.raises(FivetranAPIError, match="InvalidInput: maximum allowed range is 7 days"):
        run(sim, {"connections", "sync_history"})


# --- sync-history items -----------------------------------------------------------------


def test_rows_come_from_start_end_and_status_only(sim: Simulator) -> None:
    result = run(sim, {"connections", "sync_history"})
    rows = result.records["sync_history"]
    assert rows
    assert all(row["extra_fields"] is None for row in rows)
    outcomes = {row["outcome"] for row in rows}
    assert {"succeeded", "failed", "running"} <= outcomes
    keys = [(row["connection_id"], row["started_at"]) for row in rows]
    assert len(keys) == len(set(keys))


def test_undocumented_item_fields_land_in_extra_fields_only() -> None:
    with simulator(sync_item_extras=True) as sim:
        rows = run(sim, {"connections", "sync_history"}).records["sync_history"]
    assert rows
    assert all({"sync_id", "reason"} <= set(row["extra_fields"]) for row in rows)
    assert not {"sync_id", "reason", "sync_key"} & set(rows[0])


# --- new connections and project health -------------------------------------------------


def test_a_never_synced_connection_waits_for_its_first_sync(sim: Simulator) -> None:
    new = sim.dataset.by_scenario("never_synced")[0]
    result = run(sim, {"connections", "sync_history"})
    row = next(r for r in result.records["connections"] if r["id"] == new.id)
    assert row["is_historical_sync"] is True
    assert row["succeeded_at"] is None
    assert row["health"] == "first_sync"  # not stale, not broken
    # Its queued first sync is listed with a null start: nothing to emit, nothing broke.
    assert new.id not in {r["connection_id"] for r in result.records.get("sync_history", [])}


def test_project_health_comes_from_the_detail_call(sim: Simulator) -> None:
    result = run(sim, {"transformation_projects"})
    projects = sim.dataset.projects
    assert result.count("transformation_projects") == len(projects)
    for row in result.records["transformation_projects"]:
        truth = projects[row["id"]]
        assert row["type"] == "DBT_GIT"
        assert (row["status"], row["errors"]) == (truth["status"], truth["errors"])
        assert row["setup_tests"] == truth["setup_tests"]
        assert "environment_vars" not in row["project_config"]
    assert sim.request_counts()["GET /v1/transformation-projects/{id}"] == len(projects)


# --- rate limits ------------------------------------------------------------------------------


def test_the_pacing_reserve_scales_with_the_accounts_limit() -> None:
    budget = RateBudget(10000, sleep=lambda _: None)
    assert budget.reserve == 500  # before any response: 5 % of the client budget

    class Response:
        def __init__(self, limit: int, remaining: int) -> None:
            self.headers = {"X-Rate-Limit": str(limit), "X-Rate-Limit-Remaining": str(remaining)}

    budget.observe(Response(500, 480))  # type: ignore[arg-type]
    assert budget.reserve == 25
    assert budget.pacing_seconds() == 0.0  # a trial account with most of its hour left
    budget.observe(Response(500, 10))  # type: ignore[arg-type]
    assert budget.pacing_seconds() > 0
    budget.observe(Response(20000, 1200))  # type: ignore[arg-type]
    assert budget.reserve == 1000
    assert budget.pacing_seconds() == 0.0
    assert RateBudget(10000, reserve=50).reserve == 50  # a configured reserve wins


def test_a_trial_account_run_is_not_paced(caplog: pytest.LogCaptureFixture) -> None:
    with simulator(rate_limit_per_hour=TRIAL_RATE_LIMIT_PER_HOUR) as sim:
        with caplog.at_level(logging.INFO):
            result = run_tap(config_for(sim))
        requests = sum(sim.request_counts().values())
    assert result.tap.rate_budget.waited_seconds == 0.0
    assert 0 < requests < TRIAL_RATE_LIMIT_PER_HOUR
    limit_lines = [r for r in caplog.records if "requests per hour" in r.getMessage()]
    assert len(limit_lines) == 1
    assert "allows this account 500 requests per hour" in limit_lines[0].getMessage()


def test_an_exhausted_trial_account_says_when_to_run_again() -> None:
    with (
        simulator(connections=5, rate_limit_per_hour=3) as sim,
        pytest.raises(FivetranAPIError, match="Run again later, raise max_retry_wait"),
    ):
        run(sim, {"account", "groups", "destinations", "connections"})
