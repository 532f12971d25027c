"""Log volume at the default level, the quiet Test Connection, and scrubbed warnings."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from singer_sdk.exceptions import AbortedSyncFailedException, MaxRecordsLimitException
from singer_sdk.metrics import Metric, Point

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.runtime import log_levels
from tap_fivetran_meta.runtime.log_levels import (
    PerObjectMetricsFilter,
    TapLogFilter,
    install_log_filters,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

TAP = [sys.executable, "-m", "tap_fivetran_meta"]


def _record(msg: str, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("tap-fivetran-meta.sync_history", level, __file__, 1, msg, args, None)


def test_per_context_sdk_lines_become_debug() -> None:
    log_filter = TapLogFilter()
    record = _record(
        "Beginning sync of '%s' in %s mode with context keys: %s", "x", "full_table", ("a",)
    )
    assert log_filter.filter(record) is False  # root at INFO: dropped
    assert record.levelno == logging.DEBUG
    stream_level = _record("Beginning sync of '%s' in %s mode", "groups", "full_table")
    assert log_filter.filter(stream_level) is True
    assert stream_level.levelno == logging.INFO


def test_demoted_lines_show_at_debug() -> None:
    logger = logging.getLogger("tap-fivetran-meta.sync_history")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        record = _record("Starting incremental sync of '%s' with bookmark value: %s", "x", None)
        assert TapLogFilter().filter(record) is True
        assert record.levelname == "DEBUG"
    finally:
        logger.setLevel(previous)


def test_only_the_planned_test_stop_is_demoted() -> None:
    log_filter = TapLogFilter()
    template = "An unhandled error occurred while syncing '%s'"

    def filtered_while_handling(exc: BaseException) -> tuple[bool, int]:
        try:
            raise exc
        except type(exc):
            record = _record(template, "groups", level=logging.ERROR)
            return log_filter.filter(record), record.levelno

    stop = AbortedSyncFailedException("stop")
    stop.__cause__ = MaxRecordsLimitException("limit")
    assert filtered_while_handling(stop) == (False, logging.DEBUG)
    assert filtered_while_handling(RuntimeError("real trouble")) == (True, logging.ERROR)


def test_warnings_lose_basic_and_bearer_credentials() -> None:
    record = _record(
        "Fivetran said %s", "bad header Authorization: Basic a2V5OnNlY3JldA==", level=30
    )
    assert TapLogFilter().filter(record) is True
    assert "a2V5OnNlY3JldA==" not in record.getMessage()
    assert "Basic <redacted>" in record.getMessage()


def test_metric_points_per_request_or_context_are_debug() -> None:
    metrics = PerObjectMetricsFilter()

    def point_record(point: Point) -> logging.LogRecord:
        return logging.LogRecord(
            "singer_sdk.metrics", 20, __file__, 1, "METRIC: %s", (point,), None
        )

    per_context = Point("counter", Metric.RECORD_COUNT, 3, {"context": {"connection_id": "c"}})
    per_request = Point("timer", Metric.HTTP_REQUEST_DURATION, 0.1, {"endpoint": "/groups"})
    per_stream = Point("counter", Metric.RECORD_COUNT, 3, {"stream": "groups", "context": {}})
    assert metrics.filter(point_record(per_context)) is False
    assert metrics.filter(point_record(per_request)) is False
    assert metrics.filter(point_record(per_stream)) is True


def test_installing_twice_adds_each_filter_once() -> None:
    install_log_filters("tap-fivetran-meta", ["groups"])
    install_log_filters("tap-fivetran-meta", ["groups"])
    filters = logging.getLogger("tap-fivetran-meta.groups").filters
    assert sum(isinstance(f, TapLogFilter) for f in filters) == 1


def _stderr_lines(
    tmp_path: Path, connections: int, *args: str, env: dict[str, str] | None = None
) -> list[str]:
    with Simulator(SimConfig(connections=connections, seed=3, api_key="k", api_secret="s")) as sim:
        config = tmp_path / f"config-{connections}.json"
        config.write_text(json.dumps({"api_key": "k", "api_secret": "s", "api_url": sim.url}))
        result = subprocess.run(
            [*TAP, "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(tmp_path),
                **(env or {}),
            },
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr.splitlines()


def test_log_lines_do_not_grow_with_connections(tmp_path: Path) -> None:
    # Same account generator and command; only the number of connections changes. The
    # one per-connection line left at INFO is the skip of a connection without schema
    # config, which the stream's summary warning also counts.
    def lines_without_skips(connections: int) -> int:
        lines = _stderr_lines(tmp_path, connections)
        return len([line for line in lines if "Skipping one" not in line])

    small, large = lines_without_skips(5), lines_without_skips(30)
    assert large == small, (small, large)
    assert large < 120


def test_test_connection_names_the_account_without_error_lines(tmp_path: Path) -> None:
    lines = _stderr_lines(tmp_path, 5, "--test")
    assert not [line for line in lines if "ERROR" in line], lines
    assert any("Connected to Fivetran account" in line for line in lines), lines


def test_debug_level_still_shows_the_per_connection_lines(tmp_path: Path) -> None:
    lines = _stderr_lines(tmp_path, 5, env={"TAP_FIVETRAN_META_LOGLEVEL": "DEBUG"})
    assert any("with context keys" in line and "DEBUG" in line for line in lines)
    assert any("METRIC" in line and "http_request_duration" in line for line in lines)


def test_per_connection_lines_are_not_even_built_unless_debug_is_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logger = log_levels._stream_logger("tap-fivetran-meta.built_or_not")
    assert isinstance(logger, log_levels.StreamLogger)
    built: list[logging.LogRecord] = []
    real = logging.Logger.makeRecord

    def counting(self: logging.Logger, *args: object, **kwargs: object) -> logging.LogRecord:
        record = real(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append(record)
        return record

    monkeypatch.setattr(logging.Logger, "makeRecord", counting)
    template = "Beginning sync of '%s' in %s mode with context keys: %s"
    logger.setLevel(logging.INFO)
    logger.info(template, "sync_history", "INCREMENTAL", ["connection_id"])
    logger.info("Stream 'x': %d rows", 3)  # the tap's own INFO lines are built as before
    assert [record.getMessage() for record in built] == ["Stream 'x': 3 rows"]
    built.clear()
    logger.setLevel(logging.DEBUG)
    logger.info(template, "sync_history", "INCREMENTAL", ["connection_id"])
    assert [record.levelno for record in built] == [logging.DEBUG]
