"""The SQLite inbox: pragmas, dedupe, ordering, read-only reads."""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import LIVE_SYNC_END, fill_inbox, signed_payload

from tap_fivetran_meta.webhooks.events import parse_event
from tap_fivetran_meta.webhooks.store import (
    SCHEMA_VERSION,
    Inbox,
    InboxError,
    iter_events,
    open_readonly,
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
    with pytest.raises(InboxError, match="cannot use .* as an inbox: file is not a database"):
        Inbox(junk)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(InboxError, match="not a webhook inbox"):
        list(iter_events(other))


def test_foreign_table_is_refused(inbox_path: Path) -> None:
    with sqlite3.connect(inbox_path) as conn:
        conn.execute("CREATE TABLE webhook_events (seq INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(InboxError, match="without event_id, received_at"):
        Inbox(inbox_path)


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InboxError, match="cannot open .*unable to open database file"):
        Inbox(tmp_path / "no" / "such" / "inbox.sqlite")


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
