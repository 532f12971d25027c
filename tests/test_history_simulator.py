"""Both history streams against the Fivetran simulator (real HTTP on loopback).

Covers request counts per run, the Meltano round trip (run, store the last STATE,
run again with it later) and interrupted runs: killed in-process right after a
record, and killed with SIGKILL as a subprocess. After an interruption only the
messages up to the last STATE count as delivered (a target commits up to the
state it forwards); the resumed run must then lose nothing and repeat only rows
at or after each connection's committed bookmark minus the overlap.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from history_helpers import (
    Capture,
    Clock,
    bookmarks,
    catalog_for,
    freeze_tap_clock,
    partitions,
    run_capture,
)

from fivetran_sim import FaultRule, SimConfig, Simulator
from tap_fivetran_meta.rules import recheck
from tap_fivetran_meta.rules.timeutil import format_timestamp, parse_timestamp
from tap_fivetran_meta.tap import TapFivetranMeta

if TYPE_CHECKING:
    from collections.abc import Iterator

SIM_NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
START = SIM_NOW - timedelta(days=10)  # two windows on the first run
OVERLAP = timedelta(minutes=60)
HISTORY_PATH = "GET /v1/connections/{id}/sync-history"
STATUS = "connection_status_history"
TAP_WITH_CLOCK = Path(__file__).parent / "frozen_clock_tap.py"


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it is written, nothing is cleaned up."""


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimConfig(connections=30, seed=1, api_key="k", api_secret="s", now=SIM_NOW)
    with Simulator(config) as simulator:
        yield simulator


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_tap_clock(monkeypatch, SIM_NOW)


def tap_config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": "k",
        "api_secret": "s",
        "api_url": sim.url,
        "start_date": format_timestamp(START),
        **extra,
    }


def advance(sim: Simulator, clock: Clock, minutes: int) -> None:
    sim.advance(minutes=minutes)
    clock.now = sim.now


def history_requests(sim: Simulator) -> int:
    return sim.request_counts().get(HISTORY_PATH, 0)


def truth(sim: Simulator, until: datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """Every sync the API shows between START and ``until``, by row key."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for cid in sim.dataset.connections:
        for item in sim.sync_history(cid, START, until):
            started = parse_timestamp(item["start"])
            assert started is not None
            found[(cid, format_timestamp(started))] = item
    return found


def row_key(row: dict[str, Any]) -> tuple[str, str]:
    return (row["connection_id"], row["started_at"])


def delivered(run: Capture) -> Capture:
    """The part of an interrupted run a target commits: everything up to the last STATE."""
    states = [i for i, m in enumerate(run.messages) if m["type"] == "STATE"]
    return Capture(run.messages[: states[-1] + 1] if states else [], None)


def assert_resume_is_exact(
    sim: Simulator, first: Capture, resumed: Capture, until: datetime, *, interrupted: bool = False
) -> None:
    """No sync lost; repeats only at or after the committed bookmark minus the overlap.

    Except, after an interruption, in the one connection the tap was writing: its
    bookmark is committed after its last row, so it is read again from its previous
    bookmark (the target's primary-key upsert absorbs the repeated rows).
    """
    committed = bookmarks(first.last_state)
    before = {row_key(r): r for r in first.records("sync_history")}
    after = [row_key(r) for r in resumed.records("sync_history")]
    assert len(after) == len(set(after)), "a run emitted the same sync twice"
    assert set(truth(sim, until)) <= set(before) | set(after), "a sync was lost"
    repeated_below_bookmark: set[str] = set()
    for row in resumed.records("sync_history"):
        if row_key(row) in before:
            floor = parse_timestamp(committed.get(row["connection_id"]))
            if floor is None or row["started_at"] < format_timestamp(floor - OVERLAP):
                repeated_below_bookmark.add(row["connection_id"])
    without_bookmark = {
        cid
        for cid in {r["connection_id"] for r in first.records("sync_history")}
        if cid not in committed
    }
    cut_short = repeated_below_bookmark | without_bookmark
    assert len(cut_short) <= (1 if interrupted else 0), f"repeated beyond the bookmark: {cut_short}"


def assert_never_ahead(messages: list[dict[str, Any]], visible: set[tuple[str, str]]) -> None:
    """Every STATE covers only rows already written.

    Each sync the API listed that started at or before a connection's bookmark
    must have been written before the STATE naming that bookmark.

    Args:
        messages: Everything written, in order (earlier runs first).
        visible: ``(connection_id, started_at)`` of every sync the API listed when
            the last run read it.
    """
    written: set[tuple[str, str]] = set()
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] == "sync_history":
            written.add(row_key(message["record"]))
        elif message["type"] == "STATE":
            for cid, value in bookmarks(message["value"]).items():
                due = {(c, started) for c, started in visible if c == cid and started <= value}
                assert due <= written, f"STATE put {cid} at {value} before writing {due - written}"


def visible_now(sim: Simulator) -> set[tuple[str, str]]:
    """``(connection_id, started_at)`` of every sync the API lists right now."""
    return set(truth(sim, sim.now))


def change_keys(*runs: Capture) -> dict[tuple[str, str], set[str]]:
    """``(connection_id, fingerprint)`` of each status row written -> its change_ids."""
    keys: dict[tuple[str, str], set[str]] = {}
    for run in runs:
        for row in run.records(STATUS):
            keys.setdefault((row["connection_id"], row["fingerprint"]), set()).add(row["change_id"])
    return keys


def status_fingerprints(*runs: Capture) -> list[tuple[str, str]]:
    return [(r["connection_id"], r["fingerprint"]) for run in runs for r in run.records(STATUS)]


# --- request counts and the Meltano round trip ----------------------------------------------


def test_first_and_incremental_runs_request_only_the_windows_needed(
    sim: Simulator, clock: Clock
) -> None:
    connections = len(sim.dataset.connections)
    first = run_capture(tap_config(sim))
    assert first.error is None
    assert history_requests(sim) == 2 * connections  # 10 days = two windows each
    assert {row_key(r) for r in first.records("sync_history")} == set(truth(sim, SIM_NOW))
    assert len(first.records(STATUS)) == connections

    assert_never_ahead(first.messages, visible_now(sim))

    sim.reset_counts()
    advance(sim, clock, 360)
    second = run_capture(tap_config(sim), state=first.last_state)  # what Meltano stored
    assert second.error is None
    assert_never_ahead([*first.messages, *second.messages], visible_now(sim))
    # Bookmarks < 7 days old: one window for each connection where a sync can have
    # started or ended since (its sync marker moved, or it was syncing); none for the rest.
    assert 0 < second.history_reads() < connections
    assert history_requests(sim) == second.history_reads()
    assert_resume_is_exact(sim, first, second, sim.now)
    before = {row_key(r): r for r in first.records("sync_history")}
    new = {row_key(r) for r in second.records("sync_history")} - set(before)
    assert new == set(truth(sim, sim.now)) - set(truth(sim, SIM_NOW))
    for row in second.records("sync_history"):  # only new or changed rows
        assert row_key(row) not in before or row != before[row_key(row)]
    changed = [
        r for r in second.records("sync_history") if r["outcome"] != "running" and r["ended_at"]
    ]
    assert changed  # finished syncs, including those that were running before

    sim.reset_counts()
    third = run_capture(tap_config(sim), state=second.last_state)  # no time has passed
    # Only where a sync runs (it may end any moment); everything else is unchanged.
    reasons = third.tap.streams["sync_history"].read_reasons  # type: ignore[union-attr]
    assert set(reasons) <= {None, recheck.SYNCING, recheck.WAS_RUNNING}
    assert history_requests(sim) == third.history_reads() < connections
    assert third.records(STATUS) == []
    assert third.records("sync_history") == []
    assert bookmarks(third.last_state) == bookmarks(second.last_state)


def test_a_running_sync_is_emitted_again_once_it_finished(sim: Simulator, clock: Clock) -> None:
    first = run_capture(tap_config(sim))
    running = {row_key(r) for r in first.records("sync_history") if r["ended_at"] is None}
    assert running  # the 'syncing' and 'historical_sync' scenarios
    advance(sim, clock, 24 * 60)
    second = run_capture(tap_config(sim), state=first.last_state)
    now = truth(sim, sim.now)
    finished = {key for key in running if now[key]["end"] is not None}
    assert finished  # the 'syncing' one ended; the historical re-sync still runs
    again = {row_key(r): r for r in second.records("sync_history")}
    for key in finished:
        assert again[key]["ended_at"] is not None
        assert again[key]["outcome"] != "running"
    assert not (running - finished) & set(again)  # still running, unchanged: not repeated


def test_filtered_out_connections_cost_no_request(sim: Simulator, clock: Clock) -> None:
    chosen = sorted(sim.dataset.connections)[:5]
    run = run_capture(
        tap_config(
            sim, connection_ids=chosen, start_date=format_timestamp(SIM_NOW - timedelta(days=3))
        )
    )
    assert history_requests(sim) == len(chosen)
    assert {r["connection_id"] for r in run.records("sync_history")} <= set(chosen)
    assert set(partitions(run.last_state, STATUS)) == set(chosen)


def test_an_absent_endpoint_warns_once_and_the_run_goes_on(
    sim: Simulator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    sim.add_fault(FaultRule(path=r"/sync-history$", kind="absent"))
    run = run_capture(tap_config(sim))
    assert run.error is None
    assert history_requests(sim) == 3  # three connections answer 404, none succeeds
    assert run.records("sync_history") == []
    assert len(run.records(STATUS)) == len(sim.dataset.connections)
    assert len([r for r in caplog.records if "disabled for this run" in r.getMessage()]) == 1


# --- interruption and resume ---------------------------------------------------------------


def kill_at_record(
    monkeypatch: pytest.MonkeyPatch, stream: str, count: int, *, graceful: bool
) -> None:
    """Make the tap die at its ``count``-th record of ``stream``.

    Killed (SIGKILL): right after writing that record. Terminated (SIGTERM/SIGINT
    while the tap is about to write it): the SDK's signal handler writes the state
    the tap holds at that instant, and the record is never written.
    """
    seen = {"n": 0}
    original = TapFivetranMeta.write_message

    def write_or_die(self: TapFivetranMeta, message: Any) -> None:
        is_target = getattr(message, "type", None) == "RECORD" and message.stream == stream
        seen["n"] += is_target
        if is_target and seen["n"] == count and graceful:
            self.state_writer.write_state(self.state)
            raise Killed
        original(self, message)
        if is_target and seen["n"] == count:
            raise Killed

    monkeypatch.setattr(TapFivetranMeta, "write_message", write_or_die)


@pytest.mark.parametrize("graceful", [False, True], ids=["killed", "terminated"])
@pytest.mark.parametrize(
    ("incremental", "kill_at"),
    [(False, 1), (False, 37), (False, 250), (True, 1), (True, 9)],
)
def test_an_interrupted_run_resumes_without_loss_or_extra_duplicates(
    *,
    sim: Simulator,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    incremental: bool,
    kill_at: int,
    graceful: bool,
) -> None:
    baseline = run_capture(tap_config(sim)) if incremental else Capture([], None)
    advance(sim, clock, 360)

    with monkeypatch.context() as patch:
        kill_at_record(patch, "sync_history", kill_at, graceful=graceful)
        interrupted = _capture_killed(tap_config(sim), baseline.last_state)
    committed = delivered(interrupted)
    assert len(interrupted.records("sync_history")) == kill_at - graceful
    assert_never_ahead([*baseline.messages, *interrupted.messages], visible_now(sim))

    advance(sim, clock, 10)
    # Meltano merges the partial state of a failed run onto the last complete one.
    resumed = run_capture(tap_config(sim), state=merge(committed.last_state, baseline.last_state))
    assert resumed.error is None
    assert_resume_is_exact(sim, merged(baseline, committed), resumed, sim.now, interrupted=True)
    fingerprints = status_fingerprints(baseline, committed, resumed)
    assert len(fingerprints) == len(set(fingerprints)), "an unchanged status was written twice"
    assert {cid for cid, _ in fingerprints} == set(sim.dataset.connections)


@pytest.mark.parametrize("graceful", [False, True], ids=["killed", "terminated"])
def test_an_interrupted_status_history_loses_and_repeats_nothing(
    sim: Simulator, clock: Clock, monkeypatch: pytest.MonkeyPatch, graceful: bool
) -> None:
    with monkeypatch.context() as patch:
        kill_at_record(patch, STATUS, 7, graceful=graceful)
        interrupted = _capture_killed(tap_config(sim), {})
    committed = delivered(interrupted)
    advance(sim, clock, 1)
    resumed = run_capture(tap_config(sim), state=committed.last_state)
    fingerprints = status_fingerprints(committed, resumed)
    assert len(fingerprints) == len(set(fingerprints)), "an unchanged status was written twice"
    assert {cid for cid, _ in fingerprints} == set(sim.dataset.connections), "a status was lost"
    for row in resumed.records(STATUS):
        previous = partitions(committed.last_state, STATUS).get(row["connection_id"], {})
        assert row["previous_fingerprint"] == previous.get("fingerprint")


def _capture_killed(config: dict[str, Any], state: dict[str, Any]) -> Capture:
    """Run until Killed; return what reached stdout before that."""
    tap = TapFivetranMeta(
        config=config,
        state=copy.deepcopy(state),
        catalog=catalog_for({"connections", "sync_history", STATUS}),
        parse_env_config=False,
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(Killed):
        tap.sync_all()
        pytest.fail("the run was not interrupted")
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return Capture(messages, Killed())


def merge(partial: dict[str, Any], complete: dict[str, Any]) -> dict[str, Any]:
    """Meltano's state merge (``meltano.core.utils.merge``): dicts deep, lists replaced."""
    result = json.loads(json.dumps(complete))
    _merge_into(partial, result)
    return result


def _merge_into(src: dict[str, Any], dest: dict[str, Any]) -> None:
    for key, value in src.items():
        if isinstance(value, dict):
            _merge_into(value, dest.setdefault(key, {}))
        else:
            dest[key] = value


def merged(complete: Capture, partial: Capture) -> Capture:
    """Messages of a complete run followed by a delivered partial one, as one history."""
    state = merge(partial.last_state, complete.last_state)
    return Capture([*complete.messages, *partial.messages, {"type": "STATE", "value": state}], None)


def test_meltano_merge_matches_meltano() -> None:
    meltano_utils = pytest.importorskip("meltano.core.utils")
    partial = {"bookmarks": {"a": {"partitions": [{"x": 1}]}, "b": {"v": 2}}}
    complete = {"bookmarks": {"a": {"partitions": [{"x": 0}, {"y": 0}]}, "c": {"v": 3}}}
    expected = meltano_utils.merge(
        json.loads(json.dumps(partial)), json.loads(json.dumps(complete))
    )
    assert merge(partial, complete) == expected


# --- SIGKILL / SIGTERM to a subprocess -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_tap_process_resumes_without_loss(
    sim: Simulator, clock: Clock, tmp_path: Path, signum: signal.Signals
) -> None:
    sim.add_fault(FaultRule(path=r"/sync-history$", kind="latency", delay_s=0.02))
    config_path = tmp_path / "config.json"
    # A STATE after every few records, so the kill lands between several of them.
    config_path.write_text(json.dumps(tap_config(sim, records_per_state_message=15)))
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog_for({"connections", "sync_history", STATUS})))
    env = {**os.environ, "FROZEN_NOW": sim.now.isoformat(), "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("TAP_FIVETRAN_META_")}
    command = [
        sys.executable,
        str(TAP_WITH_CLOCK),
        "--config",
        str(config_path),
        "--catalog",
        str(catalog_path),
    ]
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    ) as process:
        assert process.stdout is not None
        history_states = 0
        for line in process.stdout:
            lines.append(line)
            message = json.loads(line)
            if message["type"] == "STATE" and bookmarks(message["value"]):
                history_states += 1
                if history_states == 12:
                    process.send_signal(signum)
                    if signum == signal.SIGKILL:
                        break
        process.wait(timeout=30)
    # On SIGTERM the tap writes the state it holds and exits 143 (128 + 15): the run
    # did not finish, and Meltano must not take it for a success.
    assert process.returncode == (-signal.SIGKILL if signum == signal.SIGKILL else 143)
    killed = Capture([json.loads(line) for line in lines if line.endswith("\n")], Killed())
    assert_never_ahead(killed.messages, visible_now(sim))
    committed = delivered(killed)
    assert 0 < len(bookmarks(committed.last_state)) < len(sim.dataset.connections)

    resumed = run_capture(tap_config(sim), state=committed.last_state)
    assert resumed.error is None
    assert_resume_is_exact(sim, committed, resumed, sim.now, interrupted=True)
    # A change the killed run wrote but whose STATE never arrived is sent again by the
    # resumed run, under the same key (issue 22 item 8): an upserting target keeps one.
    keys = change_keys(committed, resumed)
    assert all(len(ids) == 1 for ids in keys.values()), "a status change under two keys"
    assert {cid for cid, _ in keys} == set(sim.dataset.connections)
