"""Cases real accounts serve that the health scenarios leave out (model.EDGE_SCENARIOS).

Given after generation to a few healthy connections, chosen in id order without drawing
from the generator's random stream, so everything else in the account stays as it was.
Accounts too small to keep :data:`MIN_HEALTHY_LEFT` healthy connections get none.

* ``manual_schedule``: ``schedule_type: "manual"``, last sync three days ago (Fivetran
  syncs it only when asked; its ``sync_frequency`` stays, as in recorded bodies).
* ``stale_reschedule``: ``sync_state: "rescheduled"`` with a ``rescheduled_for`` before
  its own ``succeeded_at``, and no sync for two days (a recorded connection carried such
  a value: a stale one, not a plan).
* ``long_running_sync``: a sync started ten hours ago still runs; its syncs take minutes.

The account also gets a transformation project in ``ERROR`` ("Unable to clone the
repository") with no transformation, unless one of its projects already is in ERROR.
"""

from __future__ import annotations

from fivetran_sim import model as m
from fivetran_sim.context import GenContext
from fivetran_sim.gen_extras import project_body
from fivetran_sim.model import Connection, Dataset
from fivetran_sim.timefmt import DAY, HOUR, MICRO, floor_ms, fmt

#: Healthy connections an account keeps besides the edge cases.
MIN_HEALTHY_LEFT = 8
MANUAL_IDLE = 3 * DAY
RESCHEDULE_IDLE = 2 * DAY
LONG_SYNC_AGE = 10 * HOUR


def _candidates(dataset: Dataset) -> list[Connection]:
    return [
        conn
        for conn in dataset.by_scenario(m.HEALTHY)
        if conn.plan.interval > 0
        and conn.plan.stop is None
        and not conn.item.get("paused")
        and conn.item.get("schedule_type") == "auto"
    ]


def _stop(conn: Connection, at: int) -> None:
    """No sync starts at or after ``at``; the last success reported is before it."""
    conn.plan.stop = at
    if conn.plan.prior_success is not None:
        conn.plan.prior_success = min(conn.plan.prior_success, at - HOUR)


def apply_edge_cases(dataset: Dataset, ctx: GenContext) -> None:
    """Turn the first healthy connections into the edge cases (large enough accounts only).

    Runs last: the one id it draws changes nothing generated before.

    Args:
        dataset: The generated account, changed in place.
        ctx: The generator context (its clock, and the id of the failing project).
    """
    t0 = ctx.t0
    candidates = _candidates(dataset)
    if len(candidates) < len(m.EDGE_SCENARIOS) + MIN_HEALTHY_LEFT:
        return
    _add_failing_project(dataset, ctx)
    manual, rescheduled, long_sync = candidates[: len(m.EDGE_SCENARIOS)]

    manual.item["schedule_type"] = "manual"
    _stop(manual, floor_ms(t0 - MANUAL_IDLE))
    manual.scenario = m.MANUAL_SCHEDULE

    stop = floor_ms(t0 - RESCHEDULE_IDLE)
    _stop(rescheduled, stop)
    rescheduled.item["status"] = {**rescheduled.item["status"], "sync_state": "rescheduled"}
    # Before the last success (the last slot before the stop): left behind, not a plan.
    rescheduled.fixed_rescheduled_for = stop - rescheduled.plan.interval - HOUR
    rescheduled.scenario = m.STALE_RESCHEDULE

    started = floor_ms(t0 - LONG_SYNC_AGE)
    _stop(long_sync, started - HOUR)  # its last sync (under an hour) ended before
    long_sync.plan.extra_running_at = started
    long_sync.item["status"] = {**long_sync.item["status"], "sync_state": "syncing"}
    long_sync.scenario = m.LONG_RUNNING_SYNC


def _add_failing_project(dataset: Dataset, ctx: GenContext) -> None:
    if any(project["status"] == "ERROR" for project in dataset.projects.values()):
        return
    with_project = {project["group_id"] for project in dataset.projects.values()}
    without = [group_id for group_id in dataset.groups if group_id not in with_project]
    group_id = (without or list(dataset.groups))[0]
    project_id = ctx.ids.new()
    dataset.projects[project_id] = project_body(
        project_id,
        group_id=group_id,
        status="ERROR",
        created_at=fmt(floor_ms(ctx.t0 - 30 * DAY), MICRO),
        created_by_id=str(dataset.account.get("user_id") or next(iter(dataset.users))),
        word="unreachable",
        dbt_version="1.9.1",
    )
