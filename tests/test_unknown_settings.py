"""A misspelt setting is named with its likely meaning, once, wherever config is read."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.config_checks import (
    closest_setting,
    env_setting_names,
    unknown_settings_warning,
)
from tap_fivetran_meta.tap import TapFivetranMeta

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

KNOWN = set(TapFivetranMeta.config_jsonschema["properties"])
PREFIX = "TAP_FIVETRAN_META_"
UNKNOWN_LINE = "Ignoring unknown"


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("connection_id", "connection_ids"),
        ("group_id", "group_ids"),
        ("service", "services"),
        ("startdate", "start_date"),
        ("api_secrett", "api_secret"),
        ("max_concurency", "max_concurrency"),
        ("page_sise", "page_size"),
    ],
)
def test_closest_setting(typo: str, meant: str) -> None:
    assert closest_setting(typo, KNOWN) == meant


def test_no_guess_for_an_unrelated_word() -> None:
    assert closest_setting("colour", KNOWN) is None
    line = unknown_settings_warning(["colour", "connection_id"], KNOWN, what="settings")
    assert line is not None
    assert "'colour', 'connection_id' (did you mean 'connection_ids'?)" in line


def test_known_names_give_no_line() -> None:
    assert unknown_settings_warning(["api_key", "page_size"], KNOWN, what="settings") is None


def test_meltano_extras_and_sdk_variables_are_not_settings() -> None:
    # What `meltano invoke` puts in a tap's environment besides its settings
    # (checked with meltano 4.4.1: `_`-prefixed extras, an inherited plugin's prefix).
    environ = {
        "TAP_FIVETRAN_META_API_KEY": "k",
        "TAP_FIVETRAN_META__SELECT": '["*.*"]',
        "TAP_FIVETRAN_META__LOAD_SCHEMA": "tap_fivetran_meta",
        "TAP_FIVETRAN_META__USE_CACHED_CATALOG": "true",
        "TAP_FIVETRAN_META__EU_API_KEY": "k",
        "TAP_FIVETRAN_META_LOGLEVEL": "DEBUG",
        "TAP_FIVETRAN_META_CONECTION_IDS": "a",
        "MELTANO_EXTRACT_API_KEY": "k",
    }
    assert env_setting_names(PREFIX, environ) == {
        "TAP_FIVETRAN_META_API_KEY": "api_key",
        "TAP_FIVETRAN_META_CONECTION_IDS": "conection_ids",
    }


def unknown_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if UNKNOWN_LINE in r.getMessage()]


def test_sdk_builtin_settings_are_known(caplog: pytest.LogCaptureFixture) -> None:
    config = {
        "api_key": "k",
        "api_secret": "s",
        "stream_maps": {},
        "stream_map_config": {},
        "flattening_enabled": False,
        "flattening_max_depth": 1,
    }
    TapFivetranMeta(config=config, parse_env_config=False)
    assert unknown_lines(caplog) == []


def test_meltano_config_gives_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    # The config.json Meltano 4.4.1 writes for this project (`meltano invoke
    # --dump=config tap-fivetran-meta`): the settings of meltano.yml with values.
    config = {
        "api_key": "k",
        "api_secret": "s",
        "api_url": "https://api.fivetran.com/v1",
        "page_size": 1000,
        "request_timeout": 60,
        "max_response_mb": 64,
        "max_retries": 5,
        "max_retry_wait": 900,
        "max_requests_per_hour": 10000,
        "freshness_slack_minutes": 60,
        "sync_history_overlap_minutes": 60,
        "sync_history_running_hold_days": 7,
        "state_prune_days": 30,
        "sync_history_recheck_hours": 24,
        "schema_refresh_hours": 24,
        "records_per_state_message": 10000,
        "max_concurrency": 8,
        "emit_activate_version_messages": False,
        "column_details": False,
        "column_request_budget": 500,
    }
    TapFivetranMeta(config=config, parse_env_config=False)
    assert unknown_lines(caplog) == []


def test_environment_typo_is_named(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAP_FIVETRAN_META_API_KEY", "k")
    monkeypatch.setenv("TAP_FIVETRAN_META_API_SECRET", "s")
    monkeypatch.setenv("TAP_FIVETRAN_META_SERVICE", '["postgres"]')
    monkeypatch.setenv("TAP_FIVETRAN_META__SELECT", '["*.*"]')
    TapFivetranMeta(config=None, parse_env_config=True)
    lines = unknown_lines(caplog)
    assert lines == [
        "Ignoring unknown environment variables: 'TAP_FIVETRAN_META_SERVICE' (did you mean "
        "'TAP_FIVETRAN_META_SERVICES'?). They change nothing in this run; "
        "`tap-fivetran-meta --about` lists every setting."
    ]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(connections=5, seed=2, api_key="k", api_secret="s")) as simulator:
        yield simulator


@pytest.mark.parametrize("mode", [["--discover"], ["--test"], ["--test=account"], []])
def test_each_way_of_reading_config_warns_once(
    sim: Simulator, tmp_path: Path, mode: list[str]
) -> None:
    config: dict[str, Any] = {
        "api_url": sim.url,
        "api_key": "k",
        "api_secret": "s",
        "connection_id": ["nope"],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "tap_fivetran_meta", "--config", str(path), *mode],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if UNKNOWN_LINE in line]
    assert len(lines) == 1, result.stderr
    assert "| WARNING" in lines[0]
    assert "'connection_id' (did you mean 'connection_ids'?)" in lines[0]
