"""The SQLite inbox: pragmas, dedupe, ordering, read-only reads, identity, errors, health."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import LIVE_SYNC_END, fill_inbox, run_unprivileged, signed_payload

from tap_fivetran_meta.webhooks.events import parse_event
from tap_fivetran_meta.webhooks.store import (
    SCHEMA_VERSION,
    Inbox,
    InboxError,
    InboxWriteError,
    iter_events,
    open_readonly,
    open_snapshot,
)

if TYPE_CHECKING:
    from pathlib import Path

RECEIVED = "2026-05-22T00:06:09.000000Z"


def test_pragmas(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        conn = inbox._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_add_dedupes_and_numbers(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        first = inbox.add(parse_event(LIVE_SYNC_END), received_at=RECEIVED, signature_verified=True)
        again = inbox.add(parse_event(LIVE_SYNC_END), received_at=RECEIVED, signature_verified=True)
        other = inbox.add(
            parse_event(signed_payload()), received_at=RECEIVED, signature_verified=False
        )
        assert (first.seq, first.duplicate) == (1, False)
        assert (again.seq, again.duplicate) == (None, True)
        assert other.duplicate is False
        assert other.seq is not None
        assert other.seq > 1  # seq increases; a refused duplicate may leave a gap
        assert inbox.count() == 2


def test_seq_never_reused_after_delete(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload(), signed_payload()])
    with sqlite3.connect(inbox_path) as conn:
        conn.execute("DELETE FROM webhook_events")
    fill_inbox(inbox_path, [signed_payload()])
    assert [row["seq"] for row in iter_events(inbox_path)] == [3]


def test_constraint_violations_are_not_mistaken_for_duplicates(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox, pytest.raises(sqlite3.IntegrityError):
        inbox.add(parse_event(LIVE_SYNC_END), received_at=None, signature_verified=True)  # type: ignore[arg-type]


def test_iter_events_after_seq_in_order(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload() for _ in range(5)])
    assert [row["seq"] for row in iter_events(inbox_path)] == [1, 2, 3, 4, 5]
    assert [row["seq"] for row in iter_events(inbox_path, after_seq=3)] == [4, 5]
    assert list(iter_events(inbox_path, after_seq=5)) == []


def test_reader_is_read_only_and_works_beside_a_writer(inbox_path: Path) -> None:
    with Inbox(inbox_path) as writer:
        writer.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
        rows = iter_events(inbox_path)
        assert next(rows)["seq"] == 1
        # The writer is not blocked by the open read transaction...
        writer.add(parse_event(signed_payload()), received_at=RECEIVED, signature_verified=True)
        # ...and the reader keeps its snapshot.
        assert list(rows) == []
    assert [row["seq"] for row in iter_events(inbox_path)] == [1, 2]


def test_reader_cannot_write(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload()])
    conn = open_readonly(inbox_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM webhook_events")
    finally:
        conn.close()


def test_path_with_uri_characters(tmp_path: Path) -> None:
    path = tmp_path / "odd dir?#%" / "in box.sqlite"
    path.parent.mkdir()
    fill_inbox(path, [signed_payload()])
    assert len(list(iter_events(path))) == 1


def test_not_an_inbox(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"definitely not sqlite" * 100)
    for attempt in (lambda: Inbox(junk), lambda: list(iter_events(junk))):
        with pytest.raises(InboxError, match="is not an SQLite database, so not a webhook inbox"):
            attempt()
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(InboxError, match="an SQLite database but not a webhook inbox") as caught:
        list(iter_events(other))
    assert caught.value.kind == "not_an_inbox"


def test_foreign_table_is_refused(inbox_path: Path) -> None:
    with sqlite3.connect(inbox_path) as conn:
        conn.execute("CREATE TABLE webhook_events (seq INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(InboxError, match="without event_id, received_at"):
        Inbox(inbox_path)


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    for attempt in (
        lambda: Inbox(missing / "inbox.sqlite"),
        lambda: list(iter_events(missing / "inbox.sqlite")),
    ):
        with pytest.raises(InboxError) as caught:
            attempt()
        assert str(caught.value) == f"the directory {missing} does not exist (create it first)"
    assert not missing.exists()


def test_a_directory_is_reported_as_a_directory(tmp_path: Path) -> None:
    # SQLite says "unable to open database file" (writer) or "disk I/O error" (reader).
    expected = (
        f"{tmp_path} is a directory, not an inbox file "
        f"(give the file's path, e.g. {tmp_path / 'webhooks.sqlite'})"
    )
    for attempt in (lambda: Inbox(tmp_path), lambda: list(iter_events(tmp_path))):
        with pytest.raises(InboxError) as caught:
            attempt()
        assert str(caught.value) == expected
        assert caught.value.kind == "directory"


def test_a_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "inbox.sqlite"
    os.mkfifo(fifo)
    with pytest.raises(InboxError, match="is not a regular file"):
        Inbox(fifo)  # without the check, SQLite would block opening it


def test_reader_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InboxError, match="does not exist") as caught:
        list(iter_events(tmp_path / "nope.sqlite"))
    assert caught.value.kind == "missing"
    assert not (tmp_path / "nope.sqlite").exists()


# --- permissions: as an ordinary user (root ignores file modes) ---------------------------

_PROBE = """
import sys
from tap_fivetran_meta.webhooks.store import Inbox, InboxError, iter_events
path = sys.argv[2]
try:
    if sys.argv[1] == "write":
        Inbox(path).close()
    else:
        list(iter_events(path))
except InboxError as exc:
    print(f"{exc.kind}|{exc}")
else:
    print("ok|")
"""


def _as_user(mode: str, path: Path) -> tuple[str, str]:
    result = run_unprivileged([sys.executable, "-c", _PROBE, mode, str(path)], cwd=path.parent)
    assert result.returncode == 0, result.stderr
    kind, _, message = result.stdout.strip().partition("|")
    return kind, message


def test_read_only_directory_is_not_called_a_bad_inbox(shared_dir: Path) -> None:
    inbox = shared_dir / "inbox.sqlite"
    fill_inbox(inbox, [signed_payload()])  # owned by us; the directory is 0755
    os.chmod(inbox, 0o644)
    kind, message = _as_user("write", inbox)
    assert kind == "read_only"
    assert message == (
        f"cannot write to {inbox}: its directory {shared_dir} is not writable by this user "
        "(SQLite creates inbox.sqlite-wal and inbox.sqlite-shm next to the inbox)"
    )
    kind, message = _as_user("read", inbox)
    assert kind == "read_only"
    assert message.startswith(f"cannot read {inbox}: its directory {shared_dir} is not writable")
    assert "not a webhook inbox" not in message


def test_read_only_file_and_unreadable_file(shared_dir: Path) -> None:
    inbox = shared_dir / "inbox.sqlite"
    fill_inbox(inbox, [signed_payload()])
    os.chmod(shared_dir, 0o777)  # noqa: S103  (the directory is not the problem here)
    os.chmod(inbox, 0o444)
    kind, message = _as_user("write", inbox)
    assert (kind, message) == (
        "read_only",
        f"cannot write to {inbox}: the file is read-only for this user (check its owner and mode)",
    )
    assert _as_user("read", inbox) == ("ok", "")  # reading a read-only file is fine
    for leftover in shared_dir.glob("inbox.sqlite-*"):
        leftover.unlink()
    os.chmod(inbox, 0o600)
    kind, message = _as_user("read", inbox)
    assert (kind, message) == (
        "permission",
        f"cannot read {inbox}: permission denied for this user (check its owner and mode)",
    )


# --- identity -----------------------------------------------------------------------------


def test_inbox_id_is_created_once_and_kept(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        first = inbox.inbox_id
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    with Inbox(inbox_path) as inbox:
        assert inbox.inbox_id == first
    with open_snapshot(inbox_path) as snapshot:
        assert snapshot.identity.inbox_id == first


def test_a_recreated_inbox_has_another_id(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload(), signed_payload()])
    with open_snapshot(inbox_path) as snapshot:
        old = snapshot.identity
    for path in inbox_path.parent.glob(inbox_path.name + "*"):
        path.unlink()
    fill_inbox(inbox_path, [signed_payload()])
    with open_snapshot(inbox_path) as snapshot:
        new = snapshot.identity
    assert (old.last_seq, new.last_seq) == (2, 1)
    assert new.inbox_id != old.inbox_id


def test_last_seq_survives_deletes(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload() for _ in range(3)])
    with sqlite3.connect(inbox_path) as conn:
        conn.execute("DELETE FROM webhook_events")
    with open_snapshot(inbox_path) as snapshot:
        assert snapshot.identity.last_seq == 3
        assert list(snapshot.events()) == []


def test_schema_1_inbox_gets_an_id_when_the_receiver_opens_it(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload(), signed_payload()])
    with sqlite3.connect(inbox_path) as conn:  # make it look like a schema-1 inbox
        conn.execute("DROP TABLE inbox_meta")
        conn.execute("PRAGMA user_version = 1")
    with open_snapshot(inbox_path) as snapshot:
        assert snapshot.identity.inbox_id is None  # a reader never adds one
        assert snapshot.identity.last_seq == 2
    with Inbox(inbox_path) as inbox:
        assert re.fullmatch(r"[0-9a-f]{32}", inbox.inbox_id)
        assert inbox.count() == 2
    with sqlite3.connect(inbox_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


# --- health -------------------------------------------------------------------------------


def _fill_the_disk(inbox: Inbox) -> None:
    """Let the database grow no further: the next insert fails with SQLITE_FULL.

    SQLite reports a full disk (ENOSPC) and a reached page limit with the same error
    code, so this exercises the receiver's full-disk handling without a full disk.
    """
    pages = inbox._conn.execute("PRAGMA page_count").fetchone()[0]
    inbox._conn.execute(f"PRAGMA max_page_count = {pages}")


def _big_event() -> bytes:
    return signed_payload(padding="x" * 20_000)  # needs new pages


def test_health_of_a_fresh_inbox(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        health = inbox.health().as_dict()
        assert health["status"] == "ok"
        assert health["events"] == 0
        assert health["inbox"]["id"] == inbox.inbox_id
        assert health["inbox"]["writable"] is True
        assert health["inbox"]["problem"] is None
        assert health["inbox"]["last_write_error"] is None
        assert health["inbox"]["disk_free_bytes"] > 0
        inbox.add(parse_event(LIVE_SYNC_END), received_at=RECEIVED, signature_verified=True)
        assert inbox.health().as_dict()["inbox"]["last_write_at"].endswith("Z")


def test_a_full_disk_is_remembered_until_a_write_succeeds(
    inbox_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Inbox(inbox_path) as inbox:
        _fill_the_disk(inbox)
        with caplog.at_level(logging.INFO):
            for _ in range(30):
                with pytest.raises(InboxWriteError) as caught:
                    inbox.add(
                        parse_event(_big_event()), received_at=RECEIVED, signature_verified=True
                    )
                assert caught.value.kind == "disk_full"
            health = inbox.health().as_dict()
            inbox._conn.execute("PRAGMA max_page_count = 1000000")  # space freed
            inbox.add(parse_event(_big_event()), received_at=RECEIVED, signature_verified=True)
            recovered = inbox.health().as_dict()
    assert health["status"] == "error"
    assert health["inbox"]["writable"] is False
    assert (
        health["inbox"]["problem"]
        == f"the disk holding {inbox_path} is full (database or disk is full)"
    )
    assert health["inbox"]["last_write_error"]["kind"] == "disk_full"
    assert health["inbox"]["last_write_error"]["failures"] == 30
    assert recovered["status"] == "ok"
    assert recovered["inbox"]["last_write_error"] is None
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"could not store deliveries: the disk holding {inbox_path} is full (database or disk is full)"
    ]
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks
    assert any(
        "accepts writes again (30 write(s) had failed" in r.getMessage() for r in caplog.records
    )


def test_health_probe_notices_the_end_of_a_failure(inbox_path: Path) -> None:
    with Inbox(inbox_path, probe_interval_s=0.05) as inbox:
        _fill_the_disk(inbox)
        with pytest.raises(InboxWriteError):
            inbox.add(parse_event(_big_event()), received_at=RECEIVED, signature_verified=True)
        time.sleep(0.1)
        assert inbox.health().ok is False  # the probe (a 4 KB write) fails too
        inbox._conn.execute("PRAGMA max_page_count = 1000000")
        time.sleep(0.1)
        assert inbox.health().ok is True  # no delivery needed to notice
        assert inbox.count() == 0


def test_a_file_that_turns_read_only_is_reported_as_such(inbox_path: Path) -> None:
    with Inbox(inbox_path) as inbox:
        inbox._conn.execute("PRAGMA query_only = ON")  # SQLite's own SQLITE_READONLY
        with pytest.raises(InboxWriteError) as caught:
            inbox.add(parse_event(LIVE_SYNC_END), received_at=RECEIVED, signature_verified=True)
        health = inbox.health().as_dict()
    assert caught.value.kind == "read_only"
    assert str(caught.value).startswith(f"cannot write to {inbox_path}: it has become read-only")
    assert health["inbox"]["last_write_error"]["kind"] == "read_only"
    assert health["status"] == "error"


def test_newer_schema_is_refused(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [])
    with sqlite3.connect(inbox_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(InboxError, match="schema"):
        Inbox(inbox_path)


def test_threads_share_one_inbox(inbox_path: Path) -> None:
    bodies = [signed_payload() for _ in range(200)]
    with Inbox(inbox_path) as inbox:

        def add(share: list[bytes]) -> None:
            for body in share:
                inbox.add(parse_event(body), received_at=RECEIVED, signature_verified=True)

        threads = [threading.Thread(target=add, args=(bodies[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert inbox.count() == 200
    assert [row["seq"] for row in iter_events(inbox_path)] == list(range(1, 201))
