"""Concurrent per-connection fetching changes nothing but speed (issue: performance)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.timeutil import format_timestamp
from tap_fivetran_meta.runtime.prefetch import Prefetcher, read_ahead

from tap_runner import TapRun, run_tap

TIME_DEPENDENT = {"minutes_since_last_success", "time_extracted"}


def normalised(run: TapRun) -> list[str]:
    """Messages as JSON lines, with the run's own clock readings blanked out."""
    observed = format_timestamp(run.tap.run_started_at)
    lines = []
    for message in run.messages:
        clean = {k: v for k, v in message.items() if k not in TIME_DEPENDENT}
        if "record" in clean:
            clean["record"] = {k: v for k, v in clean["record"].items() if k not in TIME_DEPENDENT}
        text = json.dumps(clean, sort_keys=True)
        lines.append(text.replace(observed, "<RUN-START>"))
    return lines


NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def sim() -> Any:
    config = SimConfig(connections=60, seed=5, api_key="k", api_secret="s", now=NOW)
    with Simulator(config) as simulator:
        yield simulator


def test_concurrency_1_and_8_emit_identical_singer_output(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both runs start at the simulator's "now": history windows and derived columns
    # depend on the run's start, which must not differ between the two runs.
    monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: NOW)
    base = {"api_url": sim.url, "api_key": "k", "api_secret": "s", "page_size": 7}
    sim.reset_counts()
    sequential = run_tap({**base, "max_concurrency": 1})
    sequential_requests = sim.total_requests()
    sim.reset_counts()
    concurrent = run_tap({**base, "max_concurrency": 8})
    concurrent_requests = sim.total_requests()
    assert concurrent.tap.prefetcher.taken_ahead > 0
    assert sequential.tap.prefetcher.taken_ahead == 0
    assert concurrent_requests == sequential_requests
    assert normalised(concurrent) == normalised(sequential)
    assert sequential.count("connections") == sim.expected_counts()["connections"]


def test_read_ahead_plans_each_record_once_and_keeps_order() -> None:
    planned: list[int] = []

    def plan(item: int) -> bool:
        planned.append(item)
        return True

    out = []
    for item in read_ahead(range(10), plan, 3):
        out.append(item)
        assert len(planned) <= item + 4  # never more than lookahead + 1 ahead
    assert out == list(range(10))
    assert planned == list(range(10))


def test_read_ahead_replans_what_was_not_ready() -> None:
    ready_after: dict[int, int] = {}
    handed: list[int] = []

    def plan(item: int) -> bool:
        ready_after[item] = ready_after.get(item, 0) + 1
        return len(handed) >= 1  # nothing can be planned before the first hand-over

    for item in read_ahead(range(5), plan, 2):
        handed.append(item)
    assert handed == list(range(5))
    assert ready_after[0] == 1  # handed on before it could be planned: not retried
    assert ready_after[1] == 2  # planned again after record 0 was handed on
    assert ready_after[3] == 1  # read after the hand-over: planned at once


def test_prefetcher_take_runs_inline_when_not_submitted_and_reraises() -> None:
    prefetcher = Prefetcher(4)
    assert prefetcher.take("a", lambda: 1) == 1

    def boom() -> int:
        raise ValueError("boom")

    prefetcher.submit("b", boom)
    prefetcher.submit("b", lambda: 2)  # same key: ignored while pending
    with pytest.raises(ValueError, match="boom"):
        prefetcher.take("b", lambda: 3)
    prefetcher.shutdown()
    sequential = Prefetcher(1)
    sequential.submit("c", boom)  # disabled: nothing runs
    assert sequential.take("c", lambda: 4) == 4
