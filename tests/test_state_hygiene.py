"""State that cannot be trusted (issue 14, items 3, 9 and 14).

Future-dated bookmarks and syncs must not freeze a connection's history; bookmarks of
the wrong type are replaced with a warning, not silently; partitions of connections
not seen for ``state_prune_days`` are dropped before the first STATE; a ``start_date``
older than any history Fivetran holds is refused.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import requests_mock
from history_helpers import (
    NOW,
    Clock,
    FakeHistory,
    bookmarks,
    freeze_tap_clock,
    partitions,
    run_capture,
    sync,
    sync_history_state,
)
from hypothesis import given
from hypothesis import strategies as st
from singer_sdk.exceptions import ConfigValidationError

from tap_fivetran_meta.rules.config_checks import EARLIEST_START_DATE, start_date_too_old_error
from tap_fivetran_meta.rules.timeutil import parse_timestamp
from tap_fivetran_meta.rules.windows import ReadProgress, next_bookmark
from tap_fivetran_meta.runtime.partition_state import SEEN_KEY, prune
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures

C1, C2, C3 = (c["id"] for c in api_fixtures.CONNECTIONS)
CONFIG = {**api_fixtures.CONFIG, "records_per_state_message": 1}
STATUS = "connection_status_history"
FUTURE = datetime(2099, 1, 1, tzinfo=timezone.utc)
TODAY = NOW.date().isoformat()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_tap_clock(monkeypatch)


@pytest.fixture
def history(api: requests_mock.Mocker, clock: Clock) -> FakeHistory:
    fake = FakeHistory()
    fake.register(api)
    return fake


def _at(value: str) -> datetime:
    parsed = parse_timestamp(value)
    assert parsed is not None
    return parsed


def _warnings(caplog: pytest.LogCaptureFixture, needle: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if needle in r.getMessage()]


# --- item 3: the future ------------------------------------------------------------------


def test_a_bookmark_in_the_future_is_replaced_not_kept_forever(
    history: FakeHistory, caplog: pytest.LogCaptureFixture
) -> None:
    history.syncs[C1] = [sync(NOW - timedelta(days=2))]
    state = sync_history_state({C1: FUTURE, C2: NOW - timedelta(hours=5)})
    with caplog.at_level(logging.WARNING):
        run = run_capture(CONFIG, state=state)
    assert run.error is None
    # C1 is read again from start_date instead of not at all.
    assert history.windows(C1)[0][0] == "2026-11-20T00:00:00Z"
    assert [r["connection_id"] for r in run.records("sync_history")] == [C1]
    assert all(_at(value) <= NOW for value in bookmarks(run.last_state).values())
    assert len(_warnings(caplog, "after this run started")) == 1


def test_a_sync_dated_in_the_future_does_not_freeze_the_next_runs(
    history: FakeHistory, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    history.ignore_window = True  # a broken API that lists it in every window
    history.syncs[C1] = [sync(NOW - timedelta(days=1)), sync(FUTURE)]
    with caplog.at_level(logging.WARNING):
        first = run_capture(CONFIG)
    assert "2099-01-01" in {r["started_at"][:10] for r in first.records("sync_history")}
    assert _at(bookmarks(first.last_state)[C1]) <= NOW
    assert _warnings(caplog, "starting 2099-01-01T00:00:00.000000Z, after this run started")

    clock.advance(hours=6)
    history.requests.clear()
    # Read every connection (not only where a sync marker moved): the bookmark decides.
    second = run_capture({**CONFIG, "sync_history_recheck_hours": 0}, state=first.last_state)
    assert second.error is None
    assert history.windows(C1), "the connection's history is frozen"
    assert history.windows(C1)[0][0] < FUTURE.strftime("%Y-%m-%dT%H:%M:%SZ")


@given(
    st.lists(st.datetimes(timezones=st.just(timezone.utc)), max_size=5),
    st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc))),
)
def test_a_bookmark_is_never_after_the_run(starts: list[datetime], previous: Any) -> None:
    progress = ReadProgress()
    for start in starts:
        progress.observe(start, running=False)
    if previous is not None and previous > NOW:
        previous = None  # the stream does not pass on a bookmark it does not trust
    bookmark = next_bookmark(
        previous,
        progress,
        run_end=NOW,
        overlap=timedelta(hours=1),
        running_hold=timedelta(days=7),
    )
    assert bookmark is not None
    assert bookmark <= NOW


def test_a_status_bookmark_in_the_future_is_replaced(
    history: FakeHistory, caplog: pytest.LogCaptureFixture
) -> None:
    state = {
        "bookmarks": {
            STATUS: {
                "partitions": [
                    {
                        "context": {"connection_id": C1},
                        "replication_key": "observed_at",
                        "replication_key_value": "2099-01-01T00:00:00.000000Z",
                        "fingerprint": "stale",
                    }
                ]
            }
        }
    }
    with caplog.at_level(logging.WARNING):
        run = run_capture(CONFIG, state=state)
    stored = partitions(run.last_state, STATUS)[C1]
    assert stored["replication_key_value"] == "2026-11-27T12:00:00.000000Z"
    assert _warnings(caplog, "not a timestamp before this run")


# --- item 14: bookmarks of the wrong type -------------------------------------------------


# (Values of other JSON types are refused before the run by the state file check.)
@pytest.mark.parametrize("value", [12345, 1.5, "garbage", "2026-13-45T00:00:00Z"])
def test_a_bookmark_of_the_wrong_type_is_replaced_with_a_warning(
    history: FakeHistory, caplog: pytest.LogCaptureFixture, value: Any
) -> None:
    history.syncs[C1] = [sync(NOW - timedelta(days=1))]
    state = sync_history_state({C1: NOW})
    state["bookmarks"]["sync_history"]["partitions"][0]["replication_key_value"] = value
    state["bookmarks"]["sync_history"]["partitions"][0]["recent_digests"] = "abc"
    with caplog.at_level(logging.WARNING):
        run = run_capture(CONFIG, state=state)
    assert run.error is None
    assert history.windows(C1)[0][0] == "2026-11-20T00:00:00Z"  # read from start_date
    assert isinstance(bookmarks(run.last_state)[C1], str)
    assert isinstance(partitions(run.last_state, "sync_history")[C1]["recent_digests"], list)
    assert len(_warnings(caplog, "not a timestamp; it is read from start_date")) == 1
    assert len(_warnings(caplog, "as the recent_digests of connection")) == 1
    # Counted once per connection, though the read-ahead peeks at the bookmark too.
    assert _warnings(caplog, "bookmark that is not a timestamp: 1")


def test_a_fingerprint_of_the_wrong_type_is_replaced_with_a_warning(
    history: FakeHistory, caplog: pytest.LogCaptureFixture
) -> None:
    state = {
        "bookmarks": {
            STATUS: {
                "partitions": [
                    {
                        "context": {"connection_id": C1},
                        "replication_key": "observed_at",
                        "replication_key_value": "2026-11-26T00:00:00.000000Z",
                        "fingerprint": 42,
                    }
                ]
            }
        }
    }
    with caplog.at_level(logging.WARNING):
        run = run_capture(CONFIG, state=state)
    row = next(r for r in run.records(STATUS) if r["connection_id"] == C1)
    assert row["previous_fingerprint"] is None
    assert isinstance(partitions(run.last_state, STATUS)[C1]["fingerprint"], str)
    assert _warnings(caplog, "as the status fingerprint of connection")


# --- item 14: stale partitions ----------------------------------------------------------------


def _stale_state(count: int) -> dict[str, Any]:
    long_ago = (NOW - timedelta(days=45)).date().isoformat()
    history_partitions = [
        {
            "context": {"connection_id": f"gone_{i}"},
            "replication_key": "started_at",
            "replication_key_value": "2026-10-10T00:00:00.000000Z",
            SEEN_KEY: long_ago,
        }
        for i in range(count)
    ]
    # Written before seen_on existed: dated by its (old) bookmark.
    history_partitions.append(
        {
            "context": {"connection_id": "legacy_gone"},
            "replication_key": "started_at",
            "replication_key_value": "2026-01-01T00:00:00.000000Z",
        }
    )
    status_partitions = [
        {
            "context": {"connection_id": f"gone_{i}"},
            "replication_key": "observed_at",
            "replication_key_value": "2026-10-10T00:00:00.000000Z",
            "fingerprint": "f",
            SEEN_KEY: long_ago,
        }
        for i in range(count)
    ]
    # A status bookmark only moves on a change: it dates nothing, the clock starts now.
    status_partitions.append(
        {
            "context": {"connection_id": "legacy_unknown"},
            "replication_key": "observed_at",
            "replication_key_value": "2025-01-01T00:00:00.000000Z",
            "fingerprint": "f",
        }
    )
    return {
        "bookmarks": {
            "sync_history": {"partitions": history_partitions},
            STATUS: {"partitions": status_partitions},
        }
    }


def test_partitions_of_connections_not_seen_for_days_are_dropped_before_any_state(
    history: FakeHistory, caplog: pytest.LogCaptureFixture
) -> None:
    """A filtered run cannot tell deleted from filtered out: old partitions go at once."""
    with caplog.at_level(logging.INFO):
        run = run_capture({**CONFIG, "connection_ids": [C1, C2, C3]}, state=_stale_state(300))
    assert run.error is None
    first_state = run.states[0]
    for stream in ("sync_history", STATUS):
        kept = set(partitions(first_state, stream)) | set(partitions(run.last_state, stream))
        assert not any(cid.startswith("gone_") for cid in kept), stream
        assert "legacy_gone" not in kept
    final = partitions(run.last_state, STATUS)
    assert final["legacy_unknown"][SEEN_KEY] == TODAY
    for stream in ("sync_history", STATUS):
        live = partitions(run.last_state, stream)
        assert {C1, C2, C3} <= set(live)
        assert all(live[cid][SEEN_KEY] == TODAY for cid in (C1, C2, C3))
    assert _warnings(caplog, "State of 'sync_history': forgot 301 connections")
    assert _warnings(caplog, f"State of '{STATUS}': forgot 300 connections")


def test_an_unfiltered_run_writes_the_deleted_rows_before_forgetting(
    history: FakeHistory,
) -> None:
    """Unseen for longer than state_prune_days, yet never written as deleted: first the
    row, then the next run forgets the partition."""
    run = run_capture(CONFIG, state=_stale_state(5))
    assert run.error is None
    deleted = sorted(r["connection_id"] for r in run.records(STATUS) if r["health"] == "deleted")
    assert deleted == ["gone_0", "gone_1", "gone_2", "gone_3", "gone_4", "legacy_unknown"]
    assert "gone_0" not in partitions(run.last_state, "sync_history")
    after = run_capture(CONFIG, state=run.last_state)
    assert after.error is None
    assert not any(r["health"] == "deleted" for r in after.records(STATUS))
    remaining = set(partitions(after.last_state, STATUS))
    assert not any(cid.startswith("gone_") for cid in remaining)
    # legacy_unknown's clock started at the first run: kept until it too is old
    assert remaining == {C1, C2, C3, "legacy_unknown"}


def test_state_prune_days_zero_keeps_every_partition(history: FakeHistory) -> None:
    run = run_capture({**CONFIG, "state_prune_days": 0}, state=_stale_state(5))
    assert len(partitions(run.last_state, "sync_history")) == 5 + 1 + 3


def test_prune_keeps_recent_and_unknown_partitions() -> None:
    state: dict[str, Any] = {
        "partitions": [
            {"context": {"connection_id": "recent"}, SEEN_KEY: "2026-11-20"},
            {"context": {"connection_id": "old"}, SEEN_KEY: "2026-10-01"},
            {"context": {"connection_id": "unknown"}, SEEN_KEY: "not a date"},
            {"context": {"connection_id": "future"}, SEEN_KEY: "2099-01-01"},
        ]
    }
    original = state["partitions"]
    assert prune(state, today=date(2026, 11, 27), max_age_days=30) == 1
    kept = [p["context"]["connection_id"] for p in state["partitions"]]
    assert kept == ["recent", "unknown", "future"]
    assert state["partitions"] is not original  # a new list: the partition index notices
    assert [p[SEEN_KEY] for p in state["partitions"][1:]] == ["2026-11-27", "2026-11-27"]


# --- item 9: a start_date older than any history ---------------------------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "1999-12-31T00:00:00Z"])
def test_a_start_date_older_than_fivetran_is_refused(value: str) -> None:
    with pytest.raises(ConfigValidationError) as raised:
        TapFivetranMeta(config={**CONFIG, "start_date": value}, parse_env_config=False)
    assert any("before 2012-01-01" in error for error in raised.value.errors)


def test_the_earliest_start_date_is_accepted() -> None:
    assert start_date_too_old_error(EARLIEST_START_DATE.isoformat()) is None
    assert start_date_too_old_error(None) is None


def test_a_run_without_the_status_stream_does_not_hold_its_old_partitions(
    history: FakeHistory,
) -> None:
    """Only a run that can write the deleted rows keeps the partitions waiting for them."""
    run = run_capture(CONFIG, state=_stale_state(5), streams={"connections", "sync_history"})
    assert run.error is None
    kept = partitions(run.last_state, STATUS)
    assert not any(cid.startswith("gone_") for cid in kept)
