"""A mistyped api_url fails fast and says so; echoed credentials never reach a log."""

from __future__ import annotations

import base64
import logging
import socket

import pytest
import requests
import requests_mock
from urllib3.exceptions import MaxRetryError, NameResolutionError

from tap_fivetran_meta.api.errors import FivetranAPIError, UnresolvableHostError, unresolvable_host

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

TYPO_HOST = "api.fivetrn.com"
TYPO_URL = f"https://{TYPO_HOST}/v1"
BASIC = base64.b64encode(f"key-abc:{fx.SECRET}".encode()).decode()


def dns_failure(request: requests.PreparedRequest, context: object) -> None:
    """What requests raises when the host does not resolve (as seen with urllib3 2)."""
    lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    resolution = NameResolutionError(TYPO_HOST, None, lookup)  # type: ignore[arg-type]
    resolution.__cause__ = lookup
    pool_error = MaxRetryError(None, request.url, resolution)  # type: ignore[arg-type]
    raise requests.exceptions.ConnectionError(pool_error, request=request)


def test_dns_failure_is_recognised_in_the_exception_chain() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(f"{TYPO_URL}/account/info", text=dns_failure)
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            requests.get(f"{TYPO_URL}/account/info", timeout=5)
    assert unresolvable_host(caught.value) == TYPO_HOST
    assert unresolvable_host(requests.exceptions.ConnectionError("reset by peer")) is None


def test_unresolvable_api_host_fails_at_once_naming_api_url(sleeps: list[float]) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(requests_mock.ANY, text=dns_failure)
        with pytest.raises(UnresolvableHostError) as caught:
            run_tap({**fx.CONFIG, "api_url": TYPO_URL}, catalog=catalog_selecting({"account"}))
        attempts = mocker.call_count
    assert attempts == 1
    assert sleeps == []
    assert str(caught.value).startswith(f"cannot resolve host {TYPO_HOST}: check api_url")


def test_404_on_a_core_endpoint_hints_at_api_url() -> None:
    wrong = "https://api.fivetran.com/v2"
    with requests_mock.Mocker() as mocker:
        mocker.get(
            f"{wrong}/account/info",
            status_code=404,
            json={"code": "NotFound", "message": "The requested resource was not found"},
        )
        with pytest.raises(FivetranAPIError) as caught:
            run_tap({**fx.CONFIG, "api_url": wrong}, catalog=catalog_selecting({"account"}))
    assert f"check api_url (now {wrong})" in str(caught.value)


def test_an_api_message_echoing_basic_credentials_is_scrubbed(
    caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    echo = {"code": "BadRequest", "message": f"Invalid header 'Authorization: Basic {BASIC}'"}
    with requests_mock.Mocker() as mocker:
        fx.register(mocker)
        mocker.get(
            f"{fx.API}/groups",
            [{"status_code": 503, "json": echo}, {"status_code": 400, "json": echo}],
        )
        with caplog.at_level(logging.DEBUG), pytest.raises(FivetranAPIError) as caught:
            run_tap(fx.CONFIG, catalog=catalog_selecting({"groups"}))
    assert "Basic <redacted>" in str(caught.value)
    everything = caplog.text + str(caught.value)
    assert BASIC not in everything
    assert fx.SECRET not in everything
