"""The simulator data every engine test lands: three tap runs, changes in between.

``capture(directory)`` runs the tap in-process against the bundled simulator three times
(hours apart on the simulator's clock), with what happens in an account in between: a
healthy connection breaks with a task, a table is disabled and another removed, a
connection is deleted (its 'deleted' status row), and webhook deliveries (a sync_end of
a listed sync, a sync known only from webhooks). It writes the Singer messages of the
runs, in order, to ``messages.jsonl`` and a consumer dbt project (``project/``) that
installs transform/ as a package and declares sources on destination tables of
healthy and broken connections. Everything is deterministic but the clock (now).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.timeutil import format_timestamp
from tap_fivetran_meta.webhooks.store import Inbox

import api_fixtures as fx
from tap_runner import run_tap

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "wh-key", "wh-secret"
CONNECTIONS = 40


def _records(messages: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def _changes(sim: Simulator, first: list[dict[str, Any]], inbox: Path) -> list[str]:
    """Break, disable, remove, delete and deliver webhooks; return the connection ids
    whose destination tables the consumer project declares."""
    connections = {r["id"]: r for r in _records(first, "connections")}
    tables = _records(first, "connection_tables")
    healthy = sorted(
        cid
        for cid, r in connections.items()
        if r["health"] == "healthy"
        and any(t["connection_id"] == cid and t["enabled"] and t["schema_enabled"] for t in tables)
    )
    to_break, kept = healthy[0], healthy[1]
    with_tables = sorted({t["connection_id"] for t in tables} - {to_break, kept})
    to_delete = sorted(set(connections) - {to_break, kept, *with_tables})[0]
    sim.mutate_connection(
        to_break, setup_state="broken", tasks=[{"code": "reconnect", "message": "Reconnect now"}]
    )
    kept_tables = sorted(
        (t["schema_name"], t["table_name"])
        for t in tables
        if t["connection_id"] == kept and t["enabled"] and t["schema_enabled"]
    )
    sim.edit_table(kept, *kept_tables[0], enabled=False)
    if len(kept_tables) > 1:
        sim.edit_table(kept, *kept_tables[-1], remove=True)
    sim.delete_connection(to_delete)
    history = [
        r for r in _records(first, "sync_history") if r["connection_id"] == kept and r["ended_at"]
    ]
    ended = datetime.fromisoformat(
        sorted(r["ended_at"] for r in history)[-1].replace("Z", "+00:00")
    )
    only = ended - timedelta(days=3)
    fx.deliver_sync_events(
        inbox,
        kept,
        [
            ("sync_end", ended + timedelta(seconds=20), "wh-listed"),
            ("sync_start", only, "wh-only"),
            ("sync_end", only + timedelta(minutes=5), "wh-only"),
        ],
    )
    return [to_break, kept, with_tables[0]]


def capture(directory: Path) -> datetime:
    """Write ``messages.jsonl`` and ``project/`` into ``directory``; return the time of
    the last run (models are built as of one hour later)."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=6)
    config = SimConfig(connections=CONNECTIONS, seed=21, api_key=KEY, api_secret=SECRET, now=now)
    inbox = directory / "inbox.sqlite"
    Inbox(inbox).close()
    messages: list[dict[str, Any]] = []
    with Simulator(config) as sim:
        tap_config = {
            "api_url": sim.url,
            "api_key": KEY,
            "api_secret": SECRET,
            "start_date": format_timestamp(now - timedelta(days=6)),
            "schema_refresh_hours": 0,
            "webhook_inbox_path": str(inbox),
        }
        state: dict[str, Any] = {}
        declared: list[str] = []
        for run in range(3):
            result = run_tap(tap_config, state=state)
            messages += result.messages
            state = result.final_state
            if run == 0:
                declared = _changes(sim, result.messages, inbox)
            sim.advance(150)
        last_run = sim.now
    path = directory / "messages.jsonl"
    path.write_text("".join(json.dumps(m, default=str) + "\n" for m in messages))
    _consumer_project(directory / "project", messages, declared)
    return last_run


def lineage_all(messages: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(connection, database, schema, table) of every destination table in the lineage."""
    return {
        (
            r["connection_id"],
            r["destination_database"],
            r["destination_schema"],
            r["destination_table"],
        )
        for r in _records(messages, "table_lineage")
    }


def _consumer_project(
    project: Path, messages: list[dict[str, Any]], connections: list[str]
) -> None:
    """A dbt project standing in for a user's: installs transform/ and declares sources
    on two destination tables of each of ``connections``."""
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(
        "name: consumer\nversion: '1.0.0'\nconfig-version: 2\nprofile: warehouse\n"
        "models:\n  +materialized: table\n"
    )
    (project / "packages.yml").write_text(
        f"packages:\n  - local: {json.dumps(str(ROOT / 'transform'))}\n"
    )
    lineage = sorted(
        {
            (
                r["connection_id"],
                r["destination_database"],
                r["destination_schema"],
                r["destination_table"],
            )
            for r in _records(messages, "table_lineage")
            if r["connection_id"] in connections and r["enabled"]
        }
    )
    # Only destination tables no other destination has under the same schema.table: on
    # Spark sources have no database, so such a table would match both.
    seen = Counter((row[2], row[3]) for row in lineage_all(messages))
    lineage = [row for row in lineage if seen[(row[2], row[3])] == 1]
    sources: dict[tuple[str, str], list[str]] = {}
    for cid in connections:
        for _, database, schema, table in [row for row in lineage if row[0] == cid][:2]:
            sources.setdefault((database, schema), []).append(table)
    lines = ["version: 2", "sources:"]
    for (database, schema), names in sorted(sources.items()):
        # engine_run.py drops `database:` on Spark (two-part names there).
        lines += [f"  - name: {schema}", f"    database: {database}", f"    schema: {schema}"]
        lines += ["    tables:"]
        for name in sorted(set(names)):
            lines += [
                f"      - name: {name}",
                "        data_tests:",
                "          - fivetran_meta.fed_by_healthy_connection:",
                "              config: {severity: warn}",
            ]
    # A model of the user's on two of these sources, and one downstream of it: the
    # impact model's graph. Neither reads a row (the destination tables are not here).
    (database, schema), names = sorted(sources.items())[0]
    (project / "models" / "staged.sql").write_text(
        f"-- depends_on: {{{{ source('{schema}', '{names[0]}') }}}}\nselect 1 as one\n"
    )
    (project / "models" / "report.sql").write_text("select one from {{ ref('staged') }}\n")
    (project / "models" / "sources.yml").write_text("\n".join(lines) + "\n")
