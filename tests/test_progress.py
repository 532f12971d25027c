"""The run plan against the request budget, and progress lines (progress.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
import requests
import requests_mock

from tap_fivetran_meta.api.ratelimit import RateBudget
from tap_fivetran_meta.runtime.progress import (
    RequestPlan,
    RunProgress,
    announce_plan,
    budget_wait_seconds,
    duration_text,
)

from tap_runner import run_tap


def test_durations_read_like_a_person_would_write_them() -> None:
    assert duration_text(12.4) == "12 s"
    assert duration_text(250) == "4 min 10 s"
    assert duration_text(3900) == "1 h 05 min"


def test_a_plan_that_fits_is_info_and_one_that_does_not_says_how_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = RateBudget(20000, sleep=lambda _: None)
    small = RequestPlan(
        connections=1000,
        list_requests=1,
        history_connections=1000,
        history_requests=1000,
        schema_requests=1000,
    )
    big = RequestPlan(
        connections=10000,
        list_requests=10,
        history_connections=10000,
        history_requests=11000,
        schema_requests=10000,
    )
    with caplog.at_level(logging.INFO, logger="tap-fivetran-meta"):
        announce_plan(small, budget)
        announce_plan(big, budget)
    (ok, not_ok) = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert ok[0] == logging.INFO
    # the connection list was read for the plan: not among the requests still needed
    assert "1000 connections; the per-connection phase needs about 2000 requests" in ok[1]
    assert "the connection list took 1)" in ok[1]
    assert not_ok[0] == logging.WARNING
    assert "needs about 21000 requests" in not_ok[1]
    assert "take at least 3 min 00 s" in not_ok[1]  # 1,000 beyond 20,000 an hour
    assert budget_wait_seconds(21000, budget) == pytest.approx(1000 / 20000 * 3600)


def test_fivetrans_remaining_quota_limits_what_fits() -> None:
    budget = RateBudget(20000, sleep=lambda _: None)
    answer = requests.Response()
    answer.headers.update({"X-Rate-Limit": "20000", "X-Rate-Limit-Remaining": "3000"})
    budget.observe(answer)
    # 3,000 left minus the reserve (1,000) can go now; the rest waits for the hour.
    assert budget_wait_seconds(2000, budget) == 0
    assert budget_wait_seconds(4000, budget) == pytest.approx(2000 / 20000 * 3600)


def test_progress_lines_every_30_seconds_with_an_estimate(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    budget = RateBudget(20000, sleep=lambda _: None)
    progress = RunProgress(budget, clock=lambda: now[0])
    progress.start(RequestPlan(connections=100, history_requests=100))
    with caplog.at_level(logging.INFO, logger="tap-fivetran-meta"):
        for _ in range(40):
            now[0] += 1.0
            progress.connection_done()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Progress: 30 of 100 connections, 0 requests (Fivetran: ? left this hour), "
        "30 s elapsed, about 1 min 10 s left."
    ]


def test_a_run_announces_its_plan(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api_fixtures

    # start_date 2026-11-20, run 2026-11-27 12:00: two windows per connection.
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: now)
    with caplog.at_level(logging.INFO, logger="tap-fivetran-meta"):
        run_tap(api_fixtures.CONFIG)
    plans = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Plan:")]
    assert len(plans) == 1
    assert plans[0].startswith(
        "Plan: 3 connections; the per-connection phase needs about 9 requests"
    )
    # One listing of the connections per run: the stream reuses the plan's.
    pages = [r for r in api.request_history if r.path.rstrip("/") == "/v1/connections"]
    assert len(pages) == 2  # the fixture's two pages
    assert len([page for page in pages if "cursor" not in page.qs]) == 1
