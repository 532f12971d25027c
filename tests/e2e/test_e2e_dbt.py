"""The dbt package (transform/) through Meltano on PostgreSQL, checked against the simulator.

One account, two tap runs with changes made in the simulator in between, then
``meltano run tap-fivetran-meta target-postgres dbt-postgres:build`` (the README's
command) and a consumer dbt project that installs the package and declares sources
on the tables of a broken and of a healthy connection. Model values are compared with
what the simulator holds.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.timeutil import format_timestamp, parse_timestamp

import api_fixtures as fx
from conftest import MELTANO, ROOT, Warehouse, meltano_env, meltano_run

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

START = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(days=6)
REPORTED_TASK = {"code": "reconnect", "message": "Reconnect: the source password changed"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=10)
    config = SimConfig(
        connections=30, seed=12, api_key="e2e-key", api_secret="e2e-secret-never-logged", now=now
    )
    with Simulator(config) as simulator:
        yield simulator


def _env(**extra: str) -> dict[str, str]:
    # Runs minutes apart: every schema config is read every run, so the changes show.
    return {
        "TAP_FIVETRAN_META_START_DATE": format_timestamp(START),
        "TAP_FIVETRAN_META_SCHEMA_REFRESH_HOURS": "0",
        **extra,
    }


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]
    assert "e2e-secret-never-logged" not in result.stdout + result.stderr


def _meltano(warehouse: Warehouse, sim: Simulator, *args: str, **env: str) -> Any:
    return subprocess.run(
        [str(MELTANO), *args],
        cwd=ROOT,
        env=meltano_env(warehouse, sim.url, _env(**env)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _rows(warehouse: Warehouse, model: str, where: str = "", schema: str = "") -> list[dict]:
    import psycopg
    from psycopg.rows import dict_row

    relation = f'"{schema or warehouse.models_schema}"."fivetran_meta__{model}"'
    with psycopg.connect(warehouse.dsn, row_factory=dict_row) as conn:
        return list(conn.execute(f"select * from {relation} {where}").fetchall())


def _pick(sim: Simulator, warehouse: Warehouse) -> tuple[str, str, tuple[str, str]]:
    """A healthy connection to break, another to keep, and an enabled table of the latter."""
    healthy = [
        r[0]
        for r in warehouse.query(
            f"select c.id from \"{warehouse.schema}\".connections c where c.health = 'healthy' "
            f'and exists (select 1 from "{warehouse.schema}".table_lineage l '
            "where l.connection_id = c.id and l.enabled) "
            # two tables at least: one is disabled, another removed
            f'and (select count(*) from "{warehouse.schema}".connection_tables t '
            "where t.connection_id = c.id) >= 2 order by c.id"
        )
    ]
    assert len(healthy) >= 3, healthy
    to_break, kept = healthy[0], healthy[1]
    schema, table = warehouse.query(
        f'select schema_name, table_name from "{warehouse.schema}".connection_tables '
        "where connection_id = %s and enabled and schema_enabled order by 1, 2 limit 1",
        kept,
    )[0]
    return to_break, kept, (schema, table)


def _webhooks(sim: Simulator, inbox_path: Path, connection_id: str) -> datetime:
    """One sync_end of a sync the history lists (20 s after its end), and one sync known
    only from webhooks (before the history window); returns the latter's start."""
    listed = [item for item in sim.sync_history(connection_id, START, sim.now) if item.get("end")][
        -1
    ]
    ended = parse_timestamp(listed["end"])
    assert ended is not None
    only_start = START - timedelta(days=2)
    fx.deliver_sync_events(
        inbox_path,
        connection_id,
        [
            ("sync_end", ended + timedelta(seconds=20), "wh-listed"),
            ("sync_start", only_start, "wh-only"),
            ("sync_end", only_start + timedelta(minutes=5), "wh-only"),
            ("sync_end", only_start + timedelta(minutes=5), "wh-only"),  # retried: stored once
        ],
    )
    return only_start


def _syncs_per_day(sim: Simulator) -> Counter[tuple[str, str]]:
    per_day: Counter[tuple[str, str]] = Counter()
    for cid in sim.dataset.connections:
        for item in sim.sync_history(cid, START, sim.now):
            started = parse_timestamp(item.get("start"))
            if started is not None:  # a sync not started yet is not emitted by the tap
                per_day[(cid, started.date().isoformat())] += 1
    return per_day


def _deletable(sim: Simulator, warehouse: Warehouse, taken: set[str]) -> str:
    """A healthy connection to delete in Fivetran between the runs (not one of the other two)."""
    ids = [
        r[0]
        for r in warehouse.query(
            f"select id from \"{warehouse.schema}\".connections where health = 'healthy' order by id"
        )
    ]
    return next(cid for cid in ids if cid not in taken)


BLOCKED_BY = {
    "agent_offline": "hybrid_deployment_agent:",
    "proxy_down": "proxy_agent:",
    "private_link_down": "private_link:",
}


def _assert_broken_blocked_and_scoped(
    sim: Simulator, status: dict[str, dict[str, Any]], to_break: str
) -> None:
    """Broken connections and why; connections behind a down agent, proxy or private
    link: blocked, and by what; every row with the account."""
    broken = {c.id for c in sim.dataset.by_scenario("broken")} | {to_break}
    assert {cid for cid, r in status.items() if r["health"] == "broken"} == broken
    assert status[to_break]["task_codes"] == "reconnect"
    assert status[to_break]["task_messages"] == REPORTED_TASK["message"]
    assert "broken" in status[to_break]["health_rule"]
    assert status[to_break]["enabled_table_count"] > 0
    blocked = {c.id: s for s in BLOCKED_BY for c in sim.dataset.by_scenario(s)}
    assert blocked
    for cid, scenario in blocked.items():
        assert status[cid]["health"] == "blocked", (cid, scenario)
        assert status[cid]["blocked_by"].startswith(BLOCKED_BY[scenario])
    assert {r["account_id"] for r in status.values()} == {sim.dataset.account["account_id"]}


def _assert_sync_metrics(
    warehouse: Warehouse, sim: Simulator, webhook_only: tuple[str, datetime], deleted: str
) -> None:
    """sync_metrics against the simulator (the deleted connection's history is gone there)."""
    kept, webhook_only_start = webhook_only
    # sync_metrics: syncs per connection and day equal the simulator's, plus the one sync
    # known only from webhooks; the sync_end of a listed sync is not counted again.
    # Days without syncs are rows with zeros, from each connection's first day to today.
    metrics = _rows(warehouse, "sync_metrics", f"where connection_id <> '{deleted}'")
    got = {(r["connection_id"], r["sync_day"].isoformat()): r["syncs"] for r in metrics}
    truth = _syncs_per_day(sim)
    truth[(kept, webhook_only_start.date().isoformat())] += 1
    assert {k: v for k, v in got.items() if v} == dict(truth)
    build_day = datetime.now(timezone.utc).date()
    for cid in {cid for cid, _ in got}:
        days = sorted(day for c, day in got if c == cid)
        first = datetime.fromisoformat(days[0]).date()
        assert days == [
            (first + timedelta(d)).isoformat() for d in range((build_day - first).days + 1)
        ]
    (only,) = _rows(warehouse, "syncs", "where known_from = 'webhook_events'")
    assert (only["connection_id"], only["outcome"], only["duration_seconds"]) == (
        kept,
        "succeeded",
        300,
    )
    assert sum(r["syncs_from_webhooks_only"] for r in metrics) == 1
    failed_truth = sum(
        1
        for cid in sim.dataset.connections
        for item in sim.sync_history(cid, START, sim.now)
        if item["status"] in ("FAILURE", "FAILURE_WITH_TASK")
    )
    assert sum(r["syncs_failed"] for r in metrics) == failed_truth > 0


def test_models_answer_what_the_simulator_holds(
    sim: Simulator, warehouse: Warehouse, tmp_path: Path
) -> None:
    _ok(meltano_run(warehouse, sim.url, extra_env=_env()))
    to_break, kept, (schema, table) = _pick(sim, warehouse)
    before = warehouse.query(
        f'select health from "{warehouse.schema}".connections where id = %s', to_break
    )[0][0]
    sim.mutate_connection(to_break, setup_state="broken", tasks=[REPORTED_TASK])
    sim.edit_table(kept, schema, table, enabled=False)
    gone_schema, gone_table = warehouse.query(
        f'select schema_name, table_name from "{warehouse.schema}".connection_tables '
        "where connection_id = %s and table_name <> %s order by 1, 2 limit 1",
        kept,
        table,
    )[0]
    sim.edit_table(kept, gone_schema, gone_table, remove=True)
    deleted = _deletable(sim, warehouse, {to_break, kept})
    first_run = warehouse.query(f'select max(observed_at) from "{warehouse.schema}".connections')
    sim.delete_connection(deleted)
    inbox = tmp_path / "inbox.sqlite"
    webhook_only_start = _webhooks(sim, inbox, kept)

    # The README's command: tap, loader, then dbt build (models and their tests).
    run = _meltano(
        warehouse,
        sim,
        "run",
        "tap-fivetran-meta",
        "target-postgres",
        "dbt-postgres:build",
        TAP_FIVETRAN_META_WEBHOOK_INBOX_PATH=str(inbox),
    )
    _ok(run)
    assert "Completed successfully" in run.stdout + run.stderr

    # connection_status: the simulator's broken connections, and the one broken just now.
    status = {r["connection_id"]: r for r in _rows(warehouse, "connection_status")}
    assert set(status) == set(sim.dataset.connections) | {deleted}
    _assert_broken_blocked_and_scoped(sim, status, to_break)
    # The connection deleted between the runs: deleted, at risk, last observed by run one.
    gone = status[deleted]
    assert (gone["health"], gone["is_at_risk"]) == ("deleted", True)
    assert gone["last_observed_at"] == first_run[0][0]
    assert warehouse.count("tap_runs") == 2

    _assert_sync_metrics(warehouse, sim, (kept, webhook_only_start), deleted)

    # connection_daily_health: today holds the old health, then broken.
    (today,) = _rows(
        warehouse,
        "connection_daily_health",
        f"where connection_id = '{to_break}' order by day desc limit 1",
    )
    assert today["health_values_seen"] == 2
    assert today[f"hours_{before}"] > 0
    assert today["hours_broken"] >= 0
    # The main health is the longer one (each snapshot holds until the next run or build).
    longest = max((before, "broken"), key=lambda h: today[f"hours_{h}"])
    assert (today["main_health"], today["last_health"]) == (longest, "broken")
    last_run = warehouse.query(f'select max(observed_at) from "{warehouse.schema}".connections')
    assert today["day"] == last_run[0][0].date()

    # errors_and_warnings: the new task is open, first seen by the second run.
    (task,) = _rows(
        warehouse, "errors_and_warnings", f"where connection_id = '{to_break}' and kind = 'task'"
    )
    assert (task["code"], task["is_open"], task["message"]) == (
        "reconnect",
        True,
        REPORTED_TASK["message"],
    )

    # schema_changelog: the disabled table, named, with its destination table; the removed
    # one named again from connection_tables (the tap keeps only its key).
    changes = {
        (r["object_type"], r["change_type"]): r
        for r in _rows(warehouse, "schema_changelog", f"where connection_id = '{kept}'")
    }
    assert {k for k in changes if k[0] == "table"} == {("table", "disabled"), ("table", "removed")}
    change = changes[("table", "disabled")]
    assert (change["schema_name"], change["table_name"]) == (schema, table)
    assert change["destination_table"]
    assert (change["previous_enabled"], change["enabled"]) == (True, False)
    removed = changes[("table", "removed")]
    assert (removed["schema_name"], removed["table_name"], removed["is_named"]) == (
        gone_schema,
        gone_table,
        True,
    )

    # One row per transformation, and one per project no transformation uses.
    transformations = _rows(warehouse, "transformation_status")
    used = {r["project_id"] for r in transformations if r["transformation_id"]}
    unused = [r for r in transformations if r["transformation_id"] is None]
    assert len(transformations) - len(unused) == sim.expected_counts()["transformations"]
    assert len(unused) == len(set(sim.dataset.projects) - used), sim.dataset.projects

    _consumer_sees_sources_at_risk(warehouse, sim, tmp_path, to_break, kept)


def _consumer_sees_sources_at_risk(
    warehouse: Warehouse, sim: Simulator, tmp_path: Path, to_break: str, kept: str
) -> None:
    """A project installing the package: its sources on a broken and a healthy table."""
    lineage = {
        cid: warehouse.query(
            "select destination_database, destination_schema, destination_table "
            f'from "{warehouse.schema}".table_lineage where connection_id = %s and enabled '
            "order by destination_fqn limit 1",
            cid,
        )[0]
        for cid in (to_break, kept)
    }
    project = tmp_path / "consumer"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: consumer\nversion: '1.0'\nconfig-version: 2\nprofile: fivetran_meta\n"
        f"vars: {{fivetran_meta_schema: {warehouse.schema}}}\n"
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT / 'transform'}\n")
    sources = [
        {
            "name": name,
            "database": database,
            # Case differs on purpose: matching is case-insensitive.
            "schema": dest_schema.upper(),
            "tables": [{"name": dest_table, "identifier": dest_table}],
        }
        for name, (database, dest_schema, dest_table) in (
            ("crm_broken", lineage[to_break]),
            ("crm_kept", lineage[kept]),
        )
    ]
    sources.append({"name": "hand_made", "schema": "public", "tables": [{"name": "budget"}]})
    (project / "models" / "sources.yml").write_text(json.dumps({"version": 2, "sources": sources}))
    env = {
        "DBT_POSTGRES_PROJECT_DIR": str(project),
        "DBT_POSTGRES_SCHEMA": f"{warehouse.models_schema}_consumer",
    }
    try:
        _ok(_meltano(warehouse, sim, "run", "dbt-postgres:deps", "dbt-postgres:build", **env))
        rows = {
            r["source_name"]: r
            for r in _rows(warehouse, "dbt_source_health", schema=env["DBT_POSTGRES_SCHEMA"])
        }
    finally:
        warehouse.execute(f'drop schema if exists "{env["DBT_POSTGRES_SCHEMA"]}" cascade')
    assert set(rows) == {"crm_broken", "crm_kept", "hand_made"}
    assert (rows["crm_broken"]["connection_id"], rows["crm_broken"]["health"]) == (
        to_break,
        "broken",
    )
    assert rows["crm_broken"]["is_at_risk"] is True
    assert rows["crm_kept"]["connection_id"] == kept
    assert rows["crm_kept"]["is_at_risk"] is False
    assert rows["hand_made"]["is_fed_by_fivetran"] is False
    assert rows["hand_made"]["connection_id"] is None
