"""A burst larger than the receiver's slots, group commit, and a cheap /healthz (issue 22 item 13).

Every sender of a burst gets an answer: those the receiver takes on are stored and
answered 200, the rest are refused at once with 503 and ``Retry-After`` (Fivetran
retries them), none is left without an answer. ``/healthz`` runs no query and never
waits for a commit, so a flood of it cannot slow deliveries down.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING, Any

from webhook_helpers import SECRET, GatedInbox, read_response, signed_payload

from tap_fivetran_meta.webhooks.events import event_id_for, parse_event
from tap_fivetran_meta.webhooks.receiver import ConnectionLimiter
from tap_fivetran_meta.webhooks.shedding import BUSY_RESPONSE, Shedder
from tap_fivetran_meta.webhooks.signature import compute_signature
from tap_fivetran_meta.webhooks.store import Inbox, InboxWriteError, StoreResult

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from webhook_helpers import Response, RunningReceiver

RECEIVED = "2026-05-22T00:06:09.000000Z"
SLOTS = 4
BURST = 60


def _request(port: int, body: bytes) -> bytes:
    return (
        f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
        f"X-Fivetran-Signature-256: {compute_signature(SECRET, body)}\r\n\r\n"
    ).encode() + body


def test_a_burst_beyond_the_slots_is_answered_stored_or_503_never_silence(
    start_receiver: Callable[..., RunningReceiver], inbox_path: Path
) -> None:
    gated = GatedInbox(Inbox(inbox_path))
    receiver = start_receiver(inbox=gated, max_connections=SLOTS)
    bodies = [signed_payload() for _ in range(BURST)]
    answers: dict[str, Response] = {}
    lock = threading.Lock()

    def deliver(body: bytes) -> None:
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as sock:
            sock.sendall(_request(receiver.port, body))
            response = read_response(sock)
        with lock:
            answers[event_id_for(body)] = response

    senders = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for sender in senders:
        sender.start()
    try:
        assert gated.entered.wait(5)
        # While the taken-on deliveries wait to be stored, the others are answered.
        for _ in range(200):  # bounded: at most ~8 s
            with lock:
                if len(answers) >= BURST - SLOTS:
                    break
            threading.Event().wait(0.04)
        refused_before_release = {k: r for k, r in answers.items() if r.status == 503}
        assert len(refused_before_release) >= BURST - SLOTS
    finally:
        gated.release.set()
        for sender in senders:
            sender.join(10)
    assert len(answers) == BURST  # every sender got an answer
    statuses = sorted({response.status for response in answers.values()})
    assert statuses == [200, 503]
    for response in answers.values():
        if response.status == 503:
            assert response.headers["Retry-After"] == "1"
            assert response.json() == {"error": "busy"}
    acked = {event_id for event_id, r in answers.items() if r.status == 200}
    assert 1 <= len(acked) <= SLOTS
    assert {row["event_id"] for row in receiver.stored()} == acked


class _HeldCommit(Inbox):
    """The first transaction waits inside the write lock until the test lets it go."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inside = threading.Event()
        self.go_on = threading.Event()
        self.batches: list[int] = []

    def _insert(self, batch: list[Any]) -> InboxWriteError | None:
        self.batches.append(len(batch))
        if len(self.batches) == 1:
            self.inside.set()
            assert self.go_on.wait(10)
        return super()._insert(batch)


def test_deliveries_arriving_during_a_commit_share_the_next_one(inbox_path: Path) -> None:
    waiting = 20
    results: list[StoreResult] = []
    with _HeldCommit(inbox_path) as inbox:

        def add() -> None:
            event = parse_event(signed_payload())
            results.append(inbox.add(event, received_at=RECEIVED, signature_verified=True))

        first = threading.Thread(target=add)
        first.start()
        assert inbox.inside.wait(5)
        others = [threading.Thread(target=add) for _ in range(waiting)]
        for thread in others:
            thread.start()
        for _ in range(500):  # until every one is queued (bounded)
            with inbox._queue_lock:
                if len(inbox._queue) == waiting:
                    break
            threading.Event().wait(0.01)
        assert len(inbox._queue) == waiting
        assert results == []  # nobody returned before its commit
        inbox.go_on.set()
        for thread in [first, *others]:
            thread.join(10)
        assert inbox.batches == [1, waiting]  # two transactions, two fsyncs
        assert sorted(result.seq for result in results) == list(range(1, waiting + 2))  # type: ignore[type-var]
        assert inbox.health().events == waiting + 1


def test_healthz_runs_no_query_and_does_not_wait_for_a_commit(inbox_path: Path) -> None:
    statements: list[str] = []
    with _HeldCommit(inbox_path) as inbox:
        for _ in range(3):
            inbox.go_on.set()
            inbox.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
        assert inbox._conn is not None
        inbox._conn.set_trace_callback(statements.append)
        for _ in range(50):
            assert inbox.health().events == 3
        assert statements == []  # no count(*), nothing at all: cheap at 1M events
        inbox.batches.clear()
        inbox.go_on.clear()
        writer = threading.Thread(
            target=inbox.add,
            args=(parse_event(signed_payload()),),
            kwargs={"received_at": RECEIVED, "signature_verified": True},
        )
        writer.start()
        assert inbox.inside.wait(5)  # a commit holds the write lock...
        assert inbox.health().ok is True  # ...and health answers anyway
        inbox.go_on.set()
        writer.join(10)
        assert inbox.health().events == 4


def test_the_acceptor_waits_for_stores_to_finish_but_not_for_a_stalled_inbox() -> None:
    limiter = ConnectionLimiter(1)
    pairs = [socket.socketpair() for _ in range(4)]
    first, second, third, fourth = (pair[0] for pair in pairs)
    try:
        assert limiter.admit(first, wait_s=0.25, storing_wait_s=30)
        assert limiter.start_processing(first)  # its request is being stored
        threading.Timer(0.05, limiter.release, args=(first,)).start()
        # A store finishing frees the slot: the new connection is taken on, not refused.
        assert limiter.admit(second, wait_s=0.25, storing_wait_s=30)
        assert limiter.start_processing(second)
        # The store does not finish in time: refused...
        assert not limiter.admit(third, wait_s=0.25, storing_wait_s=0.01)
        # ...and from then on refused at once, without waiting, until a slot frees up.
        release = threading.Timer(2.0, limiter.release, args=(second,))
        release.start()
        assert not limiter.admit(fourth, wait_s=0.25, storing_wait_s=30)
        release.join()
        assert limiter.admit(fourth, wait_s=0.25, storing_wait_s=30)
    finally:
        for pair in pairs:
            for sock in pair:
                sock.close()


def test_a_refused_connection_gets_its_503_then_is_drained_and_closed() -> None:
    shedder = Shedder()
    ours, sender = socket.socketpair()
    try:
        sender.sendall(b"POST /webhook HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + b"x" * 50_000)
        shedder.shed(ours)
        sender.settimeout(5)
        answer = b""
        while chunk := sender.recv(65536):
            answer += chunk
        assert answer == BUSY_RESPONSE  # whole, not cut off by a reset
        sender.sendall(b"y" * 50_000)  # still sending: drained, not reset
        sender.shutdown(socket.SHUT_WR)
        for _ in range(500):  # bounded: the shedder lets go once the sender is done
            if not shedder._draining and not shedder._incoming:
                break
            threading.Event().wait(0.01)
        assert not shedder._draining
        assert shedder.refused == 1
    finally:
        shedder.close()
        sender.close()
