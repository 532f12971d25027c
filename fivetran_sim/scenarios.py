"""Per-scenario connection set-up: sync plan, status object and a few flags."""

from __future__ import annotations

from dataclasses import dataclass

from fivetran_sim import model as m
from fivetran_sim.context import GenContext
from fivetran_sim.history import SyncPlan, plan_incidents
from fivetran_sim.ids import unit
from fivetran_sim.model import JsonDict
from fivetran_sim.timefmt import DAY, HOUR, MINUTE, floor_ms

RECONNECT_TASK: JsonDict = {
    "code": "reconnect",
    "message": "Reconnect",
    "details": "The credentials for the source are no longer valid. Please re-authorize.",
}
RESYNC_WARNING: JsonDict = {
    "code": "resync_table_warning",
    "message": "Resync Table Warning",
    "details": {},
}
FAILING_WARNING: JsonDict = {
    "code": "sync_failures",
    "message": "Recent syncs failed",
    "details": "See the sync history for the failure reasons",
}


@dataclass
class Setup:
    """Scenario-dependent parts of a connection.

    Attributes:
        plan: Sync history plan.
        status: The ``status`` object (without ``rescheduled_for``, computed live).
        paused: Value of ``paused``.
        created_at: Creation instant.
        schedule_type: ``auto`` or ``manual``.
        has_schema_config: Whether a schema config exists.
        setup_state: Copy of ``status.setup_state`` for set-up tests.
    """

    plan: SyncPlan
    status: JsonDict
    paused: bool
    created_at: int
    schedule_type: str
    has_schema_config: bool
    setup_state: str


def _status(setup_state: str, sync_state: str, **changes: object) -> JsonDict:
    status: JsonDict = {
        "setup_state": setup_state,
        "sync_state": sync_state,
        "update_state": "on_schedule",
        "is_historical_sync": False,
        "tasks": [],
        "warnings": [],
    }
    status.update(changes)
    return status


def _established(ctx: GenContext, key: int, interval: int) -> tuple[int, SyncPlan]:
    """Creation time and base plan of a connection that existed before the history."""
    created = ctx.ago(ctx.history_days + 1, ctx.history_days + 900)
    anchor = floor_ms(ctx.history_start + int(unit(key, 0) * interval))
    plan = SyncPlan(key=key, anchor=anchor, interval=interval)
    plan.incidents = plan_incidents(key, anchor, interval, ctx.t0 - DAY)
    if ctx.rng.random() < 0.3:
        plan.prior_failure = ctx.between(created, ctx.history_start - HOUR)
    plan.prior_success = ctx.between(created, ctx.history_start - 1)
    return created, plan


def build_setup(ctx: GenContext, key: int, scenario: str, interval: int) -> Setup:
    """Create the scenario-specific parts of one connection.

    Args:
        ctx: Generator context.
        key: Per-connection hash key.
        scenario: One of :data:`fivetran_sim.model.SCENARIOS`.
        interval: Sync slot spacing (microseconds).

    Returns:
        The set-up.
    """
    if scenario in (m.INCOMPLETE, m.NEVER_SYNCED):
        return _unsynced(ctx, key, scenario)
    created, plan = _established(ctx, key, interval)
    t0 = ctx.t0
    status = _status("connected", "scheduled")
    paused = False
    if scenario == m.PAUSED:
        pause_at = max(created + DAY, ctx.ago(1, ctx.history_days + 10))
        plan.pauses = [[pause_at, None]]
        plan.prior_success = min(plan.prior_success or pause_at, pause_at - HOUR)
        status = _status("connected", "paused")
        paused = True
    elif scenario == m.BROKEN:
        plan.stop = ctx.ago(0.25, 0.75)
        plan.failing_from = plan.stop - max(interval * 3 // 2, DAY)
        status = _status("broken", "scheduled", tasks=[dict(RECONNECT_TASK)])
    elif scenario == m.RESCHEDULED:
        plan.rescheduled_from = t0 - interval * 5 // 2
        status = _status("connected", "rescheduled")
    elif scenario == m.HISTORICAL_SYNC:
        plan.stop = floor_ms(ctx.ago(1 / 24, 4 / 24))
        plan.extra_running_at = plan.stop
        status = _status("connected", "syncing", is_historical_sync=True)
    elif scenario == m.SYNCING:
        plan.running_latest = True
        status = _status("connected", "syncing")
    elif scenario == m.FAILING:
        plan.failing_from = t0 - interval * 5 // 2
        status = _status("connected", "scheduled", warnings=[dict(FAILING_WARNING)])
    elif scenario == m.DELAYED:
        plan.stop = t0 - max(2 * interval, 12 * HOUR)
        status = _status("connected", "scheduled", update_state="delayed")
    elif scenario == m.STALE:
        plan.stop = ctx.ago(4, 9)
    elif ctx.rng.random() < 0.05:
        status["warnings"] = [dict(RESYNC_WARNING)]
    if plan.stop is not None and plan.prior_success is not None:
        plan.prior_success = min(plan.prior_success, plan.stop - HOUR)
    return Setup(
        plan=plan,
        status=status,
        paused=paused,
        created_at=created,
        schedule_type="manual" if ctx.rng.random() < 0.03 else "auto",
        has_schema_config=ctx.rng.random() >= 0.03,
        setup_state=str(status["setup_state"]),
    )


def _unsynced(ctx: GenContext, key: int, scenario: str) -> Setup:
    """Incomplete or never-synced connections: no history, no schema config."""
    if scenario == m.INCOMPLETE:
        created = ctx.ago(1 / 24, 10)
        status = _status("incomplete", "scheduled")
        schedule = "auto"
    else:
        # New: set up, its first (historical) sync queued. Fivetran reports
        # is_historical_sync: true for a connection that never synced.
        created = ctx.between(ctx.t0 - 6 * HOUR, ctx.t0 - 30 * MINUTE)
        status = _status("connected", "scheduled", is_historical_sync=True)
        schedule = "auto"
    plan = SyncPlan(key=key, anchor=created, interval=0)
    if scenario == m.NEVER_SYNCED:
        plan.queued_since = created
    return Setup(
        plan=plan,
        status=status,
        paused=False,
        created_at=created,
        schedule_type=schedule,
        has_schema_config=False,
        setup_state=str(status["setup_state"]),
    )


def rescheduled_for_offset(key: int) -> int:
    """How far after "now" a rescheduled connection resumes (15-90 minutes).

    Args:
        key: Per-connection hash key.

    Returns:
        Microseconds.
    """
    return (15 + int(unit(key, 7) * 75)) * MINUTE
