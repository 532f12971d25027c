"""``register``: the Fivetran API calls it makes and the errors it reports."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tap_fivetran_meta.webhooks.cli import main
from tap_fivetran_meta.webhooks.register import RegisterError, check_url, parse_events

if TYPE_CHECKING:
    import requests_mock as rm

API = "https://api.fivetran.com/v1"
KEY, API_SECRET, HOOK_SECRET = "my-key", "my-api-secret", "my-hook-secret-5e0c9a1f"
CREATED: dict[str, Any] = {
    "code": "Success",
    "message": "Webhook has been created",
    "data": {
        "id": "program_quoth",
        "type": "account",
        "url": "https://hooks.example.com/webhook",
        "events": ["sync_start", "sync_end"],
        "active": True,
        "secret": "******",
        "created_at": "2022-04-29T09:41:08.583Z",
        "created_by": "_airworthy",
    },
}
TESTED = {
    "code": "Success",
    "data": {"succeed": True, "status": 200, "message": "Webhook test was successful"},
}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIVETRAN_API_KEY", KEY)
    monkeypatch.setenv("FIVETRAN_API_SECRET", API_SECRET)
    monkeypatch.setenv("FIVETRAN_WEBHOOK_SECRET", HOOK_SECRET)


def _no_secrets(text: str) -> None:
    basic = base64.b64encode(f"{KEY}:{API_SECRET}".encode()).decode()
    for secret in (API_SECRET, HOOK_SECRET, basic):
        assert secret not in text


def test_account_webhook_with_test_delivery(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    create = requests_mock.post(f"{API}/webhooks/account", json=CREATED, status_code=201)
    test = requests_mock.post(f"{API}/webhooks/program_quoth/test", json=TESTED)
    argv = ["register", "--url", "https://hooks.example.com/webhook", "--test"]
    assert main(argv) == 0

    assert create.call_count == 1
    request = create.last_request
    assert request is not None
    assert request.json() == {
        "url": "https://hooks.example.com/webhook",
        "events": ["sync_start", "sync_end"],
        "active": True,
        "secret": HOOK_SECRET,
    }
    expected_auth = "Basic " + base64.b64encode(f"{KEY}:{API_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == expected_auth
    assert request.headers["Content-Type"] == "application/json"
    assert test.last_request is not None
    assert test.last_request.json() == {"event": "sync_end"}
    assert test.last_request.headers["Authorization"] == expected_auth

    captured = capsys.readouterr()
    assert "program_quoth" in captured.out
    assert "test delivery: succeed=true status=200" in captured.out
    _no_secrets(captured.out + captured.err)


def test_group_webhook_custom_events_and_api_url(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    created = {**CREATED, "data": {**CREATED["data"], "id": "group_hook", "type": "group"}}
    route = requests_mock.post(
        "http://127.0.0.1:9999/v1/webhooks/group/some%2Fgroup", json=created, status_code=201
    )
    argv = [
        "register",
        "--url",
        "http://127.0.0.1:8787/webhook",  # loopback http is allowed
        "--group-id",
        "some/group",
        "--events",
        "sync_end, connection_failure,sync_end",
        "--api-url",
        "http://127.0.0.1:9999/v1/",
    ]
    assert main(argv) == 0
    assert route.last_request is not None
    assert route.last_request.json()["events"] == ["sync_end", "connection_failure"]
    out = capsys.readouterr().out
    assert out.strip() == (
        "created group some/group webhook group_hook for http://127.0.0.1:8787/webhook "
        "(events: sync_end,connection_failure)"
    )


def test_secret_from_another_variable(
    requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIVETRAN_WEBHOOK_SECRET")
    monkeypatch.setenv("OTHER_HOOK_SECRET", "other-secret-3b7d0c2e")
    route = requests_mock.post(f"{API}/webhooks/account", json=CREATED, status_code=201)
    argv = ["register", "--url", "https://h.example.com/w", "--secret-env", "OTHER_HOOK_SECRET"]
    assert main(argv) == 0
    assert route.last_request is not None
    assert route.last_request.json()["secret"] == "other-secret-3b7d0c2e"


def test_failed_test_delivery_exits_1(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.post(f"{API}/webhooks/account", json=CREATED, status_code=201)
    failed = {"code": "Success", "data": {"succeed": False, "status": 500, "message": "boom"}}
    requests_mock.post(f"{API}/webhooks/program_quoth/test", json=failed)
    assert main(["register", "--url", "https://hooks.example.com/webhook", "--test"]) == 1
    assert "succeed=false status=500" in capsys.readouterr().out


@pytest.mark.parametrize(
    "missing", ["FIVETRAN_API_KEY", "FIVETRAN_API_SECRET", "FIVETRAN_WEBHOOK_SECRET"]
)
def test_missing_env_var(
    missing: str,
    monkeypatch: pytest.MonkeyPatch,
    requests_mock: rm.Mocker,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(missing)
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: missing environment variable(s): {missing}\n"
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/webhook", "ftp://hooks.example.com/x", "hooks.example.com/x"],
)
def test_non_https_url_refused(
    url: str, requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["register", "--url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --url must")
    assert err.count("\n") == 1
    assert requests_mock.call_count == 0


def test_api_error_shows_code_and_message_but_no_credentials(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {
        "code": "InvalidInput",
        "message": f"Endpoint returned 404 for secret {HOOK_SECRET}",  # an echo, redacted
    }
    requests_mock.post(f"{API}/webhooks/account", json=body, status_code=400)
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Fivetran API error: HTTP 400 InvalidInput: Endpoint returned")
    assert err.count("\n") == 1
    _no_secrets(err)


def test_api_error_echoing_the_authorization_header_is_scrubbed(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    basic = base64.b64encode(f"{KEY}:{API_SECRET}".encode()).decode()
    other = base64.b64encode(b"someone:else").decode()
    body = {
        "code": "AuthFailed",
        "message": f"Invalid header 'Authorization: Basic {basic}' (also tried Basic {other})",
    }
    requests_mock.post(f"{API}/webhooks/account", json=body, status_code=401)
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: Fivetran API error: HTTP 401 AuthFailed: Invalid header "
        "'Authorization: Basic <redacted>' (also tried Basic <redacted>)\n"
    )
    assert other not in err
    _no_secrets(err)


def test_test_delivery_message_is_scrubbed_too(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.post(f"{API}/webhooks/account", json=CREATED, status_code=201)
    echoed = {
        "code": "Success",
        "data": {"succeed": False, "status": 401, "message": "sent Bearer abc.def.ghi"},
    }
    requests_mock.post(f"{API}/webhooks/program_quoth/test", json=echoed)
    assert main(["register", "--url", "https://hooks.example.com/webhook", "--test"]) == 1
    out = capsys.readouterr().out
    assert "Bearer <redacted>" in out
    assert "abc.def.ghi" not in out


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("https://collector.example.net/steal", "to another origin"),
        ("https://api.fivetran.com:8443/v1/webhooks/account", "to another origin"),
        ("http://api.fivetran.com/v1/webhooks/account", "from https to http"),
    ],
    ids=["other-host", "other-port", "https-to-http"],
)
def test_redirect_that_would_resend_the_secret_is_not_followed(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str], location: str, reason: str
) -> None:
    requests_mock.post(f"{API}/webhooks/account", status_code=307, headers={"Location": location})
    elsewhere = requests_mock.post(location, json=CREATED, status_code=201)
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    assert elsewhere.call_count == 0  # nothing, not even the body, went there
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "error: Fivetran API answered with a redirect that was not followed: "
        f"refused to follow HTTP 307 redirect {reason}: https://api.fivetran.com -> "
    )
    assert err.endswith("(check --api-url)\n")
    assert "/steal" not in err  # origins only
    _no_secrets(err)


def test_same_origin_redirect_is_followed(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        f"{API}/webhooks/account", status_code=308, headers={"Location": "/v1/webhooks/account2"}
    )
    moved = requests_mock.post(f"{API}/webhooks/account2", json=CREATED, status_code=201)
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 0
    assert moved.last_request is not None
    assert moved.last_request.json()["secret"] == HOOK_SECRET


def test_api_unauthorized_and_non_json(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.post(f"{API}/webhooks/account", text="<html>denied</html>", status_code=401)
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    assert capsys.readouterr().err == "error: Fivetran API error: HTTP 401, non-JSON body\n"


def test_api_unreachable(requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]) -> None:
    requests_mock.post(f"{API}/webhooks/account", exc=requests.ConnectionError("refused"))
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    err = capsys.readouterr().err
    assert err == "error: cannot reach the Fivetran API at api.fivetran.com: ConnectionError\n"


def test_api_url_must_be_https_too(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["register", "--url", "https://h.example.com/w", "--api-url", "http://evil.example/v1"]
    assert main(argv) == 2
    assert "--api-url must use https://" in capsys.readouterr().err


def test_helpers() -> None:
    assert check_url("https://x.example/", what="u") == "https://x.example"
    assert check_url("http://[::1]:8787/w", what="u") == "http://[::1]:8787/w"
    assert check_url("http://localhost/w", what="u") == "http://localhost/w"
    with pytest.raises(RegisterError):
        check_url("http://10.0.0.1/w", what="u")
    with pytest.raises(RegisterError):
        parse_events(" , ")
    with pytest.raises(RegisterError):
        parse_events("sync_end;drop")
