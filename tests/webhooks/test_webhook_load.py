"""Load and crash tests against a receiver subprocess on loopback."""

from __future__ import annotations

import signal
import sqlite3
import time
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import SECRET

from benchmarks.webhook_load import LoadRun, make_bodies, run_load, start_receiver
from tap_fivetran_meta.webhooks.store import iter_events

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def _stored_ids(inbox: Path) -> list[str]:
    return [row["event_id"] for row in iter_events(inbox)]


def test_load_2000_events_from_8_senders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox.sqlite"
    receiver = start_receiver(inbox, tmp_path / "receiver.log", secret=SECRET.decode())
    began = time.monotonic()
    try:
        result = run_load(receiver.url, make_bodies(2000), senders=8, secret=SECRET)
        health = receiver.health()
    finally:
        assert receiver.stop() == 0
    took = time.monotonic() - began
    summary = result.summary()
    with capsys.disabled():
        print(f"\nwebhook load: {summary}")
    assert result.rejected == []
    assert result.errors == []
    assert len(result.acked) == 2000
    assert health == {"status": "ok", "events": 2000}
    ids = _stored_ids(inbox)
    assert len(ids) == 2000
    assert set(ids) == set(result.acked)
    assert took < 20


def test_kill_9_mid_load_loses_no_acknowledged_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox.sqlite"
    log = tmp_path / "receiver.log"
    receiver = start_receiver(inbox, log, secret=SECRET.decode())
    run = LoadRun(receiver.url, make_bodies(20_000), senders=6, secret=SECRET, stop_on_error=True)
    run.start()
    deadline = time.monotonic() + 15
    while run.acked_count < 400 and time.monotonic() < deadline:
        time.sleep(0.005)
    receiver.process.send_signal(signal.SIGKILL)
    assert receiver.process.wait(10) == -signal.SIGKILL
    result = run.wait()
    assert len(result.acked) >= 400
    assert result.errors  # the kill really happened mid-load
    assert len(result.acked) < 20_000

    restarted = start_receiver(inbox, log, secret=SECRET.decode())
    try:
        health = restarted.health()
    finally:
        assert restarted.stop() == 0
    with sqlite3.connect(inbox) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = _stored_ids(inbox)
    in_doubt = {event_id for event_id, _ in result.errors}
    with capsys.disabled():
        print(
            f"\nkill -9 test: {len(result.acked)} acknowledged, {len(stored)} stored, "
            f"{len(in_doubt)} in doubt (no answer), "
            f"{len(set(stored) & in_doubt)} of those stored"
        )
    assert set(result.acked) <= set(stored)
    assert len(stored) == len(set(stored))
    assert set(stored) <= set(result.acked) | in_doubt
    assert health["events"] == len(stored)
