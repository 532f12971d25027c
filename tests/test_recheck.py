"""The rules that let incremental runs leave unchanged connections out (recheck.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tap_fivetran_meta.rules import recheck

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)


def test_spread_is_fixed_per_id_and_covers_the_range() -> None:
    values = [recheck.spread(f"connection_{i}") for i in range(2000)]
    assert values[:3] == [recheck.spread(f"connection_{i}") for i in range(3)]
    assert all(0 <= v < 1 for v in values)
    assert min(values) < 0.05
    assert max(values) > 0.95


def test_a_refresh_is_due_between_half_and_all_of_the_period() -> None:
    key = "some_connection"
    due_after = DAY * (1 - recheck.spread(key) / 2)
    assert DAY / 2 < due_after <= DAY
    assert not recheck.refresh_due(NOW - due_after + timedelta(seconds=1), NOW, DAY, key)
    assert recheck.refresh_due(NOW - due_after, NOW, DAY, key)
    assert recheck.refresh_due(None, NOW, DAY, key)
    assert recheck.refresh_due(NOW, NOW, timedelta(0), key)


def test_hourly_runs_spread_the_rechecks_of_a_large_account() -> None:
    ids = [f"c{i}" for i in range(10_000)]
    due = [
        sum(recheck.refresh_due(NOW, NOW + timedelta(hours=h), DAY, c) for c in ids)
        for h in range(1, 25)
    ]
    newly_due = [b - a for a, b in zip([0, *due], due, strict=False)]
    assert due[10] == 0  # nothing before half the period
    assert due[-1] == len(ids)  # everything within the period
    assert max(newly_due) < len(ids) / 8  # about 1/12 of the account per hourly run


RAW = {
    "succeeded_at": "2026-11-20T10:00:00.5Z",
    "failed_at": None,
    "status": {"sync_state": "SCHEDULED", "rescheduled_for": None, "is_historical_sync": False},
}
PROCESSED = {
    **RAW,
    "succeeded_at": "2026-11-20T10:00:00.500000Z",
    "sync_state": "scheduled",
    "health": "healthy",
}


def test_the_sync_marker_is_the_same_for_the_raw_item_and_the_processed_record() -> None:
    assert recheck.sync_marker(RAW) == recheck.sync_marker(PROCESSED)
    assert len(recheck.sync_marker(RAW)) == recheck.MARKER_LENGTH


@pytest.mark.parametrize(
    "change",
    [
        {"succeeded_at": "2026-11-20T11:00:00Z"},
        {"failed_at": "2026-11-20T11:00:00Z"},
        {"status": {**RAW["status"], "sync_state": "syncing"}},
        {"status": {**RAW["status"], "rescheduled_for": "2026-11-20T13:00:00Z"}},
        {"status": {**RAW["status"], "is_historical_sync": True}},
    ],
)
def test_the_sync_marker_moves_when_a_sync_starts_ends_or_is_rescheduled(change: dict) -> None:
    assert recheck.sync_marker({**RAW, **change}) != recheck.sync_marker(RAW)


def test_the_sync_marker_ignores_what_moves_without_a_sync() -> None:
    assert recheck.sync_marker({**RAW, "paused": True, "health": "stale"}) == recheck.sync_marker(
        RAW
    )


def reason(**overrides: object) -> str | None:
    marker = recheck.sync_marker(RAW)
    values: dict = {
        "has_bookmark": True,
        "read_at": NOW - timedelta(hours=1),
        "stored_marker": marker,
        "was_running": False,
        "marker": marker,
        "syncing": False,
        "now": NOW,
        "recheck": DAY,
        "key": "c1",
    }
    values.update(overrides)
    return recheck.history_read_reason(**values)


def test_history_is_left_out_only_when_nothing_can_be_new() -> None:
    assert reason() is None
    assert reason(has_bookmark=False) == recheck.NEW
    assert reason(read_at=None) == recheck.NOT_READ_COMPLETELY
    assert reason(stored_marker=None) == recheck.NOT_READ_COMPLETELY
    assert reason(marker="other") == recheck.SYNC_MARKER_MOVED
    assert reason(syncing=True) == recheck.SYNCING
    assert reason(was_running=True) == recheck.WAS_RUNNING
    assert reason(read_at=NOW - DAY) == recheck.RECHECK_DUE
    assert reason(recheck=timedelta(0)) == recheck.RECHECK_DUE


def test_a_run_in_the_same_second_as_the_last_does_not_read_every_config_again() -> None:
    start = datetime(2026, 11, 20, 12, 0, 0, 100_000, tzinfo=timezone.utc)
    state: dict = {}
    first = recheck.SchemaRefresh(state, now=start, period=timedelta(hours=24))
    assert first.due("a")
    first.mark_read("a")
    assert first.due("a")  # stays due for the other schema streams of this run
    # The next run starts 0.4 s later: the same whole-second stamp.
    second = recheck.SchemaRefresh(
        state, now=start + timedelta(milliseconds=400), period=timedelta(hours=24)
    )
    assert not second.due("a")
    assert second.due("b")  # never read
