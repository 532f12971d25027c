"""docs/examples/ci-pull.sh, twice, with its state file carried from one run to the next.

The script is run as a CI job would: tap and target from their own virtual environments
on PATH, settings only from the environment, a state file that survives between runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
import yaml

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.timeutil import format_timestamp

from conftest import ROOT, Warehouse, _base_env

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

SCRIPT = ROOT / "docs" / "examples" / "ci-pull.sh"
WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"
TARGET_BIN = ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"
HISTORY = "GET /v1/connections/{id}/sync-history"
SECRET = "ci-secret-never-printed"
# The simulator runs a day behind the real clock so that moving it forward between runs
# creates syncs the tap can see (it reads history up to its own, real, clock).
SIM_NOW = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimConfig(connections=8, seed=4, api_key="ci-key", api_secret=SECRET, now=SIM_NOW)
    with Simulator(config) as simulator:
        yield simulator


def pull(
    sim: Simulator, warehouse: Warehouse, workdir: Path, secret: str = SECRET
) -> subprocess.CompletedProcess[str]:
    pg = urlparse(warehouse.dsn)
    env = _base_env()
    env.update(
        {
            "PATH": os.pathsep.join(
                [str(ROOT / ".venv" / "bin"), str(TARGET_BIN), "/usr/bin", "/bin"]
            ),
            "TAP_FIVETRAN_META_API_URL": sim.url,
            "TAP_FIVETRAN_META_API_KEY": "ci-key",
            "TAP_FIVETRAN_META_API_SECRET": secret,
            "TAP_FIVETRAN_META_START_DATE": format_timestamp(SIM_NOW - timedelta(days=18)),
            "TARGET_POSTGRES_HOST": pg.hostname or "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(pg.port or 5432),
            "TARGET_POSTGRES_USER": pg.username or "postgres",
            "TARGET_POSTGRES_PASSWORD": pg.password or "postgres",
            "TARGET_POSTGRES_DATABASE": (pg.path or "/postgres").lstrip("/"),
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": warehouse.schema,
            "STATE_FILE": "state.json",
            "TARGET": "target-postgres",
        }
    )
    return subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def bookmarks(state_file: Path) -> dict[str, str]:
    state = json.loads(state_file.read_text())
    partitions = state["bookmarks"]["sync_history"]["partitions"]
    return {p["context"]["connection_id"]: p["replication_key_value"] for p in partitions}


def test_state_is_carried_between_two_pulls(
    sim: Simulator, warehouse: Warehouse, tmp_path: Path
) -> None:
    state_file = tmp_path / "state.json"
    first = pull(sim, warehouse, tmp_path)
    assert first.returncode == 0, first.stderr[-4000:]
    assert SECRET not in first.stderr + first.stdout
    first_requests = sim.request_counts()[HISTORY]
    first_marks = bookmarks(state_file)
    connections = sim.expected_counts()["connections"]
    assert warehouse.count("connections") == connections

    sim.advance(minutes=6 * 60)  # new syncs, still behind the real clock
    sim.reset_counts()
    second = pull(sim, warehouse, tmp_path)
    assert second.returncode == 0, second.stderr[-4000:]
    second_marks = bookmarks(state_file)
    # The first run read 18 days in windows of under 7 days; the second reads one window,
    # and only for the connections where a sync can have started or ended since.
    assert first_requests >= 3 * len(first_marks)
    moved = {c for c, mark in first_marks.items() if second_marks[c] > mark}
    assert all(second_marks[c] >= mark for c, mark in first_marks.items())
    assert moved
    assert len(moved) <= sim.request_counts()[HISTORY] <= len(second_marks)
    rows = warehouse.count("sync_history")
    keys = warehouse.query(
        f'select count(*) from (select distinct connection_id, started_at from "{warehouse.schema}".sync_history) k'
    )[0][0]
    assert rows == keys  # nothing written twice
    assert warehouse.count("connections") == connections


def test_a_failed_pull_exits_non_zero_and_keeps_the_state(
    sim: Simulator, warehouse: Warehouse, tmp_path: Path
) -> None:
    assert pull(sim, warehouse, tmp_path).returncode == 0
    kept = (tmp_path / "state.json").read_bytes()
    failed = pull(sim, warehouse, tmp_path, secret="wrong-secret-zz91")
    assert failed.returncode == 1
    assert "Fivetran rejected the API credentials" in failed.stderr
    assert "wrong-secret-zz91" not in failed.stderr
    assert (tmp_path / "state.json").read_bytes() == kept


def test_the_github_workflow_runs_that_script_with_secrets_and_a_cached_state() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["pull"]["steps"]
    pull_step = next(s for s in steps if s.get("name") == "Pull")
    assert pull_step["run"] == "./ci-pull.sh"
    env = pull_step["env"]
    for name in (
        "TAP_FIVETRAN_META_API_KEY",
        "TAP_FIVETRAN_META_API_SECRET",
        "TARGET_POSTGRES_PASSWORD",
    ):
        assert env[name].startswith("${{ secrets."), name
    uses = [s.get("uses", "") for s in steps]
    restore, save = uses.index("actions/cache/restore@v4"), uses.index("actions/cache/save@v4")
    assert restore < steps.index(pull_step) < save
    assert steps[save]["with"]["path"] == steps[restore]["with"]["path"] == env["STATE_FILE"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
