"""SIGTERM/SIGINT end a run at once, exit non-zero and leave a STATE behind the records.

Each case starts the tap as a subprocess against the simulator with its worker threads
parked in one kind of wait (the request budget, pacing, a long Retry-After), sends the
signal, and checks: the process ends within a few seconds, no request is sent after the
signal, the exit code is 128 + the signal number, the last line is a STATE that covers
only records written, and stderr has one readable line instead of a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from history_helpers import catalog_for, run_capture

from fivetran_sim import FaultRule, SimConfig, Simulator
from tap_fivetran_meta.runtime.prefetch import Prefetcher

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KEY, SECRET = "stop-key", "stop-secret-5b1a"
STREAMS = {"connections", "sync_history", "connection_status_history"}
#: How long the process may take to end after the signal.
EXIT_WITHIN_SECONDS = 6.0


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(connections=40, seed=11, api_key=KEY, api_secret=SECRET)) as simulator:
        yield simulator


@pytest.fixture
def fresh_sim(sim: Simulator) -> Simulator:
    sim.clear_faults()
    sim.reset_counts()
    sim.reset_rate_limit()
    return sim


HISTORY = "GET /v1/connections/{id}/sync-history"
WORKERS = 8
#: sync_history reads ahead only once its first answer came (the endpoint may be absent
#: on the plan): with that answer held back, one request is all that goes out.
FIRST_HISTORY = {HISTORY: 1}
#: ... sent by a worker, while the main thread reads the account-level lists a
#: connection's health needs before it waits for that answer (README: "read before the
#: first connection"): only once those are in, nothing more can come.
PARKED_ON_FIRST_HISTORY = {
    **FIRST_HISTORY,
    "GET /v1/account/info": 1,
    "GET /v1/connections": 1,  # one listing: the quota plan reads it, the stream replays it
    "GET /v1/hybrid-deployment-agents": 1,
    "GET /v1/private-links": 1,
    "GET /v1/proxy": 1,
}


@dataclass
class Case:
    name: str
    config: dict[str, Any]
    rules: list[FaultRule] = field(default_factory=list)
    #: When every thread that can send is parked, by request path: the simulator then
    #: sees no further request until the signal (1 hour, 60 s, 600 s or 30 s away), so
    #: "no request after the signal" does not depend on how fast the machine is.
    parked_at: dict[str, int] = field(default_factory=lambda: {"total": 3})


CASES = [
    # 3 requests per hour: every worker waits about an hour for the budget (3 sent).
    Case("request budget", {"max_requests_per_hour": 3}),
    # Remaining quota far below a huge fixed reserve: every request is paced by 60 s.
    # (Only the connections list goes out: every later request waits for its pacing.)
    Case("pacing", {"rate_limit_reserve": 10_000_000}, parked_at={"total": 1}),
    # Every sync-history request answers 429 with a 10-minute Retry-After: the first
    # one's worker waits, the main thread waits for its result.
    Case(
        "Retry-After",
        {"max_retry_wait": 900},
        [FaultRule(path=r"/sync-history$", kind="http_error", status=429, retry_after=600)],
        parked_at=PARKED_ON_FIRST_HISTORY,
    ),
    # A worker blocked in a socket read (a 30 s answer) is not waited for.
    Case(
        "request in flight",
        {"request_timeout": 60},
        [FaultRule(path=r"/sync-history$", kind="latency", delay_s=30)],
        parked_at=PARKED_ON_FIRST_HISTORY,
    ),
]


@contextmanager
def _tap_process(
    sim: Simulator, tmp_path: Path, config: dict[str, Any]
) -> Iterator[subprocess.Popen[str]]:
    """The tap as a subprocess, killed if a check fails before it ended."""
    process = _start(sim, tmp_path, config)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _start(sim: Simulator, tmp_path: Path, config: dict[str, Any]) -> subprocess.Popen[str]:
    config_path = tmp_path / "config.json"
    config_path.write_text(
        json.dumps(
            {
                "api_key": KEY,
                "api_secret": SECRET,
                "api_url": sim.url,
                "max_concurrency": WORKERS,
                **config,
            }
        )
    )
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog_for(STREAMS)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_FIVETRAN_META_")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_fivetran_meta",
            "--config",
            str(config_path),
            "--catalog",
            str(catalog_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "PYTHONUNBUFFERED": "1"},
        text=True,
    )


def _seen(sim: Simulator, path: str) -> int:
    return sim.total_requests() if path == "total" else sim.request_counts().get(path, 0)


def _wait_until_parked(
    sim: Simulator, parked_at: dict[str, int], alive: Callable[[], bool] = lambda: True
) -> None:
    """Until the simulator saw exactly the requests sent before every sender parks.

    A condition, not a pause: it holds at once on a fast machine and later on a loaded
    one. Seeing more than that means a sender did not park: the test is wrong.
    """
    deadline = time.monotonic() + 60
    while any(_seen(sim, path) < count for path, count in parked_at.items()):
        assert alive(), "the tap ended before it was signalled"
        assert time.monotonic() < deadline, f"only {sim.request_counts()} seen"
        time.sleep(0.02)
    for path, count in parked_at.items():
        assert _seen(sim, path) == count, (path, sim.request_counts())


def _interrupt(
    sim: Simulator, process: subprocess.Popen[str], signum: signal.Signals
) -> tuple[list[dict[str, Any]], str, float, dict[str, int]]:
    """Signal the process; return its messages, stderr, exit delay and requests after."""
    at_signal = sim.request_counts()
    sent = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    delay = time.monotonic() - sent
    messages = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    after = sim.request_counts()
    new = {
        path: n - at_signal.get(path, 0) for path, n in after.items() if n != at_signal.get(path)
    }
    return messages, stderr, delay, new


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_sigterm_stops_waiting_workers_at_once_and_exits_143(
    fresh_sim: Simulator, tmp_path: Path, case: Case
) -> None:
    for rule in case.rules:
        fresh_sim.add_fault(rule)
    with _tap_process(fresh_sim, tmp_path, case.config) as process:
        _wait_until_parked(fresh_sim, case.parked_at, lambda: process.poll() is None)
        messages, stderr, delay, requests_after = _interrupt(fresh_sim, process, signal.SIGTERM)

    assert process.returncode == 143, stderr[-2000:]
    assert delay < EXIT_WITHIN_SECONDS, f"the tap took {delay:.1f} s to end"
    assert requests_after == {}, "requests were sent after the signal"
    assert "stopped by SIGTERM" in stderr
    assert "Traceback" not in stderr
    assert SECRET not in stderr
    _assert_state_behind_records(messages)


def test_sigint_exits_130(fresh_sim: Simulator, tmp_path: Path) -> None:
    with _tap_process(fresh_sim, tmp_path, {"max_requests_per_hour": 3}) as process:
        _wait_until_parked(fresh_sim, {"total": 3}, lambda: process.poll() is None)
        messages, stderr, delay, requests_after = _interrupt(fresh_sim, process, signal.SIGINT)
    assert process.returncode == 130, stderr[-2000:]
    assert delay < EXIT_WITHIN_SECONDS
    assert requests_after == {}
    assert "stopped by SIGINT" in stderr
    assert "Traceback" not in stderr
    _assert_state_behind_records(messages)


def _assert_state_behind_records(messages: list[dict[str, Any]]) -> None:
    """The output ends with a STATE and activates nothing (the read was not complete).

    That a resume from this STATE loses nothing is checked record by record in
    test_history_simulator.py::test_a_killed_tap_process_resumes_without_loss.
    """
    assert messages, "nothing was written"
    assert messages[-1]["type"] == "STATE"
    assert not any(m["type"] == "ACTIVATE_VERSION" for m in messages)


class MainThreadFailure(Exception):
    """Stands for any error that ends the run on the main thread."""


def test_a_failed_run_stops_its_workers_at_once(
    fresh_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers parked in a 10-minute Retry-After end with the run; nothing more is sent.

    Interpreter exit joins the read-ahead pool, so a worker left waiting or retrying
    would keep a failed process alive and sending requests after the error.
    """
    fresh_sim.add_fault(
        FaultRule(path=r"/sync-history$", kind="http_error", status=429, retry_after=600)
    )
    original_take = Prefetcher.take

    def fail_on_first_history_take(self: Prefetcher, key: Any, job: Any) -> Any:
        if key[0] == "sync_history":
            # The first sync-history request was answered and its worker waits in the
            # Retry-After: no request is in flight.
            _wait_until_parked(fresh_sim, FIRST_HISTORY)
            raise MainThreadFailure
        return original_take(self, key, job)

    monkeypatch.setattr(Prefetcher, "take", fail_on_first_history_take)
    config = {
        "api_key": KEY,
        "api_secret": SECRET,
        "api_url": fresh_sim.url,
        "max_concurrency": WORKERS,
        "max_retry_wait": 900,
    }
    before = set(threading.enumerate())  # other tests' idle pools are not this run's
    result = run_capture(config, streams=STREAMS)
    assert isinstance(result.error, MainThreadFailure)
    at_failure = fresh_sim.total_requests()
    deadline = time.monotonic() + 10  # a bound for a loaded machine; ends at once when done
    while _fetch_threads(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _fetch_threads(before) == [], "worker threads outlived the failed run"
    time.sleep(0.3)
    assert fresh_sim.total_requests() == at_failure, "requests were sent after the failure"


def _fetch_threads(before: set[threading.Thread]) -> list[str]:
    """Live read-ahead workers started since ``before`` was taken."""
    return [
        t.name
        for t in threading.enumerate()
        if t not in before and t.name.startswith("tap-fivetran-meta-fetch") and t.is_alive()
    ]
