"""Schema-config changes: the pure diff and fingerprint, and the stream on the simulator."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from history_helpers import Capture, Clock, freeze_tap_clock, partitions, run_capture

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.schema_changes import (
    CHANGE_TYPES,
    Fingerprint,
    changes,
    fingerprint_of,
    object_key,
    unpack,
)
from tap_fivetran_meta.rules.schema_config import flatten
from tap_fivetran_meta.rules.timeutil import format_timestamp
from tap_fivetran_meta.tap import TapFivetranMeta

if TYPE_CHECKING:
    from collections.abc import Iterator

STREAM = "schema_changes"
STREAMS = {"connections", STREAM}
SIM_NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


def config(**tables: dict[str, Any]) -> dict[str, Any]:
    """A /schemas payload with one schema 'public' holding the given tables."""
    return {
        "schema_change_handling": "ALLOW_ALL",
        "schemas": {
            "public": {"name_in_destination": "pg_public", "enabled": True, "tables": tables}
        },
    }


def table(enabled: bool = True, sync_mode: str | None = "SOFT_DELETE", **columns: Any) -> dict:
    body: dict[str, Any] = {"enabled": enabled, "columns": columns}
    if sync_mode is not None:
        body["sync_mode"] = sync_mode
    return body


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    previous = fingerprint_of(flatten(before))
    return [row for change in changes(previous, flatten(after)) for row in change.rows]


def kinds(rows: list[dict[str, Any]]) -> list[tuple[str | None, str | None, str]]:
    return [(r["table_name"], r["column_name"], r["change_type"]) for r in rows]


# --- the pure diff ------------------------------------------------------------------------


def test_no_change_gives_no_row() -> None:
    payload = config(orders=table(), users=table(False, None, email={"enabled": False}))
    assert diff(payload, payload) == []


def test_a_disabled_table_gives_one_row_with_before_and_after() -> None:
    (row,) = diff(config(orders=table()), config(orders=table(enabled=False)))
    assert row["change_type"] == "disabled"
    assert (row["previous_enabled"], row["enabled"]) == (True, False)
    assert (row["schema_name"], row["table_name"], row["object_type"]) == (
        "public",
        "orders",
        "table",
    )
    assert row["object_key"] == object_key("public", "orders")


def test_a_disabled_schema_disables_each_of_its_tables() -> None:
    before = config(a=table(), b=table(enabled=False))
    after = json.loads(json.dumps(before))
    after["schemas"]["public"]["enabled"] = False
    assert kinds(diff(before, after)) == [("a", None, "disabled")]  # b was not synced anyway


def test_sync_mode_and_enabled_changing_together_give_two_rows() -> None:
    rows = diff(config(orders=table()), config(orders=table(False, "HISTORY")))
    assert kinds(rows) == [("orders", None, "disabled"), ("orders", None, "sync_mode_changed")]
    assert {(r["previous_sync_mode"], r["sync_mode"]) for r in rows} == {("SOFT_DELETE", "HISTORY")}


def test_added_and_removed_tables() -> None:
    rows = diff(config(orders=table()), config(users=table(sync_mode=None)))
    assert kinds(rows) == [("users", None, "added"), (None, None, "removed")]
    added, removed = rows
    assert (added["enabled"], added["sync_mode"], added["previous_enabled"]) == (True, None, None)
    # A removed table's names are not kept in state: only its key (see the changelog model).
    assert removed["object_key"] == object_key("public", "orders")
    assert (removed["previous_enabled"], removed["previous_sync_mode"]) == (True, "SOFT_DELETE")
    assert removed["enabled"] is None


def test_listed_columns_are_tracked() -> None:
    before = config(orders=table(email={"enabled": True, "hashed": False}, ssn={"enabled": True}))
    after = config(orders=table(email={"enabled": False, "hashed": True}, phone={"enabled": False}))
    rows = diff(before, after)
    assert kinds(rows) == [
        ("orders", "email", "disabled"),
        ("orders", "email", "hashed"),
        ("orders", "phone", "added"),
        (None, None, "removed"),
    ]
    assert rows[-1]["object_key"] == object_key("public", "orders", "ssn")
    assert {r["object_type"] for r in rows} == {"column"}


def test_an_unknown_sync_mode_still_counts_as_a_change() -> None:
    rows = diff(
        config(orders=table(sync_mode="SOFT_DELETE")), config(orders=table(sync_mode="NEW_MODE"))
    )
    assert kinds(rows) == [("orders", None, "sync_mode_changed")]
    assert rows[0]["sync_mode"] == "NEW_MODE"


def test_every_change_type_is_documented() -> None:
    schema = (
        TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
        .streams[STREAM]
        .schema
    )
    description = schema["properties"]["change_type"]["description"]
    assert all(name in description for name in CHANGE_TYPES)


def test_the_fingerprint_round_trips_and_is_fixed_width() -> None:
    flat = flatten(config(orders=table(), Users=table(False, "LIVE", id={"enabled": True})))
    packed = fingerprint_of(flat).packed()
    assert len(packed["tables"]) == 2 * 11
    assert len(packed["columns"]) == 1 * 10
    assert Fingerprint.from_state(packed) == fingerprint_of(flat)


@pytest.mark.parametrize(
    "garbage", [{}, {"tables": 5, "columns": ""}, {"tables": "abc", "columns": ""}]
)
def test_a_malformed_fingerprint_is_ignored(garbage: dict[str, Any]) -> None:
    assert Fingerprint.from_state(garbage) is None
    assert unpack("x" * 14, 3) is None


def test_keys_match_the_sql_the_changelog_model_uses() -> None:
    # encode(decode(left(md5(schema || chr(31) || table), 12), 'hex'), 'base64') in SQL
    import base64
    import hashlib

    hex_prefix = hashlib.md5(b"public\x1forders", usedforsecurity=False).hexdigest()[:12]
    expected = base64.b64encode(bytes.fromhex(hex_prefix)).decode()
    assert object_key("public", "orders") == expected
    assert unpack("x" * 14, 3) is None


# --- the stream against the simulator -----------------------------------------------------


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimConfig(connections=20, seed=3, api_key="k", api_secret="s", now=SIM_NOW)
    with Simulator(config) as simulator:
        yield simulator


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_tap_clock(monkeypatch, SIM_NOW)


def tap_config(sim: Simulator) -> dict[str, Any]:
    # Every run reads every schema config: changes show in the very next run (with the
    # default schema_refresh_hours they show within a day; see docs/lineage.md).
    return {"api_key": "k", "api_secret": "s", "api_url": sim.url, "schema_refresh_hours": 0}


def run(sim: Simulator, state: dict[str, Any] | None = None) -> Capture:
    result = run_capture(tap_config(sim), state=state, streams=STREAMS)
    assert result.error is None, result.error
    return result


def a_table(sim: Simulator) -> tuple[str, str, str]:
    """(connection, schema, table) of an enabled table in an enabled schema."""
    for conn_id in sorted(sim.dataset.connections):
        conn = sim.dataset.connections[conn_id]
        if not conn.has_schema_config:
            continue
        for shape in sim._state.shape(conn).schemas:
            for t in shape.tables:
                if shape.enabled and t.enabled and t.sync_mode is not None:
                    return conn_id, shape.name, t.name
    raise AssertionError("no enabled table")


def test_first_run_records_a_baseline_and_writes_nothing(sim: Simulator, clock: Clock) -> None:
    first = run(sim)
    assert first.records(STREAM) == []
    with_config = {c for c, conn in sim.dataset.connections.items() if conn.has_schema_config}
    fingerprinted = {c for c, p in partitions(first.last_state, STREAM).items() if "tables" in p}
    assert fingerprinted == with_config
    clock.now += timedelta(hours=1)
    assert run(sim, first.last_state).records(STREAM) == []


def test_changes_in_the_simulator_show_once(sim: Simulator, clock: Clock) -> None:
    first = run(sim)
    conn_id, schema, name = a_table(sim)
    sim.edit_table(conn_id, schema, name, enabled=False)
    sim.edit_table(conn_id, schema, "brand_new_table")
    clock.now += timedelta(hours=1)
    second = run(sim, first.last_state)
    rows = second.records(STREAM)
    assert sorted((r["table_name"], r["change_type"]) for r in rows) == [
        ("brand_new_table", "added"),
        (name, "disabled"),
    ]
    for row in rows:
        assert row["connection_id"] == conn_id
        assert row["observed_at"] == format_timestamp(clock.now)
        assert row["previous_observed_at"] == format_timestamp(SIM_NOW)
        assert row["service"] == sim.dataset.connections[conn_id].service
    sim.edit_table(conn_id, schema, name, remove=True)
    clock.now += timedelta(hours=1)
    third = run(sim, second.last_state)
    (removed,) = third.records(STREAM)
    assert (removed["change_type"], removed["object_key"]) == ("removed", object_key(schema, name))
    assert removed["previous_enabled"] is False
    clock.now += timedelta(hours=1)
    assert run(sim, third.last_state).records(STREAM) == []


class Killed(Exception):
    """Stands for SIGKILL right after a record was written."""


def die_after_record(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    seen = {"n": 0}
    original = TapFivetranMeta.write_message

    def write_then_die(self: TapFivetranMeta, message: Any) -> None:
        original(self, message)
        if getattr(message, "type", None) == "RECORD" and message.stream == STREAM:
            seen["n"] += 1
            if seen["n"] == count:
                raise Killed

    monkeypatch.setattr(TapFivetranMeta, "write_message", write_then_die)


def up_to_last_state(run: Capture) -> Capture:
    """What a target commits of an interrupted run: everything up to the last STATE."""
    states = [i for i, m in enumerate(run.messages) if m["type"] == "STATE"]
    return Capture(run.messages[: states[-1] + 1] if states else [], None)


def test_an_interrupted_run_loses_and_repeats_no_change(
    sim: Simulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(sim)
    edited = []
    for conn_id in sorted(sim.dataset.connections)[:12]:
        conn = sim.dataset.connections[conn_id]
        if conn.has_schema_config:
            schema = sim._state.shape(conn).schemas[0].name
            sim.edit_table(conn_id, schema, "added_a")
            sim.edit_table(conn_id, schema, "added_b")
            edited.append(conn_id)
    assert len(edited) >= 5
    clock.now += timedelta(hours=1)
    with monkeypatch.context() as patch:
        die_after_record(patch, 12)
        interrupted = run_capture(
            {**tap_config(sim), "records_per_state_message": 1},
            state=first.last_state,
            streams=STREAMS,
        )
    assert isinstance(interrupted.error, Killed)
    committed = up_to_last_state(interrupted)
    assert 0 < len(committed.records(STREAM)) < 12
    resumed = run(sim, committed.last_state)
    rows = committed.records(STREAM) + resumed.records(STREAM)
    keys = [(r["connection_id"], r["object_key"], r["change_type"]) for r in rows]
    assert len(keys) == len(set(keys)), "a change was written twice"
    tables = {(r["connection_id"], r["table_name"]) for r in rows if r["object_type"] == "table"}
    assert tables == {(c, t) for c in edited for t in ("added_a", "added_b")}, "a change was lost"
    # The new tables' listed columns arrive with them, as added columns.
    assert {r["change_type"] for r in rows if r["object_type"] == "column"} <= {"added"}


def test_state_size_stays_small() -> None:
    """11 characters per table and 10 per listed column, plus a small partition each."""
    with Simulator(SimConfig(connections=100, seed=5, api_key="k", api_secret="s")) as big:
        state = run(big).last_state
        tables = big.expected_counts()["connection_tables"]
        columns = big.expected_counts()["connection_columns"]
    size = len(json.dumps(state["bookmarks"][STREAM], separators=(",", ":")))
    assert size < tables * 11 + columns * 10 + 100 * 160, (size, tables, columns)
