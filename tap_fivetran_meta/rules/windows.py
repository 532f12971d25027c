"""Sync-history read windows and per-connection bookmarks (pure functions, no I/O).

The sync-history endpoint answers one ``[start_time, end_time]`` window per request;
Fivetran's limit is "maximum allowed range is 7 days" without saying whether exactly
7 days is allowed, so every window stays strictly inside it (:data:`MAX_WINDOW`).
Each run reads, per connection, from the bookmark minus an overlap (or from
``start_date`` for a connection without bookmark) to the run's start, in consecutive
windows of at most :data:`MAX_WINDOW`.

The bookmark of a connection is the instant from which the *next* run must read
(before the overlap is subtracted). :func:`next_bookmark` documents how it moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

#: The longest window the tap asks for: one minute less than Fivetran's 7-day maximum.
MAX_WINDOW = timedelta(days=7) - timedelta(minutes=1)
#: How far back from the run's end a connection without recent syncs is read again.
QUIET_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """One ``[start, end]`` request window (aware UTC datetimes)."""

    start: datetime
    end: datetime


def read_from(bookmark: datetime | None, start_date: datetime, overlap: timedelta) -> datetime:
    """Where a connection's read starts: ``max(start_date, bookmark - overlap)``.

    Args:
        bookmark: The connection's bookmark, None for a connection never read.
        start_date: The earliest instant any run reads.
        overlap: How far before the bookmark to read again.

    Returns:
        The start of the first window.
    """
    if bookmark is None:
        return start_date
    return max(start_date, bookmark - overlap)


def plan_windows(start: datetime, end: datetime, max_span: timedelta = MAX_WINDOW) -> list[Window]:
    """Cut ``[start, end]`` into consecutive windows of at most ``max_span``.

    Consecutive windows share their boundary instant; the last one ends at ``end``.
    An empty or inverted range gives no window (nothing to read).

    Args:
        start: First instant to read.
        end: Last instant to read (the run's start).
        max_span: Longest window allowed.

    Returns:
        The windows, oldest first.

    Raises:
        ValueError: If ``max_span`` is not positive.
    """
    if max_span <= timedelta(0):
        msg = "max_span must be positive"
        raise ValueError(msg)
    windows: list[Window] = []
    cursor = start
    while cursor < end:
        stop = min(cursor + max_span, end)
        windows.append(Window(cursor, stop))
        cursor = stop
    return windows


@dataclass
class ReadProgress:
    """What one connection's read saw: the latest start and the starts of running syncs."""

    latest_start: datetime | None = None
    running_starts: list[datetime] = field(default_factory=list)

    def observe(self, started_at: datetime, *, running: bool) -> None:
        """Account for one emitted sync."""
        if self.latest_start is None or started_at > self.latest_start:
            self.latest_start = started_at
        if running:
            self.running_starts.append(started_at)

    def observe_all(self, items: Iterable[tuple[datetime, bool]]) -> None:
        """Account for several ``(started_at, running)`` pairs."""
        for started_at, running in items:
            self.observe(started_at, running=running)


def next_bookmark(
    previous: datetime | None,
    progress: ReadProgress,
    *,
    run_end: datetime,
    overlap: timedelta,
    running_hold: timedelta,
    complete: bool = True,
    quiet_lookback: timedelta = QUIET_LOOKBACK,
) -> datetime | None:
    """The bookmark after reading ``[read_from, run_end]``, completely or up to a row.

    1. Progress is the latest start emitted: rows are emitted in start order, so
       every sync that started before it has been emitted; a sync that is listed
       late, within ``overlap`` of that start, is still read by the next run.
       After a *complete* read it is at least ``run_end - quiet_lookback`` (or
       ``- overlap`` if longer): a connection without new syncs (paused, broken)
       still moves on, so later runs need one window, not an ever longer range,
       while a sync listed only once it ends is still found if it ran for less
       than that lookback.
    2. A sync still running holds the bookmark at its start, so the next run reads
       it again and emits its final state, unless it started more than
       ``running_hold`` before ``run_end`` (a sync that never ends must not pin
       every later run to an ever longer range).
    3. The bookmark never moves backwards.
    4. The bookmark is never later than ``run_end``: a sync listed with a start in
       the future (a clock or data error) must not pin every later run to a range
       that starts in the future, reading nothing, forever.

    Args:
        previous: The bookmark before this run, None for a new connection (callers
            pass None for a bookmark they do not trust, e.g. one after ``run_end``).
        progress: What the read emitted so far.
        run_end: End of the last window (the run's start).
        overlap: The re-read overlap.
        running_hold: How long a running sync may hold the bookmark.
        complete: Whether every window has been read (False: in the middle).
        quiet_lookback: How far behind ``run_end`` a complete read may leave the
            bookmark of a connection without recent syncs.

    Returns:
        The new bookmark (None only for a new connection with nothing emitted yet).
    """
    candidates = [progress.latest_start] if progress.latest_start is not None else []
    if complete:
        candidates.append(run_end - max(overlap, quiet_lookback))
    if not candidates:
        return previous
    candidate = max(candidates)
    held = [start for start in progress.running_starts if start >= run_end - running_hold]
    if held:
        candidate = min(candidate, *held)
    moved = candidate if previous is None else max(previous, candidate)
    return min(moved, run_end)


def recent_digests(rows: Iterable[tuple[datetime, str]], floor: datetime) -> list[str]:
    """Digests of the rows the next run reads again (started at or after ``floor``).

    Args:
        rows: ``(started_at, digest)`` of every row this run read.
        floor: The next run's earliest read (new bookmark minus overlap).

    Returns:
        The digests, sorted (a stable, compact state value).
    """
    return sorted({digest for started, digest in rows if started >= floor})
