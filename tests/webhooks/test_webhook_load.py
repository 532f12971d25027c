"""Load and crash tests against a receiver subprocess on loopback."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import pytest
from webhook_helpers import SECRET

from benchmarks.webhook_load import kill_rounds, make_bodies, run_load, start_receiver
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
        print(f"\nwebhook load: {summary}, {took:.1f} s in all")
    assert result.rejected == []
    assert result.errors == []
    assert len(result.acked) == 2000
    assert (health["status"], health["events"]) == ("ok", 2000)
    ids = _stored_ids(inbox)
    assert len(ids) == 2000
    assert set(ids) == set(result.acked)
    # Catches a hang, not slowness: 2-10 s here, 21 s seen with both cores busy (speed is
    # benchmarks/webhook_load.py's to measure).
    assert took < 120


KILL_ROUNDS = int(os.environ.get("WEBHOOK_KILL_ROUNDS", "3"))


def test_kill_9_under_load_loses_no_acknowledged_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # benchmarks/webhook_load.py --kill-rounds 10 runs more rounds.
    inbox = tmp_path / "inbox.sqlite"
    rounds = kill_rounds(
        inbox, tmp_path / "receiver.log", rounds=KILL_ROUNDS, secret=SECRET.decode(), seed=14
    )
    with capsys.disabled():
        for number, result in enumerate(rounds, 1):
            print(f"\nkill -9 round {number}: {vars(result)}")
    assert len(rounds) == KILL_ROUNDS
    for result in rounds:
        assert result.acked >= result.kill_after  # killed only after that many acks
        assert result.in_doubt > 0  # ...and while deliveries were in flight
        assert result.lost == 0
        assert result.unexpected == 0
        assert result.duplicates == 0
        assert result.integrity == "ok"
    total_acked = sum(result.acked for result in rounds)
    assert rounds[-1].stored_after >= total_acked
