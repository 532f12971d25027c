"""One log line per kind of problem per interval, with the count of the rest."""

from __future__ import annotations

import logging

import pytest

from tap_fivetran_meta.webhooks.ratelog import RateLimitedLog


def test_first_of_each_kind_at_once_then_one_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    log = RateLimitedLog(logging.getLogger("ratelog-test"), interval_s=60, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="ratelog-test"):
        assert log.log("disk_full", logging.ERROR, "disk full") is True
        assert log.log("read_only", logging.ERROR, "read-only") is True  # another kind
        for _ in range(389):
            assert log.log("disk_full", logging.ERROR, "disk full") is False
        now[0] += 59.9
        assert log.log("disk_full", logging.ERROR, "disk full") is False
        now[0] += 0.2
        assert log.log("disk_full", logging.ERROR, "disk full") is True
        assert log.reset("disk_full") == 0
        assert log.log("disk_full", logging.ERROR, "disk full again") is True
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "disk full"),
        (logging.ERROR, "read-only"),
        (logging.ERROR, "disk full (390 more like this since the last such line)"),
        (logging.ERROR, "disk full again"),
    ]


def test_reset_reports_what_went_unlogged() -> None:
    log = RateLimitedLog(logging.getLogger("ratelog-test"), clock=lambda: 0.0)
    log.log("x", logging.INFO, "x")
    log.log("x", logging.INFO, "x")
    log.log("x", logging.INFO, "x")
    assert log.reset("x") == 2
    assert log.reset("never") == 0
