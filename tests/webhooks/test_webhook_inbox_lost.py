"""The inbox file deleted or replaced under a running receiver (issue 22 item 7).

The receiver never answers 200 for a delivery that is not in the file the tap reads
at the inbox path: it opens the file at the path again (creating it when it was
deleted) before storing, refuses (503) what it committed into a file that was lost
meanwhile, and ``/healthz`` is unhealthy while the path cannot be opened.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
from webhook_helpers import fill_inbox, signed_payload

from tap_fivetran_meta.webhooks.events import event_id_for, parse_event
from tap_fivetran_meta.webhooks.store import Inbox, InboxWriteError, StoreResult, iter_events

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from webhook_helpers import RunningReceiver

RECEIVED = "2026-05-22T00:06:09.000000Z"


def _ids(path: Path) -> list[str]:
    return [row["event_id"] for row in iter_events(path)]


def _remove(path: Path, *, with_logs: bool) -> None:
    path.unlink()
    if with_logs:
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


@pytest.mark.parametrize("with_logs", [True, False], ids=["rm-inbox*", "rm-inbox-only"])
def test_a_deleted_inbox_is_created_again_and_the_delivery_stored_there(
    receiver: RunningReceiver, caplog: pytest.LogCaptureFixture, with_logs: bool
) -> None:
    before = signed_payload()
    assert receiver.post(before).status == 200
    old_id = receiver.inbox.inbox_id
    _remove(receiver.inbox_path, with_logs=with_logs)

    after = signed_payload()
    with caplog.at_level(logging.INFO):
        response = receiver.post(after)
    assert response.status == 200
    # The tap reads the path: the acknowledged delivery is there, and only it (the
    # stale -wal of the deleted file was not applied to the new one).
    assert _ids(receiver.inbox_path) == [event_id_for(after)]
    health = receiver.request("GET", "/healthz")
    assert health.status == 200
    body = health.json()
    assert body["events"] == 1
    assert body["inbox"]["id"] != old_id
    assert body["inbox"]["reopened"]["reason"] == "was deleted"
    assert body["inbox"]["reopened"]["previous_id"] == old_id
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(f"the inbox {receiver.inbox_path} was deleted while" in line for line in lines)


def test_healthz_notices_a_deleted_inbox_before_any_delivery(receiver: RunningReceiver) -> None:
    old_id = receiver.inbox.inbox_id
    _remove(receiver.inbox_path, with_logs=True)
    body = receiver.request("GET", "/healthz").json()
    assert body["inbox"]["id"] != old_id
    assert receiver.inbox_path.exists()  # a new, empty inbox the tap can read
    assert _ids(receiver.inbox_path) == []


def test_an_inbox_replaced_by_another_inbox_receives_the_next_deliveries(
    receiver: RunningReceiver, tmp_path: Path
) -> None:
    assert receiver.post(signed_payload()).status == 200
    other = tmp_path / "restored.sqlite"
    kept = signed_payload()
    fill_inbox(other, [kept])
    os.replace(other, receiver.inbox_path)

    after = signed_payload()
    assert receiver.post(after).status == 200
    assert _ids(receiver.inbox_path) == [event_id_for(kept), event_id_for(after)]
    body = receiver.request("GET", "/healthz").json()
    assert body["inbox"]["reopened"]["reason"] == "was replaced by another file"
    assert body["events"] == 2


def test_a_path_that_cannot_be_opened_again_is_503_and_unhealthy_until_fixed(
    start_receiver: Callable[..., RunningReceiver], inbox_path: Path
) -> None:
    receiver = start_receiver(inbox=Inbox(inbox_path, probe_interval_s=0.0))
    inbox_path.unlink()
    inbox_path.write_bytes(b"not a database, just some bytes" * 200)

    response = receiver.post(signed_payload())
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    health = receiver.request("GET", "/healthz")
    assert health.status == 503
    problem = health.json()["inbox"]["problem"]
    assert problem.startswith(f"the inbox {inbox_path} was replaced by another file")
    assert "cannot be opened again" in problem
    assert "not an SQLite database" in problem

    inbox_path.unlink()  # the operator removes the wrong file
    delivery = signed_payload()
    assert receiver.post(delivery).status == 200
    assert _ids(inbox_path) == [event_id_for(delivery)]
    assert receiver.request("GET", "/healthz").status == 200


def test_a_missing_directory_is_503_and_named(
    start_receiver: Callable[..., RunningReceiver], tmp_path: Path
) -> None:
    directory = tmp_path / "spool"
    directory.mkdir()
    path = directory / "inbox.sqlite"
    receiver = start_receiver(inbox=Inbox(path, probe_interval_s=0.0))
    shutil.rmtree(directory)
    assert receiver.post(signed_payload()).status == 503
    problem = receiver.request("GET", "/healthz").json()["inbox"]["problem"]
    assert f"the directory {directory} does not exist" in problem


class _LosesItsFileWhileCommitting(Inbox):
    """The file is deleted after the check before the transaction, before the answer."""

    lose_next = True

    def _insert(self, batch: list[Any]) -> InboxWriteError | None:
        if self.lose_next:
            self.lose_next = False
            self.path.unlink()
        return super()._insert(batch)


def test_a_delivery_committed_into_a_file_lost_meanwhile_is_refused_then_stored_on_retry(
    inbox_path: Path,
) -> None:
    event = parse_event(signed_payload())
    with _LosesItsFileWhileCommitting(inbox_path) as inbox:
        with pytest.raises(InboxWriteError) as refused:
            inbox.add(event, received_at=RECEIVED, signature_verified=True)
        assert refused.value.kind == "replaced"
        assert "they were refused and will be retried" in str(refused.value)
        assert inbox.health().ok is False
        # Fivetran's retry goes into the file now at the path.
        retried = inbox.add(event, received_at=RECEIVED, signature_verified=True)
        assert retried == StoreResult(seq=1, duplicate=False)
        assert inbox.health().ok is True
    assert _ids(inbox_path) == [event.event_id]


def test_reopening_keeps_a_lost_files_rows_out_of_the_new_file(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        for _ in range(3):
            inbox.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
        inbox_path.unlink()  # -wal and -shm stay behind
        inbox.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
    with sqlite3.connect(inbox_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 1


def test_readers_and_checkpoints_are_not_mistaken_for_a_lost_file(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        inbox.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
        assert len(_ids(inbox_path)) == 1  # the tap reads (read-only) and closes
        with sqlite3.connect(inbox_path) as other:  # a manual cleanup checkpoints
            other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        other.close()
        inbox.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
        health = inbox.health()
        assert health.reopened is None
        assert health.ok is True
    assert len(_ids(inbox_path)) == 2


def test_a_deleted_write_ahead_log_is_noticed(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        old_id = inbox.inbox_id
        inbox.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
        inbox_path.with_name(inbox_path.name + "-wal").unlink()
        later = parse_event(signed_payload())
        assert inbox.add(later, received_at=RECEIVED, signature_verified=True).duplicate is False
        health = inbox.health()
        assert health.reopened is not None
        assert health.reopened.reason.startswith("lost its write-ahead log")
        assert health.inbox_id == old_id  # the same database file, opened again
    assert later.event_id in _ids(inbox_path)
