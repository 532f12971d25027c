"""Arithmetic sync history.

A connection's syncs are never stored. Slot ``k`` starts at
``anchor + k * interval + jitter(k)`` and its outcome is a pure function of the plan and
``k``, so any time window can be answered (and counted) directly, and moving the clock
forward makes new syncs appear.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from fivetran_sim.catalog import FAILURE_REASONS
from fivetran_sim.ids import unit, uuid_like
from fivetran_sim.timefmt import MILLI, SECOND, floor_ms, fmt

COMPLETED = "COMPLETED"
SUCCESS_WITH_TASK = "SUCCESS_WITH_TASK"
FAILURE = "FAILURE_WITH_TASK"
RESCHEDULED = "RESCHEDULED"
CANCELED = "CANCELED"
TRUNCATED = "TRUNCATED"
#: A running sync has no status yet (Fivetran documents none for it).
RUNNING = None
#: Statuses whose end counts as ``succeeded_at``.
SUCCESSES = frozenset({COMPLETED, SUCCESS_WITH_TASK})

_JITTER = 0.2  # fraction of the interval a start may slip by
_EXTRA_SLOT = -1  # slot number used for the out-of-schedule running sync
_RESCHEDULE_REASON = "Sync rescheduled: the source API quota is exhausted"


@dataclass
class SyncPlan:
    """Everything needed to derive one connection's syncs.

    Attributes:
        key: Per-connection hash key.
        anchor: Nominal start of slot 0 (epoch microseconds).
        interval: Spacing between slots (microseconds); ``0`` means "never syncs".
        stop: Slots starting at or after this instant do not exist.
        failing_from: Slots starting at or after this instant fail.
        rescheduled_from: Slots starting at or after this instant are rescheduled.
        incidents: Slot number -> status for the few random incidents (failures,
            reschedules, cancels) sprinkled over otherwise successful history.
        running_latest: The latest started slot is still running (``end`` is null).
        extra_running_at: Start of an extra, never-ending sync (historical re-sync).
        queued_since: A first sync queued but not started since this instant: listed
            with a null ``start`` (as Fivetran documents) in windows reaching it.
        pauses: ``[start, end]`` intervals (end ``None`` = still paused) without syncs.
        prior_success: ``succeeded_at`` to report when no completed sync is visible.
        prior_failure: ``failed_at`` to report when no failed sync is visible.
    """

    key: int
    anchor: int
    interval: int
    stop: int | None = None
    failing_from: int | None = None
    rescheduled_from: int | None = None
    incidents: dict[int, str] = field(default_factory=dict)
    running_latest: bool = False
    extra_running_at: int | None = None
    queued_since: int | None = None
    pauses: list[list[int | None]] = field(default_factory=list)
    prior_success: int | None = None
    prior_failure: int | None = None


@dataclass(frozen=True)
class Sync:
    """One sync as the simulator sees it (times in epoch microseconds)."""

    slot: int
    start: int
    end: int | None
    status: str | None
    reason: str | None
    extract_records: int
    process_records: int
    load_records: int
    sync_id: str

    def to_json(self, *, extras: bool = False) -> dict[str, object]:
        """Render the sync-history item: ``start``, ``end`` and ``status``.

        Args:
            extras: Also render fields Fivetran does not document (``sync_id``,
                ``reason``, record counts), for tolerance tests.

        Returns:
            The JSON object for ``/connections/{id}/sync-history``.
        """
        item: dict[str, object] = {
            "start": fmt(self.start, MILLI),
            "end": None if self.end is None else fmt(self.end, MILLI),
            "status": self.status,
        }
        if extras:
            item.update(
                sync_id=self.sync_id,
                reason=self.reason,
                extract_records=self.extract_records,
                process_records=self.process_records,
                load_records=self.load_records,
            )
        return item


#: The item of a sync queued but not started: Fivetran lists it with a null start.
QUEUED_ITEM: dict[str, object] = {"start": None, "end": None, "status": None}


def slot_start(plan: SyncPlan, slot: int) -> int:
    """Start of a slot (millisecond aligned).

    Args:
        plan: The connection's plan.
        slot: Slot number.

    Returns:
        Epoch microseconds.
    """
    if slot == _EXTRA_SLOT and plan.extra_running_at is not None:
        return plan.extra_running_at
    jitter = int(unit(plan.key, slot, 1) * _JITTER * plan.interval)
    return floor_ms(plan.anchor + slot * plan.interval + jitter)


def slot_end(plan: SyncPlan, slot: int) -> int:
    """Nominal end of a slot: between 45 s and ~45 min, below half the interval.

    Args:
        plan: The connection's plan.
        slot: Slot number.

    Returns:
        Epoch microseconds.
    """
    spread = unit(plan.key, slot, 2)
    duration = min(plan.interval // 2, int((45 + spread * spread * 2700) * SECOND))
    return floor_ms(slot_start(plan, slot) + duration)


def _paused(plan: SyncPlan, moment: int) -> bool:
    for start, end in plan.pauses:
        if start is not None and start <= moment and (end is None or moment < end):
            return True
    return False


def _exists(plan: SyncPlan, start: int) -> bool:
    if plan.stop is not None and start >= plan.stop:
        return False
    return not _paused(plan, start)


def _last_slot_at(plan: SyncPlan, moment: int) -> int:
    """Largest slot number whose start is at or before ``moment`` (-1 if none)."""
    if plan.interval <= 0 or moment < plan.anchor:
        return -1
    slot = (moment - plan.anchor) // plan.interval
    while slot >= 0 and slot_start(plan, slot) > moment:
        slot -= 1
    return slot


def _running_slot(plan: SyncPlan, now: int) -> int | None:
    if not plan.running_latest or _paused(plan, now):
        return None
    slot = _last_slot_at(plan, now)
    if slot < 0 or not _exists(plan, slot_start(plan, slot)):
        return None
    return slot


#: Reasons of the incident statuses other than failures.
_INCIDENT_REASONS = {
    RESCHEDULED: _RESCHEDULE_REASON,
    CANCELED: "Sync was canceled by a user",
    SUCCESS_WITH_TASK: "Completed with a task to look at",
    TRUNCATED: "Sync was truncated",
}


def _status(plan: SyncPlan, slot: int, start: int) -> tuple[str, str | None]:
    if plan.failing_from is not None and start >= plan.failing_from:
        return FAILURE, FAILURE_REASONS[slot % len(FAILURE_REASONS)]
    if plan.rescheduled_from is not None and start >= plan.rescheduled_from:
        return RESCHEDULED, _RESCHEDULE_REASON
    incident = plan.incidents.get(slot)
    if incident == FAILURE:
        return FAILURE, FAILURE_REASONS[slot % len(FAILURE_REASONS)]
    if incident in _INCIDENT_REASONS:
        return incident, _INCIDENT_REASONS[incident]
    return COMPLETED, None


def _build(plan: SyncPlan, slot: int, running: bool) -> Sync:
    start = slot_start(plan, slot)
    volume = int(unit(plan.key, slot, 4) * 50_000)
    if running:
        status, reason, end = RUNNING, None, None
        extract, process, load = volume // 3, volume // 4, 0
    else:
        status, reason = _status(plan, slot, start)
        end = slot_end(plan, slot)
        extract = volume if status in SUCCESSES else volume // 5
        process = extract if status in SUCCESSES else extract // 2
        load = process - process // 50 if status in SUCCESSES else 0
    return Sync(
        slot=slot,
        start=start,
        end=end,
        status=status,
        reason=reason,
        extract_records=extract,
        process_records=process,
        load_records=load,
        sync_id=uuid_like(plan.key, slot),
    )


def plan_incidents(key: int, anchor: int, interval: int, before: int) -> dict[int, str]:
    """Pick a few deterministic incident slots among those starting before ``before``.

    Args:
        key: Per-connection hash key.
        anchor: Nominal start of slot 0.
        interval: Slot spacing.
        before: Incidents only happen in slots that start before this instant.

    Returns:
        Slot number -> incident status.
    """
    if interval <= 0 or before <= anchor:
        return {}
    slots = (before - anchor) // interval
    incidents: dict[int, str] = {}
    for draw in range(3):
        if slots <= 0 or unit(key, draw, 5) < 0.35:
            continue
        slot = int(unit(key, draw, 6) * slots)
        incidents[slot] = (FAILURE, RESCHEDULED, CANCELED, FAILURE)[draw + (slot % 2)]
    # Rarer outcomes, drawn apart so the ones above stay as they were.
    for draw, status in ((3, SUCCESS_WITH_TASK), (4, TRUNCATED)):
        slot = int(unit(key, draw, 6) * slots)
        if unit(key, draw, 5) < 0.8 or slot in incidents:
            continue
        incidents[slot] = status
    return incidents


def _visible_slots(plan: SyncPlan, lo: int, hi: int, now: int) -> Iterator[tuple[int, bool]]:
    """Yield ``(slot, running)`` for visible scheduled syncs starting in ``[lo, hi]``."""
    hi = min(hi, now)
    if plan.interval <= 0 or hi < lo:
        return
    running = _running_slot(plan, now)
    first = max(0, (lo - plan.anchor) // plan.interval - 1)
    for slot in range(first, _last_slot_at(plan, hi) + 1):
        start = slot_start(plan, slot)
        if start < lo or not _exists(plan, start):
            continue
        if slot == running:
            yield slot, True
        elif slot_end(plan, slot) <= now:
            yield slot, False


def _extra_visible(plan: SyncPlan, lo: int, hi: int, now: int) -> bool:
    extra = plan.extra_running_at
    return extra is not None and lo <= extra <= min(hi, now)


def syncs_between(plan: SyncPlan, lo: int, hi: int, now: int) -> list[Sync]:
    """All visible syncs whose start lies in ``[lo, hi]``, oldest first.

    A sync is visible once it started (start <= now) and either finished (end <= now)
    or is the connection's running sync.

    Args:
        plan: The connection's plan.
        lo: Window start (inclusive), epoch microseconds.
        hi: Window end (inclusive), epoch microseconds.
        now: Simulator clock.

    Returns:
        The syncs in chronological order.
    """
    found = [_build(plan, slot, running) for slot, running in _visible_slots(plan, lo, hi, now)]
    if _extra_visible(plan, lo, hi, now):
        found.append(_build(plan, _EXTRA_SLOT, running=True))
    return found


def _first_slot_from(plan: SyncPlan, moment: int) -> int:
    """Smallest slot number whose start is at or after ``moment``."""
    slot = max(0, (moment - plan.anchor) // plan.interval - 1)
    while slot_start(plan, slot) < moment:
        slot += 1
    return slot


def count_between(plan: SyncPlan, lo: int, hi: int, now: int) -> int:
    """Number of syncs :func:`syncs_between` would return, without building them.

    Args:
        plan: The connection's plan.
        lo: Window start (inclusive).
        hi: Window end (inclusive).
        now: Simulator clock.

    Returns:
        The count.
    """
    extra = 1 if _extra_visible(plan, lo, hi, now) else 0
    if plan.interval <= 0:
        return extra
    if plan.pauses:
        return extra + sum(1 for _ in _visible_slots(plan, lo, hi, now))
    last_moment = min(hi, now) if plan.stop is None else min(hi, now, plan.stop - 1)
    if last_moment < lo:
        return extra
    first = _first_slot_from(plan, lo)
    last = _last_slot_at(plan, last_moment)
    if last < first:
        return extra
    total = last - first + 1
    # Only the newest slot can still be unfinished: every sync ends before the next starts.
    if last != _running_slot(plan, now) and slot_end(plan, last) > now:
        total -= 1
    return total + extra


def _scan_limit(plan: SyncPlan, now: int) -> int:
    limit = now if plan.stop is None else min(now, plan.stop - 1)
    for start, end in plan.pauses:
        if start is not None and end is None:
            limit = min(limit, start)
    return limit


def last_outcomes(plan: SyncPlan, now: int) -> tuple[int | None, int | None]:
    """Latest ``succeeded_at`` and ``failed_at`` consistent with the history.

    Args:
        plan: The connection's plan.
        now: Simulator clock.

    Returns:
        ``(succeeded_at, failed_at)`` in epoch microseconds, each possibly ``None``.
    """
    success: int | None = None
    failure: int | None = None
    if plan.interval > 0:
        running = _running_slot(plan, now)
        for slot in range(_last_slot_at(plan, _scan_limit(plan, now)), -1, -1):
            start = slot_start(plan, slot)
            end = slot_end(plan, slot)
            if slot == running or end > now or not _exists(plan, start):
                continue
            status = _status(plan, slot, start)[0]
            if status in SUCCESSES:
                success = end
                break
            if status == FAILURE and failure is None:
                failure = end
        if failure is None:
            failure = _incident_failure(plan, now, below=success)
    return (
        success if success is not None else plan.prior_success,
        failure if failure is not None else plan.prior_failure,
    )


def _incident_failure(plan: SyncPlan, now: int, below: int | None) -> int | None:
    """End of the most recent visible incident failure (older than the scan reached)."""
    best: int | None = None
    for slot, status in plan.incidents.items():
        if status != FAILURE:
            continue
        start = slot_start(plan, slot)
        end = slot_end(plan, slot)
        if end > now or not _exists(plan, start) or (below is not None and end > below):
            continue
        if best is None or end > best:
            best = end
    return best
