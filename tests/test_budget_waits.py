"""Every wait of the request budget longer than a few seconds is logged (issue 14 item 9)."""

from __future__ import annotations

import logging

import pytest
import requests

from tap_fivetran_meta.api.ratelimit import LOGGED_WAIT_SECONDS, RateBudget


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def response(remaining: int, limit: int = 20000) -> requests.Response:
    answer = requests.Response()
    answer.headers["X-Rate-Limit-Remaining"] = str(remaining)
    answer.headers["X-Rate-Limit"] = str(limit)
    return answer


def messages(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [
        (r.levelno, r.getMessage()) for r in caplog.records if "Request budget" in r.getMessage()
    ]


def test_a_spent_hourly_budget_logs_its_wait_and_its_end(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTime()
    budget = RateBudget(2, clock=fake.clock, sleep=fake.sleep)
    with caplog.at_level(logging.INFO, logger="tap-fivetran-meta"):
        for _ in range(3):
            budget.acquire()
    assert fake.slept == [3600.0]
    (level, start), (_, end) = messages(caplog)
    assert level == logging.WARNING
    assert "waiting 3600 s, until " in start
    assert "max_requests_per_hour=2 is spent (2 requests in the last rolling hour)" in start
    assert end == "Request budget: waited 3600 s; requests resume."


def test_pacing_near_the_servers_limit_is_logged_once_per_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTime()
    budget = RateBudget(20000, clock=fake.clock, sleep=fake.sleep)
    budget.observe(response(remaining=10))  # reserve 1,000: 0.18 s x 100 = 18 s a request
    with caplog.at_level(logging.INFO, logger="tap-fivetran-meta"):
        budget.acquire()
    assert fake.slept == [18.0]
    start = messages(caplog)[0][1]
    assert "Fivetran says 10 requests are left this hour, fewer than the reserve of 1000" in start


def test_short_waits_and_waits_already_announced_are_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTime()
    budget = RateBudget(20000, clock=fake.clock, sleep=lambda _: None)
    with caplog.at_level(logging.INFO, logger="tap-fivetran-meta"):
        budget._pause(LOGGED_WAIT_SECONDS / 2, "pacing")
        budget._pause(60, "budget")
        budget._pause(60, "budget")  # another thread waiting for the same moment
        budget._pause(61, "budget")
    assert len([m for _, m in messages(caplog) if "waiting" in m]) == 1
