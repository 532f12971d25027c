"""The shared redirect policy (tap_fivetran_meta.api.redirects) on real loopback servers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tap_fivetran_meta.api.redirects import (
    UnsafeRedirectError,
    apply_redirect_policy,
    redirect_refusal,
    show_origin,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.mark.parametrize(
    ("source", "target", "refusal"),
    [
        ("https://api.fivetran.com/v1/a", "/v1/b", None),
        ("https://api.fivetran.com/v1/a", "https://API.fivetran.com:443/v1/b", None),
        ("https://api.fivetran.com/v1/a", "b?x=1", None),
        ("http://127.0.0.1:9/v1/a", "https://127.0.0.1:8443/v1/a", None),
        ("https://api.fivetran.com/v1/a", "http://api.fivetran.com/v1/a", "from https to http"),
        ("https://api.fivetran.com/v1/a", "https://evil.example/v1/a", "to another origin"),
        ("https://api.fivetran.com/v1/a", "//evil.example/v1/a", "to another origin"),
        ("https://api.fivetran.com/v1/a", "https://api.fivetran.com:8443/", "to another origin"),
        ("http://127.0.0.1:9/v1/a", "http://127.0.0.1:10/v1/a", "to another origin"),
        ("http://127.0.0.1:9/v1/a", "http://169.254.169.254/latest", "to another origin"),
        ("https://api.fivetran.com/v1/a", "ftp://api.fivetran.com/x", "from https to ftp"),
    ],
)
def test_redirect_refusal(source: str, target: str, refusal: str | None) -> None:
    assert redirect_refusal(source, target) == refusal


def test_show_origin_hides_paths_and_default_ports() -> None:
    assert show_origin("https://api.fivetran.com/v1/x?token=abc") == "https://api.fivetran.com"
    assert show_origin("http://[::1]:8080/x") == "http://[::1]:8080"


class _Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes, dict[str, str]]] = []
        self.redirect_to: str | None = None


@pytest.fixture
def servers() -> Iterator[tuple[str, str, _Recorder]]:
    """Two loopback servers (two origins); the first redirects when told to."""
    recorder = _Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            origin = f"http://127.0.0.1:{self.server.server_address[1]}"
            recorder.requests.append((origin, self.path, body, dict(self.headers)))
            if self.path == "/start" and recorder.redirect_to:
                self.send_response(307)
                self.send_header("Location", recorder.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    started = []
    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        started.append(server)
    first, second = (f"http://127.0.0.1:{s.server_address[1]}" for s in started)
    try:
        yield first, second, recorder
    finally:
        for server in started:
            server.shutdown()
            server.server_close()


def test_a_307_to_another_origin_sends_nothing_there(servers: tuple[str, str, _Recorder]) -> None:
    first, second, recorder = servers
    recorder.redirect_to = f"{second}/collect"
    with (
        apply_redirect_policy(requests.Session()) as session,
        pytest.raises(UnsafeRedirectError) as caught,
    ):
        session.post(f"{first}/start", json={"secret": "s3cret"}, auth=("key", "pw"), timeout=5)
    assert [origin for origin, *_ in recorder.requests] == [first]
    assert str(caught.value) == (
        f"refused to follow HTTP 307 redirect to another origin: {first} -> {second}"
    )
    assert isinstance(caught.value, requests.RequestException)  # callers' handlers catch it


def test_a_same_origin_307_is_followed_with_its_body(servers: tuple[str, str, _Recorder]) -> None:
    first, _, recorder = servers
    recorder.redirect_to = "/moved"
    with apply_redirect_policy(apply_redirect_policy(requests.Session())) as session:  # twice
        response = session.post(f"{first}/start", json={"a": 1}, timeout=5)
        hooks = session.hooks["response"]
    assert response.status_code == 200
    assert [(path, body) for _, path, body, _ in recorder.requests] == [
        ("/start", b'{"a": 1}'),
        ("/moved", b'{"a": 1}'),
    ]
    assert len(hooks) == 1


def test_without_the_policy_requests_would_resend_the_body(
    servers: tuple[str, str, _Recorder],
) -> None:
    # Why the policy exists: plain requests re-sends a 307's body to the other origin.
    first, second, recorder = servers
    recorder.redirect_to = f"{second}/collect"
    with requests.Session() as session:
        session.post(f"{first}/start", json={"secret": "s3cret"}, timeout=5)
    assert (recorder.requests[-1][0], recorder.requests[-1][2]) == (second, b'{"secret": "s3cret"}')
