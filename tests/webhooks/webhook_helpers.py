"""Helpers shared by the webhook tests: a handle on an in-process receiver, raw HTTP."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tap_fivetran_meta.webhooks.events import parse_event
from tap_fivetran_meta.webhooks.receiver import WebhookServer
from tap_fivetran_meta.webhooks.sender import encode_payload, sample_payload
from tap_fivetran_meta.webhooks.signature import SIGNATURE_HEADER, compute_signature
from tap_fivetran_meta.webhooks.store import Inbox, InboxHealth, StoreResult, iter_events

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from tap_fivetran_meta.webhooks.events import WebhookEvent

SECRET = b"correct horse battery staple"

# The live sync_end capture from the API notes (287 bytes, no trailing newline).
LIVE_SYNC_END = (
    b'{"event":"sync_end","created":"2026-05-22T00:06:08.638Z",'
    b'"connector_type":"google_cloud_postgresql","connector_id":"assimilate_seem",'
    b'"connector_name":"ftar_pg","sync_id":"b4703f73-6315-4e22-8d7a-3bfb18b2fed2",'
    b'"destination_group_id":"inappropriate_implode","data":{"status":"SUCCESSFUL"}}'
)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RunningReceiver:
    server: WebhookServer
    inbox: Inbox
    stop: threading.Event
    thread: threading.Thread
    inbox_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return self.server.url

    def post(
        self, body: bytes, *, sign: bool | str = True, headers: dict[str, str] | None = None
    ) -> Response:
        """POST to the delivery path; sign=True signs upper-case, a str is sent as is."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if sign is True:
            all_headers[SIGNATURE_HEADER] = compute_signature(SECRET, body)
        elif isinstance(sign, str):
            all_headers[SIGNATURE_HEADER] = sign
        return self.request("POST", self.server.config.path, body, all_headers)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Response(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def raw(self, data: bytes, *, then: bytes | None = None) -> Response:
        """Send raw bytes (optionally more after a pause) and read until the server closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(data)
            if then is not None:
                sock.sendall(then)
            return read_response(sock)

    def stored(self) -> list[dict[str, Any]]:
        return list(iter_events(self.inbox_path))


def read_response(sock: socket.socket) -> Response:
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return Response(int(status_line.split()[1]), headers, body)


class GatedInbox:
    """An inbox whose add() waits for the test, to observe what the client sees meanwhile."""

    def __init__(self, inner: Inbox) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def add(self, event: WebhookEvent, **kwargs: Any) -> StoreResult:
        self.entered.set()
        assert self.release.wait(10)
        return self.inner.add(event, **kwargs)

    @property
    def inbox_id(self) -> str:
        return self.inner.inbox_id

    def count(self) -> int:
        return self.inner.count()

    def health(self) -> InboxHealth:
        return self.inner.health()

    def close(self) -> None:
        self.inner.close()


def signed_payload(**fields: Any) -> bytes:
    payload = sample_payload("sync_end")
    payload.update(fields)
    return encode_payload(payload)


def fill_inbox(path: Path, bodies: list[bytes], *, verified: bool = True) -> None:
    with Inbox(path) as inbox:
        for body in bodies:
            inbox.add(
                parse_event(body),
                received_at="2026-05-22T00:06:09.000000Z",
                signature_verified=verified,
            )


def wait_refused(port: int) -> None:
    """Wait until nothing accepts connections on ``port`` any more (fail after 5 s)."""
    import pytest

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        except ConnectionResetError:
            pass  # queued in the backlog as the listener closed; try again
        time.sleep(0.05)
    pytest.fail("the receiver still accepts connections after shutdown")


NOBODY = 65534


def unprivileged_command(argv: Sequence[str]) -> list[str]:
    """``argv`` run as an ordinary user, so file permissions apply (root ignores them).

    As root (CI), the command runs as uid/gid 65534 through ``setpriv``; otherwise as
    the current user. The test fails under CI if that is not possible, and skips with
    the reason on a developer machine.
    """
    import pytest

    if os.geteuid() != 0:
        return list(argv)
    setpriv = shutil.which("setpriv")
    command = [] if setpriv is None else [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}"]
    command += ["--clear-groups"] if setpriv else []
    probe = [*command, sys.executable, "-c", "import tap_fivetran_meta"]
    ok = (
        setpriv is not None
        and subprocess.run(probe, capture_output=True, check=False).returncode == 0
    )
    if not ok:
        reason = "cannot run Python as an unprivileged user here (setpriv missing or no access)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return [*command, *argv]


def run_unprivileged(
    argv: Sequence[str], *, cwd: Path | str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command as an ordinary user (see :func:`unprivileged_command`)."""
    full_env = {key: value for key, value in os.environ.items() if not key.startswith("FIVETRAN_")}
    full_env.update(env or {})
    return subprocess.run(
        unprivileged_command(argv),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
