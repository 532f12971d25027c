"""The tap-fivetran-meta-webhooks command: argument checks, send-test, serve and signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import (
    SECRET,
    fill_inbox,
    read_response,
    run_unprivileged,
    signed_payload,
    wait_refused,
)

from benchmarks.webhook_load import REPO, start_receiver
from tap_fivetran_meta.webhooks.cli import main
from tap_fivetran_meta.webhooks.events import event_id_for
from tap_fivetran_meta.webhooks.signature import compute_signature
from tap_fivetran_meta.webhooks.store import iter_events

if TYPE_CHECKING:
    from pathlib import Path

    from webhook_helpers import RunningReceiver


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "serve" in capsys.readouterr().out
    assert main(["--version"]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["serve"],
        ["serve", "--inbox", "x.sqlite", "--port", "70000"],
        ["serve", "--inbox", "x.sqlite", "--path", "webhook"],
        ["serve", "--inbox", "x.sqlite", "--max-body-bytes", "0"],
        ["serve", "--inbox", "x.sqlite", "--max-connections", "0"],
        ["serve", "--inbox", "x.sqlite", "--request-timeout", "0"],
        ["serve", "--inbox", "x.sqlite", "--request-timeout", "nan"],
        ["register"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err


def test_explicit_secret_env_must_be_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MY_HOOK_SECRET", raising=False)
    inbox = tmp_path / "inbox.sqlite"
    argv = ["serve", "--inbox", str(inbox), "--port", "0", "--secret-env", "MY_HOOK_SECRET"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --secret-env names MY_HOOK_SECRET, which is not set or empty"
    )


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIVETRAN_WEBHOOK_SECRET", SECRET.decode())


def _serve_subprocess(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run serve; a receiver that starts would be stopped by the timeout (a failure)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIVETRAN_")}
    command = [sys.executable, "-m", "tap_fivetran_meta.webhooks", "serve", "--port", "0"]
    return subprocess.run(
        [*command, "--inbox", str(tmp_path / "inbox.sqlite"), *args],
        cwd=REPO,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    result = _serve_subprocess(tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: no webhook secret: set FIVETRAN_WEBHOOK_SECRET (or name another variable with "
        "--secret-env); to accept unsigned deliveries for local testing, pass "
        "--insecure-no-signature\n"
    )
    assert not (tmp_path / "inbox.sqlite").exists()


def test_serve_refuses_a_secret_together_with_the_insecure_flag(tmp_path: Path) -> None:
    env = {"FIVETRAN_WEBHOOK_SECRET": "s3cret-value-long-enough"}
    result = _serve_subprocess(tmp_path, "--insecure-no-signature", env=env)
    assert result.returncode == 2
    assert result.stderr == (
        "error: --insecure-no-signature was given but FIVETRAN_WEBHOOK_SECRET holds a secret; "
        "use one or the other\n"
    )
    assert "s3cret-value-long-enough" not in result.stderr


def test_serve_insecure_flag_warns_loudly_and_stores_unsigned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox.sqlite"
    receiver = start_receiver(inbox, tmp_path / "receiver.log", secret=None)
    try:
        monkeypatch.delenv("FIVETRAN_WEBHOOK_SECRET", raising=False)
        assert main(["send-test", "--url", receiver.url]) == 0
    finally:
        assert receiver.stop() == 0
    log = receiver.log_path.read_text()
    assert "WARNING" in log
    assert "INSECURE: signatures are NOT verified (--insecure-no-signature)" in log
    assert [row["signature_verified"] for row in iter_events(inbox)] == [0]
    assert "sending unsigned" in capsys.readouterr().err


def test_serve_reports_an_unusable_inbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret_env: None
) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert main(["serve", "--inbox", str(junk), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"error: --inbox: {junk} is not an SQLite database, so not a webhook inbox "
        "(is it the right file?)\n"
    )


def test_serve_reports_a_directory_as_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret_env: None
) -> None:
    assert main(["serve", "--inbox", str(tmp_path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"error: --inbox: {tmp_path} is a directory, not an inbox file "
        f"(give the file's path, e.g. {tmp_path / 'webhooks.sqlite'})\n"
    )


def test_serve_reports_a_read_only_inbox_as_read_only(shared_dir: Path) -> None:
    inbox = shared_dir / "inbox.sqlite"
    fill_inbox(inbox, [signed_payload()])
    os.chmod(inbox, 0o644)  # readable by the other user; its directory is not writable
    command = [sys.executable, "-m", "tap_fivetran_meta.webhooks", "serve", "--port", "0"]
    result = run_unprivileged(
        [*command, "--inbox", str(inbox)],
        cwd=shared_dir,
        env={"FIVETRAN_WEBHOOK_SECRET": SECRET.decode()},
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: --inbox: cannot write to {inbox}: its directory {shared_dir} is not writable "
        "by this user (SQLite creates inbox.sqlite-wal and inbox.sqlite-shm next to the inbox)\n"
    )


def test_serve_reports_a_busy_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret_env: None
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve", "--inbox", str(tmp_path / "i.sqlite"), "--port", str(port)]
        assert main(argv) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_send_test_signed_upper_case(
    receiver: RunningReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIVETRAN_WEBHOOK_SECRET", SECRET.decode())
    assert main(["send-test", "--url", receiver.url, "--event", "sync_start"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("HTTP 200 ")
    [row] = receiver.stored()
    assert (row["event"], row["signature_verified"]) == ("sync_start", 1)
    assert SECRET.decode() not in out


def test_send_test_with_wrong_secret_fails(
    receiver: RunningReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIVETRAN_WEBHOOK_SECRET", "wrong")
    assert main(["send-test", "--url", receiver.url]) == 1
    assert capsys.readouterr().out.startswith("HTTP 401 ")
    assert receiver.stored() == []


def test_send_test_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FIVETRAN_WEBHOOK_SECRET", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["send-test", "--url", f"http://127.0.0.1:{port}/webhook"]) == 1
    err = capsys.readouterr().err
    assert "sending unsigned" in err
    assert "no answer from" in err


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tap_fivetran_meta.webhooks", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "register" in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_finishes_in_flight_request_then_exits_0(
    tmp_path: Path, signum: signal.Signals
) -> None:
    inbox = tmp_path / "inbox.sqlite"
    receiver = start_receiver(inbox, tmp_path / "receiver.log", secret=SECRET.decode())
    port = int(receiver.url.split(":")[2].split("/")[0])
    body = signed_payload()
    # Expect: 100-continue, so the receiver says when its handler reads our request: the
    # signal then lands on a request in flight, however slow the machine.
    head = (
        f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        f"Expect: 100-continue\r\n"
        f"X-Fivetran-Signature-256: {compute_signature(SECRET, body)}\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head)
            interim = b""
            while not interim.endswith(b"\r\n\r\n"):
                chunk = sock.recv(1)
                assert chunk, "the receiver closed the connection"
                interim += chunk
            assert interim.startswith(b"HTTP/1.1 100"), interim
            sock.sendall(body[:20])
            receiver.process.send_signal(signum)
            wait_refused(port)  # no longer accepting...
            assert receiver.process.poll() is None  # ...but waiting for our request
            sock.sendall(body[20:])
            response = read_response(sock)
        assert response.status == 200
        assert receiver.process.wait(10) == 0
    finally:
        receiver.stop()
    log = receiver.log_path.read_text()
    assert "finishing requests in flight" in log
    assert "stopped" in log
    assert not (tmp_path / "inbox.sqlite-wal").exists()  # the inbox was closed cleanly
    assert [row["event_id"] for row in iter_events(inbox)] == [event_id_for(body)]
