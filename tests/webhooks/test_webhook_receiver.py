"""HTTP behaviour of the receiver: limits, parsing, storage, duplicates, health, shutdown."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import (
    LIVE_SYNC_END,
    SECRET,
    GatedInbox,
    read_response,
    signed_payload,
    wait_refused,
)

from tap_fivetran_meta.webhooks.events import event_id_for
from tap_fivetran_meta.webhooks.signature import compute_signature
from tap_fivetran_meta.webhooks.store import Inbox

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from webhook_helpers import RunningReceiver

LIMIT = 1024


def _head(receiver: RunningReceiver, extra: str) -> bytes:
    return (
        f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{receiver.port}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def _body_of_size(size: int) -> bytes:
    skeleton = signed_payload(padding="")
    body = signed_payload(padding="x" * (size - len(skeleton)))
    assert len(body) == size
    return body


# --- body size and framing -------------------------------------------------------------


def test_body_at_the_limit_is_stored(start_receiver: Callable[..., RunningReceiver]) -> None:
    receiver = start_receiver(max_body_bytes=LIMIT)
    assert receiver.post(_body_of_size(LIMIT)).status == 200
    assert len(receiver.stored()) == 1


def test_body_over_the_limit_is_413(start_receiver: Callable[..., RunningReceiver]) -> None:
    receiver = start_receiver(max_body_bytes=LIMIT)
    response = receiver.post(_body_of_size(LIMIT + 1))
    assert response.status == 413
    assert receiver.stored() == []


def test_413_reaches_a_client_that_sends_the_whole_body_first(
    start_receiver: Callable[..., RunningReceiver],
) -> None:
    # Without draining, closing with unread data resets the connection and the client
    # may never see the 413 (it would retry the same oversized body forever).
    receiver = start_receiver(max_body_bytes=LIMIT)
    body = b"x" * 200_000
    for _ in range(5):
        response = receiver.post(body)
        assert response.status == 413
    assert receiver.stored() == []


def test_413_is_decided_from_content_length_before_reading(
    start_receiver: Callable[..., RunningReceiver],
) -> None:
    receiver = start_receiver(max_body_bytes=LIMIT)
    # Announce 10 MB but send only a few bytes: the answer must come without the body.
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(_head(receiver, "Content-Length: 10000000\r\n") + b'{"event":')
        response = read_response(sock)
    assert response.status == 413
    assert receiver.stored() == []


def test_expect_100_continue_is_refused_before_the_body(
    start_receiver: Callable[..., RunningReceiver],
) -> None:
    receiver = start_receiver(max_body_bytes=LIMIT)
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(_head(receiver, "Content-Length: 5000\r\nExpect: 100-continue\r\n"))
        sock.shutdown(socket.SHUT_WR)
        response = read_response(sock)
    assert response.status == 413


def test_expect_100_continue_within_limit_is_stored(receiver: RunningReceiver) -> None:
    body = signed_payload()
    signature = compute_signature(SECRET, body)
    extra = f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n"
    extra += f"X-Fivetran-Signature-256: {signature}\r\n"
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(_head(receiver, extra))
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        response = read_response(sock)
    assert response.status == 200
    assert len(receiver.stored()) == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("Transfer-Encoding: chunked\r\n", 411),
        ("", 411),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
        ("Content-Length: abc\r\n", 400),
        ("Content-Length: -1\r\n", 400),
        ("Content-Length: 5\r\nContent-Length: 6\r\n", 400),
    ],
    ids=["chunked", "no-length", "chunked-and-length", "non-numeric", "negative", "conflicting"],
)
def test_framing_errors(receiver: RunningReceiver, headers: str, status: int) -> None:
    body = b'5\r\n{"a":\r\n0\r\n\r\n' if "chunked" in headers else b""
    response = receiver.raw(_head(receiver, headers) + body)
    assert response.status == status
    assert receiver.stored() == []


# --- payload ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"sync_end"', b"null", b'{"a": NaN}', b"\xff\xfe{}", b"", b"{"],
    ids=["text", "array", "string", "null", "nan", "not-utf8", "empty", "truncated"],
)
def test_non_json_or_non_object_is_400(receiver: RunningReceiver, body: bytes) -> None:
    response = receiver.post(body)
    assert response.status == 400
    assert receiver.stored() == []


def test_deeply_nested_json_is_400_not_a_crash(receiver: RunningReceiver) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    assert receiver.post(body).status == 400
    assert receiver.post(signed_payload()).status == 200


def test_live_payload_is_stored_with_parsed_columns(receiver: RunningReceiver) -> None:
    response = receiver.post(LIVE_SYNC_END)
    assert response.status == 200
    assert response.json() == {"status": "stored", "event_id": event_id_for(LIVE_SYNC_END)}
    [row] = receiver.stored()
    assert row["raw_body"].encode() == LIVE_SYNC_END
    assert row["seq"] == 1
    assert {key: row[key] for key in ("event", "created", "connector_type", "status")} == {
        "event": "sync_end",
        "created": "2026-05-22T00:06:08.638000Z",
        "connector_type": "google_cloud_postgresql",
        "status": "SUCCESSFUL",
    }
    assert row["connection_id"] == "assimilate_seem"
    assert row["group_id"] == "inappropriate_implode"
    assert row["received_at"].endswith("Z")


def test_unknown_path_is_404_and_not_stored(receiver: RunningReceiver) -> None:
    body = signed_payload()
    response = receiver.request("POST", "/other", body, {"Content-Length": str(len(body))})
    assert response.status == 404
    assert receiver.stored() == []


def test_custom_path_and_query_string(start_receiver: Callable[..., RunningReceiver]) -> None:
    receiver = start_receiver(path="/hooks/fivetran")
    body = signed_payload()
    signature = compute_signature(SECRET, body)
    headers = {"X-Fivetran-Signature-256": signature}
    assert receiver.request("POST", "/hooks/fivetran?x=1", body, headers).status == 200
    assert receiver.request("POST", "/webhook", body, headers).status == 404


# --- duplicates and concurrency --------------------------------------------------------


def test_replayed_delivery_is_stored_once_and_still_200(receiver: RunningReceiver) -> None:
    first = receiver.post(LIVE_SYNC_END)
    second = receiver.post(LIVE_SYNC_END)
    assert (first.status, second.status) == (200, 200)
    assert (first.json()["status"], second.json()["status"]) == ("stored", "duplicate")
    assert first.json()["event_id"] == second.json()["event_id"]
    assert len(receiver.stored()) == 1


def test_concurrent_replays_and_distinct_events(receiver: RunningReceiver) -> None:
    distinct = [signed_payload() for _ in range(40)]
    work = [LIVE_SYNC_END] * 20 + distinct
    statuses: list[int] = []
    lock = threading.Lock()

    def send(bodies: list[bytes]) -> None:
        for body in bodies:
            status = receiver.post(body).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=send, args=(work[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(work)
    rows = receiver.stored()
    assert len(rows) == 41
    assert [row["seq"] for row in rows] == sorted(row["seq"] for row in rows)
    expected = {event_id_for(body) for body in [LIVE_SYNC_END, *distinct]}
    assert {row["event_id"] for row in rows} == expected


# --- storage happens before the answer -------------------------------------------------


def test_no_answer_until_the_event_is_committed(
    start_receiver: Callable[..., RunningReceiver], inbox_path: Path
) -> None:
    gated = GatedInbox(Inbox(inbox_path))
    receiver = start_receiver(inbox=gated)
    body = signed_payload()
    head = _head(receiver, f"Content-Length: {len(body)}\r\n")
    signature = compute_signature(SECRET, body)
    head = head.replace(b"\r\n\r\n", f"\r\nX-Fivetran-Signature-256: {signature}\r\n\r\n".encode())
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(head + body)
        assert gated.entered.wait(5)
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # nothing is sent while the insert is pending
        gated.release.set()
        sock.settimeout(5)
        response = read_response(sock)
    assert response.status == 200
    assert len(receiver.stored()) == 1


def test_storage_failure_is_503_so_fivetran_retries(
    receiver: RunningReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.inbox.close()  # every statement now fails
    with caplog.at_level(logging.ERROR):
        response = receiver.post(signed_payload())
    assert response.status == 503
    assert any("could not store" in r.getMessage() for r in caplog.records)
    assert receiver.request("GET", "/healthz").status == 503


# --- health, logging -------------------------------------------------------------------


def test_healthz_counts_events(receiver: RunningReceiver) -> None:
    health = receiver.request("GET", "/healthz").json()
    assert (health["status"], health["events"]) == ("ok", 0)
    receiver.post(signed_payload())
    receiver.post(signed_payload())
    response = receiver.request("GET", "/healthz")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    health = response.json()
    assert (health["status"], health["events"]) == ("ok", 2)
    assert health["signatures_verified"] is True
    inbox = health["inbox"]
    assert inbox["id"] == receiver.inbox.inbox_id
    assert (inbox["writable"], inbox["problem"], inbox["last_write_error"]) == (True, None, None)
    assert inbox["last_write_at"].endswith("Z")
    assert receiver.request("GET", "/nope").status == 404


def _fill_the_disk(inbox: Inbox) -> None:
    """The database may grow no further: SQLITE_FULL, as on a full disk (see test_webhook_store)."""
    pages = inbox._conn.execute("PRAGMA page_count").fetchone()[0]
    inbox._conn.execute(f"PRAGMA max_page_count = {pages}")


def test_full_disk_is_503_reported_by_healthz_and_logged_once(
    receiver: RunningReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.post(signed_payload())
    _fill_the_disk(receiver.inbox)
    with caplog.at_level(logging.DEBUG):
        statuses = {receiver.post(signed_payload(padding="x" * 20_000)).status for _ in range(40)}
        health = receiver.request("GET", "/healthz")
    assert statuses == {503}
    assert health.status == 503  # a monitor sees the problem, not "ok"
    body = health.json()
    assert body["status"] == "error"
    assert body["events"] == 1
    assert body["inbox"]["writable"] is False
    assert body["inbox"]["last_write_error"]["kind"] == "disk_full"
    assert body["inbox"]["last_write_error"]["failures"] == 40
    assert "is full" in body["inbox"]["problem"]
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in problems] == [
        f"could not store deliveries: the disk holding {receiver.inbox_path} is full "
        "(database or disk is full)"
    ]
    assert all(r.exc_info is None for r in caplog.records)

    receiver.inbox._conn.execute("PRAGMA max_page_count = 1000000")  # space freed
    assert receiver.post(signed_payload()).status == 200
    healthy = receiver.request("GET", "/healthz")
    assert healthy.status == 200
    assert healthy.json()["inbox"]["last_write_error"] is None


def test_read_only_inbox_is_named_in_healthz(receiver: RunningReceiver) -> None:
    receiver.inbox._conn.execute("PRAGMA query_only = ON")  # SQLite's SQLITE_READONLY
    assert receiver.post(signed_payload()).status == 503
    body = receiver.request("GET", "/healthz").json()
    assert body["inbox"]["last_write_error"]["kind"] == "read_only"
    assert body["inbox"]["problem"].startswith(f"cannot write to {receiver.inbox_path}")
    assert "not a webhook inbox" not in json.dumps(body)


def test_repeated_rejections_are_logged_once_a_minute(
    receiver: RunningReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(25):
            assert receiver.post(signed_payload(), sign="0" * 64).status == 401
        assert receiver.post(b"not json").status == 400
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert lines == [
        "rejected POST /webhook from 127.0.0.1: 401 invalid X-Fivetran-Signature-256",
        "rejected POST /webhook from 127.0.0.1: 400 body is not valid JSON",
    ]


def test_secret_and_signatures_never_logged(
    start_receiver: Callable[..., RunningReceiver], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        receiver = start_receiver()
        receiver.post(LIVE_SYNC_END)
        receiver.post(LIVE_SYNC_END, sign="ab" * 32)
        receiver.request("GET", "/healthz")
    text = caplog.text + repr(receiver.server.config)
    assert SECRET.decode() not in text
    assert compute_signature(SECRET, LIVE_SYNC_END).lower() not in text.lower()
    assert "ab" * 32 not in text


# --- graceful shutdown (in process; the subprocess variant is in test_webhook_cli) ------


def test_shutdown_stops_accepting_and_finishes_requests_in_flight(
    receiver: RunningReceiver,
) -> None:
    body = signed_payload()
    signature = compute_signature(SECRET, body)
    extra = f"Content-Length: {len(body)}\r\nX-Fivetran-Signature-256: {signature}\r\n"
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as sock:
        sock.sendall(_head(receiver, extra) + body[:10])
        time.sleep(0.2)  # the handler is now waiting for the rest of the body
        receiver.stop.set()
        wait_refused(receiver.port)
        assert receiver.thread.is_alive()  # still waiting for our request
        sock.sendall(body[10:])
        response = read_response(sock)
    assert response.status == 200
    receiver.thread.join(5)
    assert not receiver.thread.is_alive()
    assert [row["event_id"] for row in receiver.stored()] == [event_id_for(body)]


def test_store_schema_and_pragmas(receiver: RunningReceiver) -> None:
    receiver.post(LIVE_SYNC_END)
    with sqlite3.connect(receiver.inbox_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [row[1] for row in conn.execute("PRAGMA table_info(webhook_events)")]
    assert columns[:4] == ["seq", "event_id", "received_at", "raw_body"]
    assert json.loads(receiver.stored()[0]["raw_body"])["event"] == "sync_end"
