"""Generator determinism and speed, and the arithmetic sync history."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from sim_helpers import FIXED_NOW, make_config

from fivetran_sim import Simulator
from fivetran_sim.history import (
    FAILURE,
    RUNNING,
    SUCCESSES,
    SyncPlan,
    count_between,
    last_outcomes,
    plan_incidents,
    syncs_between,
)
from fivetran_sim.timefmt import DAY, HOUR, MINUTE, to_us


def snapshot(sim: Simulator) -> list[object]:
    state = sim._state
    ds = sim.dataset
    rendered = [state.render_connection(c) for c in ds.connections.values()]
    shapes = [state.shape(c) for c in ds.connections.values() if c.has_schema_config]
    histories = [sim.sync_history(cid) for cid in list(ds.connections)[:10]]
    return [
        ds.account,
        ds.groups,
        ds.destinations,
        rendered,
        shapes,
        histories,
        ds.users,
        ds.teams,
        ds.webhooks,
        ds.transformations,
        ds.projects,
        ds.user_groups,
        ds.team_connections,
        ds.connector_types,
    ]


def test_same_seed_same_account() -> None:
    first = Simulator(make_config(connections=60, seed=5))
    second = Simulator(make_config(connections=60, seed=5))
    assert snapshot(first) == snapshot(second)
    assert first.expected_counts() == second.expected_counts()


def test_other_seed_other_account() -> None:
    first = Simulator(make_config(connections=60, seed=5))
    other = Simulator(make_config(connections=60, seed=6))
    assert set(first.dataset.connections) != set(other.dataset.connections)


def test_ids_unique_across_entities() -> None:
    ds = Simulator(make_config(connections=300)).dataset
    ids = [*ds.groups, *ds.connections, *ds.users, *ds.teams, *ds.webhooks, *ds.transformations]
    assert len(ids) == len(set(ids))


def test_large_account_builds_fast() -> None:
    started = time.perf_counter()
    sim = Simulator(make_config(connections=10_000))
    built = time.perf_counter() - started
    started = time.perf_counter()
    counts = sim.expected_counts()
    counted = time.perf_counter() - started
    print(f"\n10,000 connections: build {built:.2f}s, expected_counts {counted:.2f}s")
    assert counts["connections"] == 10_000
    assert len({c.service for c in sim.dataset.connections.values()}) >= 25
    assert counts["groups"] == 400


PLAN_NOW = to_us(FIXED_NOW)


@st.composite
def plans(draw: st.DrawFn) -> SyncPlan:
    interval = draw(st.sampled_from([15, 60, 360, 1440])) * MINUTE
    key = draw(st.integers(0, 2**63))
    anchor = PLAN_NOW - 21 * DAY + draw(st.integers(0, interval))
    plan = SyncPlan(key=key, anchor=anchor, interval=interval)
    plan.incidents = plan_incidents(key, anchor, interval, PLAN_NOW - DAY)
    mode = draw(st.sampled_from(["plain", "stop", "failing", "running", "extra", "paused"]))
    offset = draw(st.integers(0, 20 * DAY))
    if mode == "stop":
        plan.stop = PLAN_NOW - offset
    elif mode == "failing":
        plan.failing_from = PLAN_NOW - offset
    elif mode == "running":
        plan.running_latest = True
    elif mode == "extra":
        plan.stop = PLAN_NOW - offset
        plan.extra_running_at = plan.stop
    elif mode == "paused":
        end = draw(st.one_of(st.none(), st.integers(PLAN_NOW - offset, PLAN_NOW + DAY)))
        plan.pauses = [[PLAN_NOW - offset, end]]
    return plan


@settings(max_examples=100, deadline=None)
@given(
    plan=plans(),
    lo_back=st.integers(0, 10 * DAY),
    width=st.integers(1, 7 * DAY),
    advance=st.integers(0, 3 * DAY),
)
def test_history_properties(plan: SyncPlan, lo_back: int, width: int, advance: int) -> None:
    now = PLAN_NOW + advance
    lo = now - lo_back
    hi = lo + width
    syncs = syncs_between(plan, lo, hi, now)
    assert count_between(plan, lo, hi, now) == len(syncs)
    starts = [s.start for s in syncs]
    assert starts == sorted(starts)
    assert all(lo <= s.start <= min(hi, now) for s in syncs)
    assert len({s.sync_id for s in syncs}) == len(syncs)
    running = [s for s in syncs if s.end is None]
    assert all(s.status is RUNNING for s in running)
    assert all(s.end <= now for s in syncs if s.end is not None)
    assert len(running) <= 2
    whole = syncs_between(plan, plan.anchor, now, now) if now - plan.anchor > 0 else []
    succeeded, failed = last_outcomes(plan, now)
    done = [s.end for s in whole if s.status in SUCCESSES]
    failures = [s.end for s in whole if s.status == FAILURE]
    assert succeeded == (done[-1] if done else plan.prior_success)
    assert failed == (max(failures) if failures else plan.prior_failure)


def test_window_split_does_not_lose_syncs() -> None:
    plan = SyncPlan(key=42, anchor=PLAN_NOW - 21 * DAY, interval=6 * HOUR)
    whole = syncs_between(plan, PLAN_NOW - 14 * DAY, PLAN_NOW, PLAN_NOW)
    first = syncs_between(plan, PLAN_NOW - 14 * DAY, PLAN_NOW - 7 * DAY, PLAN_NOW)
    second = syncs_between(plan, PLAN_NOW - 7 * DAY, PLAN_NOW, PLAN_NOW)
    assert {s.sync_id for s in first} | {s.sync_id for s in second} == {s.sync_id for s in whole}
