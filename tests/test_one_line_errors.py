"""Tracebacks turned into one line (issue 22, item 9).

Timestamps that overflow on conversion (in API data and in state), ``Retry-After``
dates ending in ``-0000``, a ``Location`` that is not a URL, a non-Latin-1
``user_agent``, 5,000-digit integers in config or state, and input files that never
end (``/dev/zero``) or never start (a FIFO nobody writes to).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
import requests_mock
from history_helpers import run_capture

from tap_fivetran_meta.api.redirects import UnsafeRedirectError, apply_redirect_policy
from tap_fivetran_meta.client import retry_after_seconds
from tap_fivetran_meta.rules.timeutil import normalize_timestamp, parse_timestamp, utcnow

import api_fixtures as fx

TAP = [sys.executable, "-m", "tap_fivetran_meta"]
OVERFLOWING = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"]
BIG_NUMBER = "9" * 5000


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [*TAP, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def _one_error_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, errors
    assert expected in errors[0]


# --- timestamps -------------------------------------------------------------------------


@pytest.mark.parametrize("value", OVERFLOWING)
def test_an_overflowing_timestamp_reads_as_unknown(value: str) -> None:
    assert parse_timestamp(value) is None
    assert normalize_timestamp(value) is None


def test_overflowing_timestamps_in_api_data_are_nulled(api: requests_mock.Mocker) -> None:
    users = [{**fx.USERS[0], "created_at": OVERFLOWING[0], "logged_in_at": OVERFLOWING[1]}]
    api.get(f"{fx.API}/users", json=fx.page(users))
    run = run_capture(fx.CONFIG, streams={"users"})
    assert run.error is None
    row = run.records("users")[0]
    assert row["created_at"] is None


def test_overflowing_bookmarks_in_state_are_not_a_traceback(api: requests_mock.Mocker) -> None:
    fx.register_per_connection_data(api)
    cid = fx.CONNECTIONS[0]["id"]
    state = {
        "bookmarks": {
            "sync_history": {
                "partitions": [
                    {"context": {"connection_id": cid}, "replication_key_value": OVERFLOWING[0]}
                ]
            },
            "connection_schema_settings": {"schema_read_at": {cid: OVERFLOWING[1]}},
        }
    }
    run = run_capture(
        fx.CONFIG, state=state, streams={"connections", "sync_history", "connection_tables"}
    )
    assert run.error is None


# --- headers ----------------------------------------------------------------------------


def test_a_retry_after_date_in_minus_zero_is_read_as_utc() -> None:
    response = requests.Response()
    when = utcnow().replace(microsecond=0)
    response.headers["Retry-After"] = format_datetime(when, usegmt=False).replace("+0000", "-0000")
    assert response.headers["Retry-After"].endswith("-0000")
    wait = retry_after_seconds(response)
    assert wait is not None
    assert 0 <= wait < 5


@pytest.mark.parametrize("location", ["http://[::1", "http://host:99999999/x", "http://h:port/"])
def test_a_location_that_is_not_a_url_is_one_error(location: str) -> None:
    session = apply_redirect_policy(requests.Session())
    with requests_mock.Mocker() as mocker:
        mocker.get("https://api.example.com/v1/x", status_code=302, headers={"Location": location})
        with pytest.raises(UnsafeRedirectError, match="refused to follow HTTP 302 redirect"):
            session.get("https://api.example.com/v1/x", timeout=5)


# --- config and state files ---------------------------------------------------------------


def test_a_non_latin1_user_agent_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "kkkk", "api_secret": "ssss", "user_agent": "tap ☃"}))
    _one_error_line(_run(tmp_path, "--config", str(config)), "user_agent")


def test_a_5000_digit_integer_in_config_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(f'{{"api_key": "kkkk", "api_secret": "ssss", "page_size": {BIG_NUMBER}}}')
    _one_error_line(_run(tmp_path, "--config", str(config), "--discover"), "number too long")


def test_a_5000_digit_integer_in_state_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "kkkk", "api_secret": "ssss"}))
    state = tmp_path / "state.json"
    state.write_text(f'{{"bookmarks": {{"x": {BIG_NUMBER}}}}}')
    result = _run(tmp_path, "--config", str(config), "--state", str(state))
    _one_error_line(result, "--state")


def test_dev_zero_as_config_stops_at_the_size_cap(tmp_path: Path) -> None:
    _one_error_line(_run(tmp_path, "--config", "/dev/zero", "--discover"), "larger than")


def test_a_fifo_nobody_writes_to_is_not_waited_for(tmp_path: Path) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    _one_error_line(_run(tmp_path, "--config", str(fifo), "--discover"), "is empty")
