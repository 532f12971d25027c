"""Slow and idle connections (slowloris) against an in-process receiver.

The number of slow connections is a parameter: ``WEBHOOK_SLOW_CONNECTIONS`` (default
300, enough to show the limits in CI). ``benchmarks/webhook_load.py --slow-connections``
runs the heavier version and prints the numbers.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import SECRET, GatedInbox, read_response, signed_payload

from benchmarks.webhook_load import SlowLoris, probe_during_attack
from tap_fivetran_meta.webhooks.signature import compute_signature
from tap_fivetran_meta.webhooks.store import Inbox

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from webhook_helpers import RunningReceiver

SLOW_CONNECTIONS = int(os.environ.get("WEBHOOK_SLOW_CONNECTIONS", "300"))
LIMIT = 32


def _signed_request(receiver: RunningReceiver, body: bytes) -> bytes:
    return (
        f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{receiver.port}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Fivetran-Signature-256: {compute_signature(SECRET, body)}\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize("slow_connections", [SLOW_CONNECTIONS])
def test_slowloris_leaves_healthz_and_signed_deliveries_working(
    start_receiver: Callable[..., RunningReceiver],
    slow_connections: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    receiver = start_receiver(max_connections=LIMIT, request_timeout_s=5.0)
    limiter = receiver.server.connections
    attack = SlowLoris("127.0.0.1", receiver.port, slow_connections, reconnects_per_s=500)
    attack.start()
    try:
        report = probe_during_attack(
            receiver.url,
            SECRET,
            attack,
            probes=5,
            interval_s=0.1,
            timeout_s=5.0,
            # Connections holding a slot (and so a thread): what the limit bounds. Counting
            # threads instead would also count ones that released their slot and are still
            # exiting, as many as a loaded machine leaves behind.
            thread_count=lambda: limiter.live,
        )
        # Every slow connection beyond the limit is closed by the receiver: to make room
        # (evicted) or at its deadline. A condition to wait for, not a time.
        _wait_for(lambda: attack.closed_by_receiver >= slow_connections - LIMIT, seconds=60)
    finally:
        attack.stop()
    with capsys.disabled():
        print(f"\nslowloris ({slow_connections} slow connections): {report.summary()}")
    assert report.health_failures == []
    assert report.post_failures == []
    assert {row["event_id"] for row in receiver.stored()} == set(report.acked)
    assert len(report.acked) == 5
    assert 0 < report.max_threads <= LIMIT  # never more connections with a thread
    assert attack.closed_by_receiver >= slow_connections - LIMIT


def _wait_for(condition: Callable[[], bool], *, seconds: float) -> None:
    """Until ``condition`` holds (at once on a fast machine), at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_client_dripping_bytes_is_cut_off_at_the_deadline(
    start_receiver: Callable[..., RunningReceiver], phase: str
) -> None:
    # Each byte arrives well within the deadline: a per-recv timeout would never fire.
    receiver = start_receiver(request_timeout_s=1.0)
    head = f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{receiver.port}\r\n"
    if phase == "body":
        head += "Content-Length: 100000\r\nX-Fivetran-Signature-256: 00\r\n\r\n"
    began = time.monotonic()
    cut_after = None
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(head.encode())
        sock.settimeout(0.2)
        while time.monotonic() - began < 8:
            try:
                sock.sendall(b"x")
                if sock.recv(4096) == b"":
                    cut_after = time.monotonic() - began
                    break
            except TimeoutError:
                continue
            except OSError:
                cut_after = time.monotonic() - began
                break
    assert cut_after is not None, "the receiver kept a dripping client for 8 s"
    assert cut_after < 5  # deadline 1 s, plus generous slack for a loaded machine
    assert receiver.stored() == []


def test_a_request_being_stored_is_never_closed_to_make_room(
    start_receiver: Callable[..., RunningReceiver], inbox_path: Path
) -> None:
    gated = GatedInbox(Inbox(inbox_path))
    receiver = start_receiver(inbox=gated, max_connections=2)
    body = signed_payload()
    answer: list[int] = []

    def deliver() -> None:
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as sock:
            sock.sendall(_signed_request(receiver, body))
            answer.append(read_response(sock).status)

    sender = threading.Thread(target=deliver)
    sender.start()
    assert gated.entered.wait(5)  # the delivery is complete and being stored
    slow = [socket.create_connection(("127.0.0.1", receiver.port), timeout=5) for _ in range(10)]
    try:
        for sock in slow:
            sock.sendall(b"POST /webhook HTTP/1.1\r\n")
        # They push each other out (a bound for a loaded machine; met at once otherwise).
        _wait_for(lambda: receiver.server.connections.evictions >= 9, seconds=30)
    finally:
        gated.release.set()
        sender.join(10)
        for sock in slow:
            sock.close()
    assert answer == [200]
    assert len(receiver.stored()) == 1


def test_every_slot_busy_storing_answers_503_not_a_hang(
    start_receiver: Callable[..., RunningReceiver], inbox_path: Path
) -> None:
    gated = GatedInbox(Inbox(inbox_path))
    receiver = start_receiver(inbox=gated, max_connections=1)
    sender = threading.Thread(target=receiver.post, args=(signed_payload(),))
    sender.start()
    try:
        assert gated.entered.wait(5)
        busy = receiver.request("GET", "/healthz")
        assert busy.status == 503
        assert busy.json() == {"error": "busy"}
        assert busy.headers["Retry-After"] == "1"
    finally:
        gated.release.set()
        sender.join(10)
    assert receiver.request("GET", "/healthz").status == 200
    assert len(receiver.stored()) == 1
