"""Window planning and bookmark movement for sync_history (pure functions)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_fivetran_meta.rules.windows import (
    MAX_WINDOW,
    QUIET_LOOKBACK,
    ReadProgress,
    Window,
    next_bookmark,
    plan_windows,
    read_from,
    recent_digests,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
OVERLAP = timedelta(minutes=60)
HOLD = timedelta(days=7)


# --- read_from ------------------------------------------------------------------------


def test_read_from_without_bookmark_is_start_date() -> None:
    assert read_from(None, T0 - 7 * DAY, OVERLAP) == T0 - 7 * DAY


def test_read_from_subtracts_the_overlap_from_the_bookmark() -> None:
    assert read_from(T0 - DAY, T0 - 30 * DAY, OVERLAP) == T0 - DAY - OVERLAP


def test_read_from_never_reads_before_start_date() -> None:
    assert read_from(T0 - DAY, T0 - DAY, OVERLAP) == T0 - DAY


# --- plan_windows ---------------------------------------------------------------------


def test_one_window_when_the_range_fits() -> None:
    assert plan_windows(T0 - 3 * DAY, T0) == [Window(T0 - 3 * DAY, T0)]


SPAN = 7 * DAY - timedelta(minutes=1)


def test_windows_stay_strictly_inside_seven_days() -> None:
    # Fivetran's "maximum allowed range is 7 days" may or may not include 7 days itself.
    assert MAX_WINDOW < 7 * DAY
    assert plan_windows(T0 - SPAN, T0) == [Window(T0 - SPAN, T0)]


def test_exactly_seven_days_needs_two_windows() -> None:
    windows = plan_windows(T0 - 7 * DAY, T0)
    assert windows == [Window(T0 - 7 * DAY, T0 - 7 * DAY + SPAN), Window(T0 - 7 * DAY + SPAN, T0)]


def test_longer_ranges_are_cut_into_windows_the_last_ending_at_run_end() -> None:
    windows = plan_windows(T0 - 16 * DAY, T0)
    assert [w.end - w.start for w in windows] == [SPAN, SPAN, 16 * DAY - 2 * SPAN]
    assert windows[0].start == T0 - 16 * DAY
    assert windows[-1].end == T0
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))


@pytest.mark.parametrize("start", [T0, T0 + HOUR])
def test_empty_or_inverted_range_needs_no_request(start: datetime) -> None:
    assert plan_windows(start, T0) == []


def test_max_span_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        plan_windows(T0 - DAY, T0, timedelta(0))


@given(
    span=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=120)),
)
def test_windows_tile_the_range_without_gaps(span: timedelta) -> None:
    windows = plan_windows(T0 - span, T0)
    assert windows[0].start == T0 - span
    assert windows[-1].end == T0
    for window in windows:
        assert timedelta(0) < window.end - window.start <= MAX_WINDOW
    for earlier, later in itertools.pairwise(windows):
        assert earlier.end == later.start
    # The fewest windows possible: every window but the last is full.
    assert all(w.end - w.start == MAX_WINDOW for w in windows[:-1])


# --- next_bookmark ----------------------------------------------------------------------


def progress(*items: tuple[datetime, bool]) -> ReadProgress:
    read = ReadProgress()
    read.observe_all(items)
    return read


def bookmark(previous: datetime | None, read: ReadProgress) -> datetime | None:
    return next_bookmark(previous, read, run_end=T0, overlap=OVERLAP, running_hold=HOLD)


def test_a_quiet_connection_moves_to_run_end_minus_the_quiet_lookback() -> None:
    assert bookmark(None, progress()) == T0 - QUIET_LOOKBACK
    assert bookmark(T0 - 20 * DAY, progress()) == T0 - QUIET_LOOKBACK
    assert bookmark(None, progress((T0 - 3 * DAY, False))) == T0 - QUIET_LOOKBACK


def test_a_quiet_connection_never_moves_closer_than_the_overlap() -> None:
    read = progress()
    long_overlap = 2 * QUIET_LOOKBACK
    assert (
        next_bookmark(None, read, run_end=T0, overlap=long_overlap, running_hold=HOLD)
        == T0 - long_overlap
    )


def test_the_latest_start_wins_when_it_is_more_recent() -> None:
    latest = T0 - timedelta(minutes=10)
    assert bookmark(T0 - DAY, progress((T0 - 5 * HOUR, False), (latest, False))) == latest


def test_a_running_sync_holds_the_bookmark_at_its_start() -> None:
    running = T0 - 5 * HOUR
    read = progress((T0 - 30 * HOUR, False), (running, True), (T0 - HOUR / 2, False))
    assert bookmark(T0 - 2 * DAY, read) == running


def test_the_earliest_running_sync_holds() -> None:
    read = progress((T0 - 2 * HOUR, True), (T0 - 9 * HOUR, True))
    assert bookmark(None, read) == T0 - 9 * HOUR


def test_a_sync_running_longer_than_the_hold_no_longer_holds() -> None:
    read = progress((T0 - 8 * DAY, True), (T0 - 10 * HOUR, False))
    assert bookmark(None, read) == T0 - 10 * HOUR


def test_the_bookmark_never_moves_backwards() -> None:
    previous = T0 - HOUR / 4  # ahead of everything this run saw
    read = progress((T0 - 3 * HOUR, False), (T0 - 2 * HOUR, True))
    assert bookmark(previous, read) == previous


@given(
    previous=st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    starts=st.lists(
        st.tuples(
            st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)), st.booleans()
        ),
        max_size=20,
    ),
)
def test_bookmark_properties(
    previous: timedelta | None, starts: list[tuple[timedelta, bool]]
) -> None:
    before = None if previous is None else T0 - previous
    read = progress(*((T0 - ago, running) for ago, running in starts))
    result = bookmark(before, read)
    if before is not None:
        assert result >= before  # never backwards
    assert result is not None
    assert result <= max([T0 - QUIET_LOOKBACK, *(T0 - ago for ago, _ in starts)]) or (
        result == before
    )
    held = [T0 - ago for ago, running in starts if running and ago <= HOLD]
    if held and (before is None or min(held) > before):
        assert result <= min(held)  # the next run reads every running sync again


def test_an_old_running_sync_beyond_the_hold_does_not_hide_a_newer_running_one() -> None:
    read = progress((T0 - 8 * DAY, True), (T0 - 3 * HOUR, True), (T0 - HOUR / 2, False))
    assert bookmark(None, read) == T0 - 3 * HOUR


def partial(previous: datetime | None, read: ReadProgress) -> datetime | None:
    return next_bookmark(
        previous, read, run_end=T0, overlap=OVERLAP, running_hold=HOLD, complete=False
    )


def test_in_the_middle_of_a_read_the_bookmark_is_the_latest_start_emitted() -> None:
    assert partial(None, progress()) is None
    assert partial(T0 - 3 * DAY, progress()) == T0 - 3 * DAY
    assert partial(T0 - 3 * DAY, progress((T0 - 2 * DAY, False))) == T0 - 2 * DAY
    assert partial(None, progress((T0 - 2 * DAY, True), (T0 - DAY, False))) == T0 - 2 * DAY


def test_in_the_middle_of_a_read_the_bookmark_never_moves_backwards() -> None:
    assert partial(T0 - DAY, progress((T0 - DAY - HOUR, False))) == T0 - DAY


def test_recent_digests_keep_the_rows_the_next_run_reads_again() -> None:
    rows = [(T0 - 3 * HOUR, "c"), (T0 - 2 * HOUR, "b"), (T0 - HOUR, "a"), (T0, "a")]
    assert recent_digests(rows, T0 - 2 * HOUR) == ["a", "b"]
    assert recent_digests([], T0) == []
