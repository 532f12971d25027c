"""The tap's command line: about, discovery and readable config errors (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import api_fixtures as fx

TAP = [sys.executable, "-m", "tap_fivetran_meta"]


def run(args: list[str], tmp_path: Path, config: dict | None = None) -> subprocess.CompletedProcess:
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        args = [*args, "--config", str(path)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [*TAP, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_about_json_lists_settings(tmp_path: Path) -> None:
    result = run(["--about", "--format=json"], tmp_path)
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    settings = about["settings"]["properties"]
    assert settings["api_secret"]["secret"] is True
    assert {"api_key", "api_url", "page_size", "group_ids", "max_retries"} <= set(settings)


def test_discover_without_config(tmp_path: Path) -> None:
    result = run(["--discover"], tmp_path)
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    assert len(catalog["streams"]) >= 13


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"api_secret": "x"}, "'api_key' is a required property"),
        ({**fx.CONFIG, "page_size": 0}, "page_size"),
        ({**fx.CONFIG, "page_size": 1001}, "page_size"),
        ({**fx.CONFIG, "page_size": "big"}, "page_size"),
        ({**fx.CONFIG, "api_url": "http://api.example.com/v1"}, "api_url must use https"),
        ({**fx.CONFIG, "api_url": "ftp://x"}, "api_url must be an https URL"),
        ({**fx.CONFIG, "start_date": "2999-01-01T00:00:00Z"}, "start_date 2999-01-01"),
        ({**fx.CONFIG, "group_ids": "abc"}, "group_ids"),
    ],
)
def test_bad_config_is_one_readable_error(tmp_path: Path, config: dict, needle: str) -> None:
    result = run([], tmp_path, config)
    assert result.returncode != 0
    assert needle in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert fx.SECRET not in result.stderr


def test_http_to_loopback_is_allowed_by_config_checks() -> None:
    from tap_fivetran_meta.config_checks import api_url_error

    assert api_url_error("http://127.0.0.1:8080/v1") is None
    assert api_url_error("http://localhost/v1") is None
    assert api_url_error("http://[::1]:9/v1") is None
    assert api_url_error("https://api.fivetran.com/v1") is None
    assert api_url_error("http://10.0.0.1/v1") is not None


def test_malformed_state_file_is_a_readable_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = run(["--state", str(state)], tmp_path, fx.CONFIG)
    assert result.returncode != 0
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_catalog_file_is_a_readable_error(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text('{"streams": [')
    result = run(["--catalog", str(catalog)], tmp_path, fx.CONFIG)
    assert result.returncode != 0
    assert "not valid JSON" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_unknown_stream_in_catalog_is_refused(tmp_path: Path) -> None:
    discovered = run(["--discover"], tmp_path)
    catalog = json.loads(discovered.stdout)
    entry = dict(catalog["streams"][0])
    entry["tap_stream_id"] = entry["stream"] = "conections"
    catalog["streams"].append(entry)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    result = run(["--catalog", str(path)], tmp_path, fx.CONFIG)
    assert result.returncode != 0
    assert "unknown streams: conections" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_termination_is_held_until_a_record_and_its_state_are_done() -> None:
    import signal

    from tap_fivetran_meta.shutdown import RunInterrupted
    from tap_fivetran_meta.tap import TapFivetranMeta

    tap = TapFivetranMeta(config=fx.CONFIG, parse_env_config=False)
    steps: list[str] = []

    def nested_blocks() -> None:
        with tap.deferred_termination():
            with tap.deferred_termination():
                tap._handle_termination(signal.SIGTERM, None)  # held: no raise here
                steps.append("inner done")
            steps.append("outer done")  # still inside the outer block

    with pytest.raises(RunInterrupted) as stopped:
        nested_blocks()
    assert steps == ["inner done", "outer done"]
    assert stopped.value.exit_code == 143
    assert tap.stop.requested  # worker threads were told at once, not at block end

    other = TapFivetranMeta(config=fx.CONFIG, parse_env_config=False)
    with pytest.raises(RunInterrupted) as stopped:
        other._handle_termination(signal.SIGINT, None)
    assert stopped.value.exit_code == 130
    other._handle_termination(signal.SIGTERM, None)  # a second signal does not interrupt
