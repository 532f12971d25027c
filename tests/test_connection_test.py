"""Test Connection (``--test``) asks for a few dozen requests, whatever the settings.

Counted by the simulator, through the command line as Meltano runs it: a start_date two
years back used to read every sync-history window of the read-ahead's connections, and
the quota plan listed every connection once more and warned about hours of waiting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from fivetran_sim import SimConfig, Simulator

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: What a Test Connection may cost (the issue's bound), whatever the account's size.
MAX_TEST_REQUESTS = 40
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def big_sim() -> Iterator[Simulator]:
    config = SimConfig(
        connections=1000, seed=5, api_key="k", api_secret="s", history_days=30, now=NOW
    )
    with Simulator(config) as simulator:
        yield simulator


def run_cli(args: list[str], config: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_fivetran_meta", "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )


@pytest.mark.parametrize("max_concurrency", [1, 8, 64])
def test_test_connection_makes_few_requests(
    big_sim: Simulator, tmp_path: Path, max_concurrency: int
) -> None:
    config = {
        "api_url": big_sim.url,
        "api_key": "k",
        "api_secret": "s",
        "start_date": (NOW - timedelta(days=730)).isoformat(),
        "max_concurrency": max_concurrency,
    }
    big_sim.reset_counts()
    result = run_cli(["--test"], config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    counts = big_sim.request_counts()
    total = sum(counts.values())
    print(f"--test made {total} requests")
    assert 0 < total <= MAX_TEST_REQUESTS, counts
    assert counts.get("GET /v1/connections/{id}/sync-history", 0) <= 1, counts
    assert "Connected to Fivetran account" in result.stderr
    assert "Plan:" not in result.stderr  # no quota plan (and no "9 h 36 min" warning)
    warnings = [line for line in result.stderr.splitlines() if "| WARNING" in line]
    assert warnings == []
    # Still a real test: one record of the streams it reads.
    streams = {
        json.loads(line)["stream"]
        for line in result.stdout.splitlines()
        if line.startswith('{"type":"RECORD"')
    }
    assert {"account", "connections", "sync_history", "groups"} <= streams


def test_test_account_is_one_request(big_sim: Simulator, tmp_path: Path) -> None:
    config = {"api_url": big_sim.url, "api_key": "k", "api_secret": "s"}
    big_sim.reset_counts()
    result = run_cli(["--test=account"], config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert big_sim.request_counts() == {"GET /v1/account/info": 1}
    assert result.stdout == ""


def test_test_schema_makes_no_request(big_sim: Simulator, tmp_path: Path) -> None:
    config = {"api_url": big_sim.url, "api_key": "k", "api_secret": "s"}
    big_sim.reset_counts()
    result = run_cli(["--test=schema"], config, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sum(big_sim.request_counts().values()) == 0
    assert '"type":"SCHEMA"' in result.stdout
