"""Fault suite: the tap against the simulator with each injected fault (issue: reliability).

Every case runs at DEBUG level and asserts the exact outcome: records emitted, the error
(the CLI turns it into exit code 1) or the warning, the state, and that no secret leaked.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fivetran_sim import FaultRule, SimConfig, Simulator
from tap_fivetran_meta.api.errors import FivetranAPIError, FivetranAuthError, PaginationLoopError

from tap_runner import catalog_selecting, run_tap

if TYPE_CHECKING:
    from collections.abc import Iterator

KEY = "fault-key"
SECRET = "fault-secret-3c9f0d"
SECRET_HEADER = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
STREAMS = {"groups", "connections", "teams", "team_memberships", "connection_tables"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(connections=12, seed=3, api_key=KEY, api_secret=SECRET)) as simulator:
        yield simulator


@pytest.fixture
def fresh_sim(sim: Simulator) -> Simulator:
    sim.clear_faults()
    sim.reset_counts()
    return sim


@dataclass
class Case:
    """One fault and what must come out of it."""

    name: str
    rules: list[FaultRule]
    config: dict[str, Any] = field(default_factory=dict)
    error: type[Exception] | None = None
    error_text: str = ""
    warning_text: str = ""
    incomplete: frozenset[str] = frozenset()  # streams expected empty


CASES = [
    Case(
        "429 storm honouring Retry-After",
        [FaultRule(path=r"^/v1/groups$", kind="http_error", status=429, retry_after=2, count=3)],
        warning_text="Retrying 'groups'",
    ),
    Case(
        "Retry-After beyond max_retry_wait",
        [FaultRule(path=r"^/v1/groups$", kind="http_error", status=429, retry_after=3600)],
        error=FivetranAPIError,
        error_text="more than max_retry_wait=900 s",
    ),
    Case(
        "5xx burst",
        [FaultRule(path=r"^/v1/connections$", kind="http_error", status=503, count=2)],
    ),
    Case(
        "5xx that never ends",
        [FaultRule(path=r"^/v1/connections$", kind="http_error", status=500)],
        config={"max_retries": 2},
        error=Exception,
        error_text="HTTP 500 for GET /v1/connections",
    ),
    Case(
        "timeout once",
        [FaultRule(path=r"^/v1/groups$", kind="timeout", delay_s=3, count=1)],
        config={"request_timeout": 1},
    ),
    Case(
        "slow endpoint beyond request_timeout",
        [FaultRule(path=r"^/v1/groups$", kind="timeout", delay_s=3)],
        config={"request_timeout": 1, "max_retries": 1},
        error=Exception,
        error_text="timed out",
    ),
    Case("connection reset", [FaultRule(path=r"^/v1/teams$", kind="drop", count=2)]),
    Case(
        "truncated JSON body",
        [FaultRule(path=r"^/v1/connections$", kind="truncated_json", count=1)],
    ),
    Case(
        "malformed JSON body",
        [FaultRule(path=r"/schemas$", kind="malformed_json", count=2)],
    ),
    Case(
        "200 with a code other than Success",
        [FaultRule(path=r"^/v1/groups$", kind="envelope_error")],
        error=FivetranAPIError,
        error_text="instead of 'Success'",
    ),
    Case(
        "cursor that repeats",
        [FaultRule(path=r"^/v1/connections$", kind="repeat_cursor")],
        config={"page_size": 5},
        error=PaginationLoopError,
        error_text="already returned",
    ),
    Case(
        "empty page with a next cursor",
        [FaultRule(path=r"^/v1/groups$", kind="empty_page_with_cursor", count=1)],
    ),
    Case(
        "plan-gated teams",
        [FaultRule(path=r"^/v1/teams$", kind="plan_gated")],
        warning_text="not available to this API key or plan",
        incomplete=frozenset({"teams", "team_memberships"}),
    ),
    Case(
        "wrong credentials",
        [],
        config={"api_secret": "wrong-secret-value"},
        error=FivetranAuthError,
        error_text="Check api_key and api_secret",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_case(
    case: Case,
    fresh_sim: Simulator,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for rule in case.rules:
        fresh_sim.add_fault(rule)
    config = {"api_url": fresh_sim.url, "api_key": KEY, "api_secret": SECRET, **case.config}
    expected = fresh_sim.expected_counts()
    with caplog.at_level(logging.DEBUG):
        if case.error:
            with pytest.raises(case.error) as raised:
                run_tap(config, catalog=catalog_selecting(STREAMS))
            assert case.error_text in str(raised.value)
            leaked = str(raised.value)
        else:
            result = run_tap(config, catalog=catalog_selecting(STREAMS))
            for stream in STREAMS:
                want = 0 if stream in case.incomplete else expected[stream]
                assert result.count(stream) == want, stream
            assert result.final_state.get("bookmarks") is not None
            leaked = json.dumps(result.messages)
    if case.warning_text:
        assert case.warning_text in caplog.text
    if case.name.startswith("429 storm"):
        assert sleeps == [2.0, 2.0, 2.0]
    for secret in (SECRET, SECRET_HEADER):
        assert secret not in caplog.text
        assert secret not in leaked


def test_vanished_connection_between_list_and_children(
    fresh_sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    victim = next(
        c
        for c in sorted(fresh_sim.dataset.connections)
        if fresh_sim.dataset.connections[c].has_schema_config
    )
    fresh_sim.vanish_after_list(victim)
    try:
        config = {"api_url": fresh_sim.url, "api_key": KEY, "api_secret": SECRET}
        with caplog.at_level(logging.INFO):
            result = run_tap(
                config, catalog=catalog_selecting({"connections", "connection_tables"})
            )
        expected = fresh_sim.expected_counts()
        assert result.count("connections") == expected["connections"]
        assert result.count("connection_tables") == expected["connection_tables"]
        assert victim in {r["id"] for r in result.records["connections"]}
        assert victim not in {r["connection_id"] for r in result.records["connection_tables"]}
        assert "skipped parents: NotFound=1." in caplog.text  # bare NotFound
    finally:
        fresh_sim.delete_connection(victim)


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(config.parent), "LOGLEVEL": "DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "tap_fivetran_meta", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_cli_exit_codes_and_debug_output_never_leak(fresh_sim: Simulator, tmp_path: Path) -> None:
    fresh_sim.add_fault(FaultRule(path=r"^/v1/groups$", kind="envelope_error"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_url": fresh_sim.url, "api_key": KEY, "api_secret": SECRET}))
    failed = _cli(config)
    assert failed.returncode == 1
    assert "instead of 'Success'" in failed.stderr
    assert "Traceback" not in failed.stderr
    fresh_sim.clear_faults()
    tested = _cli(config, "--test")
    assert tested.returncode == 0, tested.stderr[-3000:]
    assert "Connected to Fivetran account" in tested.stderr
    assert "user (scoped) key" in tested.stderr
    config.write_text(json.dumps({"api_url": fresh_sim.url, "api_key": KEY, "api_secret": "nope"}))
    refused = _cli(config, "--test")
    assert refused.returncode == 1
    assert "Check api_key and api_secret" in refused.stderr
    for output in (failed, tested, refused):
        for secret in (SECRET, SECRET_HEADER, 'nope"'):
            assert secret not in output.stdout + output.stderr
