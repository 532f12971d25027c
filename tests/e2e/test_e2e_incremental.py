"""Incremental history through Meltano's own state, and a tap killed mid-run, into PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from fivetran_sim import FaultRule, SimConfig, Simulator
from tap_fivetran_meta.rules.timeutil import format_timestamp

from conftest import MELTANO, ROOT, Warehouse, meltano_env, meltano_run

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

SYNC_STREAMS = "connections sync_history connection_status_history connection_tables"


@pytest.fixture
def past_sim() -> Iterator[Simulator]:
    """A simulator whose clock stands a day behind the wall clock, so it can advance."""
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    config = SimConfig(
        connections=25, seed=21, api_key="e2e-key", api_secret="e2e-secret-never-logged", now=now
    )
    with Simulator(config) as sim:
        yield sim


def _start() -> datetime:
    """A start_date one 7-day window before the wall clock (the tap reads up to now)."""
    return (
        datetime.now(timezone.utc).replace(second=0, microsecond=0)
        - timedelta(days=7)
        + timedelta(minutes=30)
    )


START = _start()


def _env(sim: Simulator, **extra: str) -> dict[str, str]:
    start = format_timestamp(START)
    select = json.dumps([f"{name}.*" for name in SYNC_STREAMS.split()])
    return {
        "TAP_FIVETRAN_META_START_DATE": start,
        "TAP_FIVETRAN_META__SELECT": select,
        **extra,
    }


def _sync_history_requests(sim: Simulator) -> int:
    return sim.request_counts().get("GET /v1/connections/{id}/sync-history", 0)


def _assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr[-6000:]


def _no_duplicate_keys(warehouse: Warehouse, table: str, keys: str) -> None:
    total = warehouse.count(table)
    distinct = warehouse.query(
        f'select count(*) from (select distinct {keys} from "{warehouse.schema}".{table}) d'
    )[0][0]
    assert total == distinct, f"{table}: {total} rows, {distinct} distinct keys"


def test_meltano_state_round_trip_reads_only_new_history(
    past_sim: Simulator, warehouse: Warehouse
) -> None:
    sim = past_sim
    start = START
    sim.reset_counts()
    _assert_ok(meltano_run(warehouse, sim.url, extra_env=_env(sim)))
    first_requests = _sync_history_requests(sim)
    assert first_requests == len(sim.dataset.connections)  # one 7-day window each
    assert warehouse.count("sync_history") == sim.expected_counts(start=start)["sync_history"]
    statuses_before = warehouse.count("connection_status_history")
    assert statuses_before == len(sim.dataset.connections)

    rows_before = warehouse.count("sync_history")
    second_started = warehouse.query("select now() at time zone 'utc'")[0][0]
    sim.advance(minutes=12 * 60)
    sim.reset_counts()
    second = meltano_run(warehouse, sim.url, extra_env=_env(sim))
    _assert_ok(second)
    # Only the new window, and only of connections where a sync can have started or ended
    # in those 12 hours (docs/history.md): at most one request each, no re-read of the
    # first week. The row counts below show that nothing was missed.
    assert 0 < _sync_history_requests(sim) <= len(sim.dataset.connections)
    rows_after = sim.expected_counts(start=start)["sync_history"]
    assert warehouse.count("sync_history") == rows_after
    # Only new or changed rows were sent again: the new syncs, plus at most one running
    # sync per connection that finished in between.
    touched = warehouse.count("sync_history", f"where _sdc_batched_at >= '{second_started}'")
    new_rows = rows_after - rows_before
    assert new_rows <= touched <= new_rows + len(sim.dataset.connections)
    _no_duplicate_keys(warehouse, "sync_history", "connection_id, started_at")
    assert warehouse.count("connection_status_history") > statuses_before


def test_tap_killed_mid_run_then_rerun_loses_and_duplicates_nothing(
    past_sim: Simulator, warehouse: Warehouse
) -> None:
    sim = past_sim
    start = START
    # The last connection's history never comes while the first run lives: the run is
    # still going whenever the kill lands (on a loaded machine too), and cannot have
    # written every row. (The first rule that matches a request applies.)
    last = _last_listed_with_history(sim, START)
    sim.add_fault(
        FaultRule(path=rf"/connections/{last}/sync-history$", kind="latency", delay_s=600)
    )
    sim.add_fault(FaultRule(path=r"/sync-history$", kind="latency", delay_s=0.15))
    env = _env(
        sim,
        TAP_FIVETRAN_META_RECORDS_PER_STATE_MESSAGE="20",
        TAP_FIVETRAN_META_MAX_CONCURRENCY="1",
        TARGET_POSTGRES_BATCH_SIZE_ROWS="25",
    )
    process = subprocess.Popen(
        [str(MELTANO), "run", "tap-fivetran-meta", "target-postgres"],
        cwd=ROOT,
        env=meltano_env(warehouse, sim.url, env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    tap_pid = _wait_for_rows_then_find_tap(warehouse, process)
    os.kill(tap_pid, signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0, "meltano must report the killed tap"
    partial = warehouse.count("sync_history")
    assert 0 < partial < sim.expected_counts(start=start)["sync_history"]

    sim.clear_faults()
    _assert_ok(meltano_run(warehouse, sim.url, extra_env=_env(sim)))
    assert warehouse.count("sync_history") == sim.expected_counts(start=start)["sync_history"]
    _no_duplicate_keys(warehouse, "sync_history", "connection_id, started_at")
    assert warehouse.count("connections") == len(sim.dataset.connections)
    # One bookmark per connection, between start_date and now, never beyond the run.
    state = _meltano_state(warehouse)
    partitions = state["bookmarks"]["sync_history"]["partitions"]
    assert {p["context"]["connection_id"] for p in partitions} == set(sim.dataset.connections)
    now = datetime.now(timezone.utc)
    for partition in partitions:
        bookmark = datetime.fromisoformat(partition["replication_key_value"].replace("Z", "+00:00"))
        assert START - timedelta(hours=1) <= bookmark <= now
    del stderr


def _last_listed_with_history(sim: Simulator, start: datetime) -> str:
    """The last connection the API lists (the tap reads in that order) that has syncs
    since ``start``: holding its history back keeps rows from the first run."""
    import requests

    auth = (sim.config.api_key, sim.config.api_secret)
    listed = requests.get(f"{sim.url}/connections", params={"limit": 1000}, auth=auth, timeout=30)
    listed.raise_for_status()
    window = {"start_time": format_timestamp(start), "end_time": format_timestamp(sim.now)}
    for item in reversed(listed.json()["data"]["items"]):
        history = requests.get(
            f"{sim.url}/connections/{item['id']}/sync-history", params=window, auth=auth, timeout=30
        )
        if history.ok and history.json()["data"]["items"]:
            return str(item["id"])
    raise AssertionError("no connection has syncs in the window")


def _wait_for_rows_then_find_tap(warehouse: Warehouse, process: subprocess.Popen[str]) -> int:
    """Wait until some sync_history rows were committed, then return the tap's pid."""
    # A condition, not a time: the run cannot end before the kill (the last connection's
    # history is held for 600 s), so wait for the first committed rows as long as needed
    # on a loaded machine.
    deadline = time.monotonic() + 540
    while _rows_or_zero(warehouse, "sync_history") == 0:
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no sync_history row committed in 540 s"
        time.sleep(0.2)
    found = subprocess.run(
        # This checkout's tap only: other checkouts on the machine run the same tests.
        ["pgrep", "-f", f"{ROOT}/.meltano/extractors/tap-fivetran-meta/venv/bin/"],
        capture_output=True,
        text=True,
        check=False,
    )
    pids = [int(p) for p in found.stdout.split()]
    assert pids, "tap process not found"
    return pids[0]


def _rows_or_zero(warehouse: Warehouse, table: str) -> int:
    import psycopg

    try:
        return warehouse.count(table)
    except psycopg.errors.UndefinedTable:
        return 0  # the target has not created it yet


def _meltano_state(warehouse: Warehouse) -> dict:
    env = meltano_env(warehouse, "http://127.0.0.1:9/v1", {})
    ids = subprocess.run(
        [str(MELTANO), "state", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    (state_id,) = [i for i in ids if "tap-fivetran-meta-to-target-postgres" in i]
    raw = subprocess.run(
        [str(MELTANO), "state", "get", state_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(raw)["singer_state"]
