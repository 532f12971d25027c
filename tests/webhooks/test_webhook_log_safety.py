"""What the webhook tools write (issue 22 items 3/11 webhook side, and the low items).

* The webhook secret (and the API key and secret for ``register``) never appears in a
  line, in any spelling an echo can take: plain, URL-encoded, base64, base64 of
  ``key:secret``, JSON-escaped.
* Request data cannot forge log lines: newlines, carriage returns and ANSI escapes
  are written as visible escapes.
* A webhook secret shorter than 16 characters is refused with one clear line.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

import pytest
from webhook_helpers import SECRET, read_response, signed_payload

from tap_fivetran_meta.rules.redact import secret_variants
from tap_fivetran_meta.webhooks.cli import main
from tap_fivetran_meta.webhooks.logsafe import neutralise
from tap_fivetran_meta.webhooks.receiver import ReceiverConfig
from tap_fivetran_meta.webhooks.signature import MIN_SECRET_LENGTH

if TYPE_CHECKING:
    from pathlib import Path

    import requests_mock as rm
    from webhook_helpers import RunningReceiver

API = "https://api.fivetran.com/v1"
KEY, API_SECRET = "log-key-7d1c", "log-api-secret-91ab"
HOOK = SECRET.decode()


def _spellings(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
    ]


def _assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        for spelling in _spellings(secret):
            assert spelling not in text, f"{spelling!r} was written"
    if KEY in secrets:
        assert base64.b64encode(f"{KEY}:{API_SECRET}".encode()).decode() not in text


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


# --- the receiver ----------------------------------------------------------------------


def test_the_receiver_never_logs_the_secret_whatever_a_sender_puts_in_a_request(
    receiver: RunningReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for spelling in _spellings(HOOK):
            # In the path of a rejected request (logged with its path)...
            receiver.request("POST", f"/{quote(spelling, safe='')}", b"{}")
            # ...and in the fields of a stored event (logged when stored).
            body = signed_payload(connector_id=spelling, event=f"e{spelling}", sync_id=spelling)
            assert receiver.post(body).status == 200
    text = _log_text(caplog)
    assert "stored event=" in text  # the lines were written, masked
    assert "<redacted>" in text
    _assert_no_secret(text, HOOK)


def test_request_data_cannot_forge_log_lines(
    receiver: RunningReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    forged = "conn_1\n2026-01-01 00:00:00 ERROR tap: forged\r\x1b[2J\x1b[31mred\u2028x"
    with caplog.at_level(logging.INFO):
        assert receiver.post(signed_payload(connector_id=forged)).status == 200
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
            sock.sendall(b"POST /a\x1b[31mb HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
            assert read_response(sock).status == 404
    lines = [record.getMessage() for record in caplog.records]
    for line in lines:
        assert "\n" not in line
        assert "\r" not in line
        assert "\x1b" not in line
        assert "\u2028" not in line
    stored = next(line for line in lines if line.startswith("stored "))
    assert "connection_id=conn_1\\n2026-01-01 00:00:00 ERROR tap: forged\\r\\x1b[2J" in stored
    assert any("/a\\x1b[31mb" in line for line in lines)


def test_neutralise_keeps_ordinary_text() -> None:
    assert neutralise("stored event=sync_end connection_id=ä_1") == (
        "stored event=sync_end connection_id=ä_1"
    )
    assert neutralise("a\tb\x00c\x9bd") == "a\\tb\\x00c\\x9bd"


# --- the minimum secret length ---------------------------------------------------------


@pytest.mark.parametrize("secret", [b"x", b"0123456789abcde"])
def test_a_short_secret_is_refused_by_the_receiver(secret: bytes) -> None:
    with pytest.raises(ValueError, match=f"use at least {MIN_SECRET_LENGTH}"):
        ReceiverConfig(secret=secret)


def test_serve_refuses_a_one_character_secret_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIVETRAN_WEBHOOK_SECRET", "x")
    assert main(["serve", "--inbox", str(tmp_path / "inbox.sqlite"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "error: FIVETRAN_WEBHOOK_SECRET: the webhook secret is 1 character(s) long; use at least 16"
    )
    assert not (tmp_path / "inbox.sqlite").exists()


def test_register_refuses_a_short_secret_before_calling_the_api(
    requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _register_env(monkeypatch, hook="short")
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    assert requests_mock.call_count == 0
    assert "the webhook secret is 5 character(s) long" in capsys.readouterr().err


# --- register and send-test ------------------------------------------------------------


def _register_env(monkeypatch: pytest.MonkeyPatch, *, hook: str = HOOK) -> None:
    monkeypatch.setenv("FIVETRAN_API_KEY", KEY)
    monkeypatch.setenv("FIVETRAN_API_SECRET", API_SECRET)
    monkeypatch.setenv("FIVETRAN_WEBHOOK_SECRET", hook)


def _echoing(*secrets: str) -> str:
    basic = base64.b64encode(f"{KEY}:{API_SECRET}".encode()).decode()
    parts = [f"{s} {quote(s, safe='')} {base64.b64encode(s.encode()).decode()}" for s in secrets]
    return f"receiver said: {' | '.join(parts)} auth {basic} json {json.dumps(HOOK)}"


def test_register_test_never_echoes_the_webhook_secret(
    requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _register_env(monkeypatch)
    created: dict[str, Any] = {
        "code": "Success",
        "data": {"id": "hook_1", "url": "https://hooks.example.com/webhook", "secret": HOOK},
    }
    report = {"succeed": False, "status": 401, "message": _echoing(HOOK, API_SECRET, KEY)}
    requests_mock.post(f"{API}/webhooks/account", json=created, status_code=201)
    requests_mock.post(f"{API}/webhooks/hook_1/test", json={"code": "Success", "data": report})
    with caplog_all() as records:
        assert main(["register", "--url", "https://hooks.example.com/webhook", "--test"]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err + "\n".join(records)
    assert "test delivery: succeed=false status=401" in captured.out
    assert "<redacted>" in captured.out
    _assert_no_secret(text, HOOK, API_SECRET, KEY)


def test_register_api_error_echoing_every_secret_is_masked(
    requests_mock: rm.Mocker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _register_env(monkeypatch)
    error = {"code": "InvalidInput", "message": _echoing(HOOK, API_SECRET, KEY)}
    requests_mock.post(f"{API}/webhooks/account", json=error, status_code=400)
    assert main(["register", "--url", "https://hooks.example.com/webhook"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Fivetran API error: HTTP 400 InvalidInput: receiver said:")
    _assert_no_secret(err, HOOK, API_SECRET, KEY)


def test_send_test_never_prints_the_secret_even_if_the_receiver_echoes_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIVETRAN_WEBHOOK_SECRET", HOOK)
    echo = json.dumps({"echo": f"{HOOK} {quote(HOOK, safe='')} {_spellings(HOOK)[3]}"}).encode()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                    % (len(echo), echo)
                )

        thread = threading.Thread(target=answer)
        thread.start()
        assert main(["send-test", "--url", f"http://127.0.0.1:{port}/webhook"]) == 0
        thread.join(5)
    out = capsys.readouterr().out
    assert out.startswith("HTTP 200 ")
    _assert_no_secret(out, HOOK)


def test_every_spelling_the_tests_use_is_one_the_mask_knows() -> None:
    known = secret_variants([HOOK])
    assert all(spelling in known for spelling in _spellings(HOOK))


class caplog_all:
    """Collect every record logged anywhere while active (root logger, all levels)."""

    def __enter__(self) -> list[str]:
        self.records: list[str] = []
        self.handler = logging.Handler(logging.DEBUG)
        self.handler.emit = lambda record: self.records.append(record.getMessage())  # type: ignore[method-assign]
        root = logging.getLogger()
        self.level = root.level
        root.addHandler(self.handler)
        root.setLevel(logging.DEBUG)
        return self.records

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.level)
