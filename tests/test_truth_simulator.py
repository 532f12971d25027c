"""The tap's truth tables against the simulator: deletion, the run log, issues, edge cases.

Real HTTP on loopback; the simulator's admin API deletes connections and moves time.
"""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
import requests
from history_helpers import (
    Capture,
    Clock,
    catalog_for,
    freeze_tap_clock,
    partitions,
    run_capture,
)

from fivetran_sim import FaultRule, SimConfig, Simulator
from fivetran_sim.model import LONG_RUNNING_SYNC, MANUAL_SCHEDULE, STALE_RESCHEDULE
from tap_fivetran_meta.rules.timeutil import format_timestamp
from tap_fivetran_meta.streams import STREAM_TYPES
from tap_fivetran_meta.tap import TapFivetranMeta

if TYPE_CHECKING:
    from collections.abc import Iterator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
STATUS = "connection_status_history"
ISSUES = "connection_status_issues"
RUNS = "tap_runs"
STREAMS = {"connections", STATUS, ISSUES, RUNS}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(connections=40, seed=5, api_key="k", api_secret="s", now=NOW)) as s:
        yield s


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_tap_clock(monkeypatch, NOW)


def config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"api_key": "k", "api_secret": "s", "api_url": sim.url, "page_size": 7, **extra}


def later(sim: Simulator, clock: Clock, minutes: int) -> None:
    """Move the simulator's clock and the tap's together (the admin API, as a user would)."""
    answer = requests.post(f"{sim.admin_url}/advance", json={"minutes": minutes}, timeout=5)
    assert answer.status_code == 200
    clock.now = sim.now


def delete(sim: Simulator, connection_id: str) -> None:
    answer = requests.post(
        f"{sim.admin_url}/delete-connection", json={"id": connection_id}, timeout=5
    )
    assert answer.status_code == 200


def deleted_rows(run: Capture) -> list[dict[str, Any]]:
    return [r for r in run.records(STATUS) if r["health"] == "deleted"]


# --- deleted connections --------------------------------------------------------------------


def test_a_connection_deleted_in_fivetran_is_written_deleted_once(
    sim: Simulator, clock: Clock
) -> None:
    first = run_capture(config(sim), streams=STREAMS)
    victim = sorted(sim.dataset.connections)[3]
    delete(sim, victim)
    later(sim, clock, 60)
    second = run_capture(config(sim), state=first.last_state, streams=STREAMS)
    assert second.error is None
    [row] = deleted_rows(second)
    assert row["connection_id"] == victim
    assert row["observed_at"] == format_timestamp(sim.now)
    [run] = second.records(RUNS)
    assert run["started_at"] == row["observed_at"]
    assert run["connections_listing_complete"] is True
    assert run["connections_listed"] == len(sim.dataset.connections)

    later(sim, clock, 60)
    third = run_capture(config(sim), state=second.last_state, streams=STREAMS)
    assert deleted_rows(third) == []


@pytest.mark.parametrize("setting", ["connection_ids", "group_ids", "services"])
def test_a_connection_left_out_by_a_filter_is_not_deleted(
    sim: Simulator, clock: Clock, setting: str
) -> None:
    first = run_capture(config(sim), streams=STREAMS)
    victim = sim.dataset.connections[sorted(sim.dataset.connections)[3]]
    others = [c for c in sim.dataset.connections.values() if c.id != victim.id]
    values = {
        "connection_ids": [c.id for c in others],
        "group_ids": sorted({c.group_id for c in others} - {victim.group_id}),
        "services": sorted({c.service for c in others} - {victim.service}),
    }[setting]
    assert values
    later(sim, clock, 60)
    filtered = run_capture(
        config(sim, **{setting: values}), state=first.last_state, streams=STREAMS
    )
    assert filtered.error is None
    assert deleted_rows(filtered) == []
    [run] = filtered.records(RUNS)
    assert run["is_filtered"] is True
    assert run["connections_listing_complete"] is False
    assert run[setting] == ",".join(sorted(values))
    # Deleted meanwhile, seen by a filtered run: still not deleted; the next complete run is.
    delete(sim, victim.id)
    again = run_capture(
        config(sim, **{setting: values}), state=filtered.last_state, streams=STREAMS
    )
    assert deleted_rows(again) == []
    complete = run_capture(config(sim), state=again.last_state, streams=STREAMS)
    assert [r["connection_id"] for r in deleted_rows(complete)] == [victim.id]


def test_a_failed_listing_deletes_nothing(sim: Simulator, clock: Clock) -> None:
    first = run_capture(config(sim), streams=STREAMS)
    delete(sim, sorted(sim.dataset.connections)[0])
    later(sim, clock, 60)
    sim.add_fault(FaultRule(path=r"/v1/connections$", kind="http_error", status=400))
    failed = run_capture(config(sim, max_retries=0), state=first.last_state, streams=STREAMS)
    assert failed.error is not None
    assert deleted_rows(failed) == []
    assert failed.records(RUNS) == []


def test_a_run_failing_after_a_complete_listing_deletes_but_logs_no_run(
    sim: Simulator, clock: Clock
) -> None:
    first = run_capture(config(sim), streams=STREAMS)
    victim = sorted(sim.dataset.connections)[0]
    delete(sim, victim)
    later(sim, clock, 60)
    sim.add_fault(FaultRule(path=r"/v1/users$", kind="http_error", status=400))
    failed = run_capture(
        config(sim, max_retries=0), state=first.last_state, streams={*STREAMS, "users"}
    )
    assert failed.error is not None
    assert [r["connection_id"] for r in deleted_rows(failed)] == [victim]
    assert failed.records(RUNS) == []


# --- the run log ----------------------------------------------------------------------------


def test_one_run_one_row_written_last(sim: Simulator, clock: Clock) -> None:
    run = run_capture(config(sim), streams=[t.name for t in STREAM_TYPES])
    assert run.error is None
    [row] = run.records(RUNS)
    records = [m for m in run.messages if m["type"] == "RECORD"]
    assert records[-1]["stream"] == RUNS
    assert row["started_at"] == format_timestamp(NOW)
    assert {r["observed_at"] for r in run.records("connections")} == {row["started_at"]}
    assert {r["observed_at"] for r in run.records(STATUS)} == {row["started_at"]}
    assert row["is_filtered"] is False
    assert row["group_ids"] is row["connection_ids"] is row["services"] is None
    completed = row["streams_completed"].split(",")
    assert completed == sorted(completed)
    assert {"connections", STATUS, ISSUES, "sync_history", "account"} <= set(completed)
    assert RUNS not in completed
    assert row["tap_version"]
    later(sim, clock, 30)
    second = run_capture(config(sim), state=run.last_state, streams=STREAMS)
    [next_row] = second.records(RUNS)
    assert next_row["run_id"] != row["run_id"]
    assert next_row["started_at"] == format_timestamp(NOW + timedelta(minutes=30))


def test_an_unavailable_stream_is_not_listed_as_completed(sim: Simulator, clock: Clock) -> None:
    sim.add_fault(FaultRule(path=r"/v1/transformations$", kind="http_error", status=403))
    run = run_capture(config(sim), streams={"transformations", "connections", RUNS})
    [row] = run.records(RUNS)
    assert row["streams_completed"].split(",") == ["connections"]


def test_an_interrupted_run_writes_no_run_row(
    sim: Simulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Stop(BaseException):
        """Stands for SIGKILL: nothing after it is written."""

    original = TapFivetranMeta.write_message
    seen = {"n": 0}

    def stop_at_the_tenth_status_row(self: TapFivetranMeta, message: Any) -> None:
        original(self, message)
        seen["n"] += getattr(message, "stream", None) == STATUS
        if seen["n"] == 10:
            raise Stop

    monkeypatch.setattr(TapFivetranMeta, "write_message", stop_at_the_tenth_status_row)
    tap = TapFivetranMeta(config=config(sim), catalog=catalog_for(STREAMS), parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(Stop):
        tap.sync_all()
        pytest.fail("the run was not interrupted")
    written = Capture([json.loads(line) for line in out.getvalue().splitlines()], None)
    assert 0 < len(written.records(STATUS)) <= 10  # the last ones were still buffered
    assert written.records(RUNS) == []


# --- issues and edge cases ----------------------------------------------------------------


def test_tasks_and_warnings_are_rows_of_their_status_change(sim: Simulator, clock: Clock) -> None:
    run = run_capture(config(sim), streams=STREAMS)
    status = {r["connection_id"]: r for r in run.records(STATUS)}
    issues = run.records(ISSUES)
    expected = {
        (cid, kind, code)
        for cid, row in status.items()
        for kind, codes in (("task", row["task_codes"]), ("warning", row["warning_codes"]))
        for code in codes
    }
    assert {(i["connection_id"], i["kind"], i["code"]) for i in issues} == expected
    assert any(i["kind"] == "task" for i in issues)
    assert all(i["change_id"] == status[i["connection_id"]]["change_id"] for i in issues)
    assert all(i["message"] for i in issues)


def test_the_edge_cases_get_the_right_health(sim: Simulator, clock: Clock) -> None:
    run = run_capture(config(sim), streams={"connections", "transformation_projects"})
    health = {r["id"]: r for r in run.records("connections")}

    def of(scenario: str) -> dict[str, Any]:
        return health[sim.dataset.by_scenario(scenario)[0].id]

    manual = of(MANUAL_SCHEDULE)
    assert (manual["health"], manual["is_fresh"]) == ("healthy", None)
    assert of(STALE_RESCHEDULE)["health"] == "stale"
    assert of(LONG_RUNNING_SYNC)["health"] == "syncing"
    failing = [r for r in run.records("transformation_projects") if r["status"] == "ERROR"]
    assert failing
    assert failing[0]["error_count"] == 1
    assert failing[0]["errors_text"] == "Unable to clone the repository"
    assert all(
        r["error_count"] == 0 and r["errors_text"] is None
        for r in run.records("transformation_projects")
        if r["status"] != "ERROR"
    )


def test_deleted_partitions_age_out(sim: Simulator, clock: Clock) -> None:
    first = run_capture(config(sim), streams=STREAMS)
    victim = sorted(sim.dataset.connections)[5]
    delete(sim, victim)
    later(sim, clock, 60)
    second = run_capture(config(sim), state=first.last_state, streams=STREAMS)
    assert victim in partitions(second.last_state, STATUS)
    later(sim, clock, 31 * 24 * 60)
    third = run_capture(config(sim), state=second.last_state, streams=STREAMS)
    assert victim not in partitions(third.last_state, STATUS)
    assert deleted_rows(third) == []
