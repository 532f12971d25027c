"""Schema configs are read on a cadence (schema_refresh_hours), not every run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.recheck import SCHEMA_READ_AT_KEY, SCHEMA_STATE_STREAM

from tap_runner import TapRun, run_tap

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
SCHEMA_PATH = "GET /v1/connections/{id}/schemas"
SCHEMA_STREAMS = (
    "connection_schema_settings",
    "connection_schemas",
    "connection_tables",
    "connection_columns",
    "table_lineage",
)


@pytest.fixture
def sim() -> Any:
    config = SimConfig(connections=30, seed=3, api_key="k", api_secret="s", now=NOW)
    with Simulator(config) as simulator:
        yield simulator


def run_at(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, when: datetime, state: dict, **settings: Any
) -> TapRun:
    monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: when)
    sim.reset_counts()
    config = {"api_url": sim.url, "api_key": "k", "api_secret": "s", **settings}
    return run_tap(config, state=state)


def schema_requests(sim: Simulator) -> int:
    return sim.request_counts().get(SCHEMA_PATH, 0)


def activated(run: TapRun) -> set[str]:
    return {m["stream"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"}


def test_a_second_run_within_the_period_reads_no_schema_config(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_at(sim, monkeypatch, NOW, {}, emit_activate_version_messages=True)
    connections = len(sim.dataset.connections)
    assert schema_requests(sim) == connections
    assert set(SCHEMA_STREAMS) <= activated(first)
    read_at = first.final_state["bookmarks"][SCHEMA_STATE_STREAM][SCHEMA_READ_AT_KEY]
    with_config = first.count("connection_schema_settings")
    assert 0 < with_config < connections  # some have no schema config (a 404)...
    assert len(read_at) == connections  # ...and are asked again on the same cadence
    assert set(read_at.values()) == {"2026-11-20T12:00:00Z"}

    later = NOW + timedelta(hours=1)
    second = run_at(sim, monkeypatch, later, first.final_state, emit_activate_version_messages=True)
    assert schema_requests(sim) == 0
    for name in SCHEMA_STREAMS:
        assert second.count(name) == 0, name
    # Rows not read again must not be flagged deleted.
    assert not set(SCHEMA_STREAMS) & activated(second)
    assert "connections" in activated(second)


def test_every_connection_is_read_again_within_the_period(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = run_at(sim, monkeypatch, NOW, {}).final_state
    seen: set[str] = set()
    per_run = []
    asked = 0
    for hour in range(1, 25):
        run = run_at(sim, monkeypatch, NOW + timedelta(hours=hour), state)
        asked += schema_requests(sim)
        state = run.final_state
        ids = {r["connection_id"] for r in run.records.get("connection_schema_settings", [])}
        per_run.append(len(ids))
        seen |= ids
    with_config = sum(c.has_schema_config for c in sim.dataset.connections.values())
    assert len(state["bookmarks"][SCHEMA_STATE_STREAM][SCHEMA_READ_AT_KEY]) == len(
        sim.dataset.connections
    )
    assert len(seen) == with_config  # all re-read within 24 hours ...
    assert sum(per_run[:11]) == 0  # ... none before half of it ...
    assert max(per_run) < with_config  # ... and not all in the same run
    # Those without a schema config too: each connection is asked once in the period.
    assert asked == len(sim.dataset.connections) > with_config


def test_zero_reads_every_schema_config_every_run(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_at(sim, monkeypatch, NOW, {}, schema_refresh_hours=0)
    second = run_at(
        sim, monkeypatch, NOW + timedelta(hours=1), first.final_state, schema_refresh_hours=0
    )
    assert schema_requests(sim) == len(sim.dataset.connections)
    assert second.count("connection_tables") == first.count("connection_tables") > 0
