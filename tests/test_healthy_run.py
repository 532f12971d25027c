"""A healthy first and incremental run log no WARNING: a warning is for the user to act on.

Against the default simulator (what `fivetran-sim serve` starts), through the command
line as a user runs it; the incremental run reads the last STATE message of the first
run's output saved as is (a state file people keep), and uses it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from fivetran_sim import SimConfig, Simulator

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SCHEMA_PATH = "GET /v1/connections/{id}/schemas"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as simulator:  # the defaults of `fivetran-sim serve`
        yield simulator


def run_cli(tmp_path: Path, config: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "tap_fivetran_meta", "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def warnings_of(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if "| WARNING" in line]


def test_healthy_first_and_incremental_runs_log_no_warning(sim: Simulator, tmp_path: Path) -> None:
    config = {"api_url": sim.url, "api_key": "key", "api_secret": "secret"}
    first = run_cli(tmp_path, config)
    assert warnings_of(first) == []
    # The account is not empty: connections without a schema config yet exist, and
    # are said at INFO.
    assert "have no schema config yet" in first.stderr
    records = [line for line in first.stdout.splitlines() if '"type":"RECORD"' in line]
    assert len(records) > 100

    last_state = [line for line in first.stdout.splitlines() if line.startswith('{"type":"STATE"')]
    state_file = tmp_path / "state.json"
    state_file.write_text(last_state[-1])  # the whole message, as saved from the output
    sim.reset_counts()
    second = run_cli(tmp_path, config, "--state", str(state_file))
    assert warnings_of(second) == []
    assert "No row at all" not in second.stderr
    assert "Reading the state: used the value of the Singer STATE message." in second.stderr
    # The state was used: schema configs read within schema_refresh_hours are not read
    # again (only connections that had none are asked again).
    with_config = json.loads(last_state[-1])["value"]["bookmarks"]
    assert with_config, "the first run wrote bookmarks"
    assert sim.request_counts().get(SCHEMA_PATH, 0) < len(sim.dataset.connections)
