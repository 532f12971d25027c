"""The Low items of issue 22 (the tap's side).

``--test=banana`` is refused; a catalog cannot empty a stream's key or deselect a key
column; a server cannot forge log lines (line breaks, ANSI escapes); the TLS CA bundle
named by ``REQUESTS_CA_BUNDLE`` is used.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock

from tap_fivetran_meta.api.http_session import ApiSession
from tap_fivetran_meta.runtime.log_levels import neutralise_controls

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

TAP = [sys.executable, "-m", "tap_fivetran_meta"]


def test_an_unknown_test_value_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_key": "kkkk", "api_secret": "ssss"}))
    result = subprocess.run(
        [*TAP, "--config", str(config), "--test=banana"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 2
    assert "'banana' is not one of: all, schema, account" in result.stderr
    assert "Traceback" not in result.stderr


# --- catalog tampering ----------------------------------------------------------------------


def _users_catalog(tamper: Any) -> dict[str, Any]:
    catalog = catalog_selecting({"users"})
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "users")
    tamper(entry)
    return catalog


def _empty_keys(entry: dict[str, Any]) -> None:
    entry["key_properties"] = []
    for meta in entry["metadata"]:
        if meta["breadcrumb"] == []:
            meta["metadata"]["table-key-properties"] = []


def _deselect_id(entry: dict[str, Any]) -> None:
    for meta in entry["metadata"]:
        if meta["breadcrumb"] == ["properties", "id"]:
            meta["metadata"]["inclusion"] = "available"
            meta["metadata"]["selected"] = False


@pytest.mark.parametrize("tamper", [_empty_keys, _deselect_id], ids=["keys []", "id deselected"])
def test_a_tampered_catalog_keeps_the_primary_key(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture, tamper: Any
) -> None:
    with caplog.at_level(logging.WARNING):
        run = run_tap(fx.CONFIG, catalog=_users_catalog(tamper))
    schema = next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == "users")
    assert "id" in schema["key_properties"]
    records = [m["record"] for m in run.messages if m["type"] == "RECORD"]
    assert records
    assert all(r.get("id") for r in records)
    assert "The catalog changed the primary key of 'users'" in caplog.text


# --- forged log lines -----------------------------------------------------------------------


def test_control_characters_are_escaped() -> None:
    forged = "bad\n2026-01-01 00:00:00 | ERROR | fake line\x1b[2J\r\u2028"
    cleaned = neutralise_controls(forged)
    assert "\n" not in cleaned
    assert "\x1b" not in cleaned
    assert "\r" not in cleaned
    assert "\\n2026-01-01" in cleaned
    assert neutralise_controls("tab\tand café") == "tab\tand café"


def test_a_server_message_cannot_forge_a_log_line(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(
        f"{fx.API}/roles",
        status_code=500,
        json={"code": "Oops\nFAKE | ERROR | forged", "message": "\x1b[31mred\x1b[0m"},
    )
    config = {**fx.CONFIG, "max_retries": 1, "retry_backoff_base": 0.01}
    with caplog.at_level(logging.WARNING), pytest.raises(Exception, match="HTTP 500"):
        run_tap(config, catalog=catalog_selecting({"roles"}))
    retry = [r for r in caplog.records if "Retrying 'roles'" in r.getMessage()]
    assert retry
    for record in retry:
        assert "\n" not in record.getMessage()
        assert "\x1b" not in record.getMessage()


# --- REQUESTS_CA_BUNDLE ---------------------------------------------------------------------


class _RecordingAdapter(requests.adapters.HTTPAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.verify: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.verify.append(kwargs.get("verify"))
        response = requests.Response()
        response.status_code = 200
        response.request = request
        response.url = request.url or ""
        return response


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_ca_bundle_of_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str
) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv(variable, str(bundle))
    session = ApiSession()
    adapter = _RecordingAdapter()
    session.mount("https://", adapter)
    prepared = requests.Request("GET", "https://api.example.com/v1/x").prepare()
    session.send(prepared, timeout=5)
    assert adapter.verify == [str(bundle)]


def test_without_a_bundle_the_default_verification_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    session = ApiSession()
    adapter = _RecordingAdapter()
    session.mount("https://", adapter)
    session.send(requests.Request("GET", "https://api.example.com/").prepare(), timeout=5)
    assert adapter.verify == [True]
