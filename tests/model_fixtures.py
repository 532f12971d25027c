"""A small account as the tap's tables, for testing the dbt models (transform/) offline.

``build(path)`` writes a DuckDB warehouse in the shape the tap writes (the tables and
columns of the round-3 contract: ``change_id``, ``tap_runs``, ``connection_status_issues``
and the scalar columns) holding, relative to today (UTC), the cases the models must get
right. Every raw row is written twice, as an append-only loader does; ``connections``
also gets a row per run that listed the connection (what such a loader keeps).

Day ``D`` is two days before today. Tap runs (all complete, unfiltered listings):
D-4 10:00, D-3 01:00, (39 h gap) D-1 16:00, D 00:10, D 11:00, D 23:50, D+1 00:20,
D+1 00:40; and an interrupted run D 05:00 (status rows, no tap_runs row).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

ACCOUNT = "acc_truth"
SCHEMA = "fivetran_meta"
TODAY = datetime.now(timezone.utc).date()
D = TODAY - timedelta(days=2)


def at(day_offset: int, hh: int, mm: int = 0) -> datetime:
    """A naive UTC timestamp on day D + day_offset."""
    return datetime.combine(D + timedelta(days=day_offset), time(hh, mm))


RUNS = [at(-4, 10), at(-3, 1), at(-1, 16), at(0, 0, 10), at(0, 11), at(0, 23, 50)]
RUNS += [at(1, 0, 20), at(1, 0, 40)]
INTERRUPTED = at(0, 5)
LAST_RUN = RUNS[-1]
HORIZON = timedelta(hours=12)

#: connection id -> (destination group, name): two connections share a name.
CONNECTIONS = {
    "c_ok": ("g_wh", "shop"),
    "c_deleted": ("g_wh", "crm"),
    "c_flagged": ("g_lake", "ads"),
    "c_broken": ("g_lake", "shop"),
    "c_manual": ("g_wh", "sheets"),
    "c_resched": ("g_wh", "salesforce"),
    "c_stuck": ("g_wh", "erp"),
    "c_paused": ("g_lake", "old_app"),
}
#: connection id -> the runs that listed it (default: every run).
LISTED = {"c_deleted": RUNS[:6], "c_flagged": RUNS[:3]}
#: connection id -> [(observed_at, health, [(kind, code, message)])]: status changes.
STATUS: dict[str, list[tuple[datetime, str, list[tuple[str, str, str]]]]] = {
    "c_ok": [(RUNS[0], "healthy", [])],
    "c_deleted": [
        (RUNS[0], "healthy", [("warning", "schema_drift", "Column types changed")]),
        (RUNS[6], "deleted", []),
    ],
    "c_flagged": [(RUNS[0], "healthy", [])],
    "c_broken": [
        (RUNS[0], "healthy", []),
        (RUNS[3], "broken", [("task", "reconnect", "Reconnect: the password changed")]),
        (RUNS[5], "healthy", []),
    ],
    "c_manual": [(RUNS[0], "healthy", [])],
    "c_resched": [(RUNS[0], "healthy", []), (INTERRUPTED, "stale", [])],
    "c_stuck": [(RUNS[0], "healthy", []), (RUNS[6], "syncing", [])],
    "c_paused": [(RUNS[0], "paused", [])],
}


@dataclass
class Tables:
    """Rows per table (each written twice by ``build``)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, **row: Any) -> None:
        self.rows.setdefault(table, []).append({"account_id": ACCOUNT, **row})


def change_id(connection_id: str, observed_at: datetime) -> str:
    return hashlib.sha256(f"{connection_id}|{observed_at}".encode()).hexdigest()[:16]


def object_key(*names: str) -> str:
    return hashlib.md5("\x1f".join(names).encode()).hexdigest()[:12]  # noqa: S324 - a key


def _connections(t: Tables) -> None:
    for cid, (group, name) in CONNECTIONS.items():
        for run in LISTED.get(cid, RUNS):
            in_force = [s for s in STATUS[cid] if s[0] <= run][-1]
            t.add(
                "connections",
                id=cid,
                group_id=group,
                service="postgres",
                schema=name,
                paused=cid == "c_paused",
                health=in_force[1],
                setup_state="broken" if in_force[1] == "broken" else "connected",
                sync_state="syncing" if cid == "c_stuck" else "scheduled",
                update_state="on_schedule",
                is_historical_sync=False,
                rescheduled_for=at(-3, 0) if cid == "c_resched" else None,
                succeeded_at=run - timedelta(days=2 if cid == "c_manual" else 0, minutes=30),
                failed_at=None,
                last_sync_completed_at=run - timedelta(minutes=30),
                last_sync_succeeded=True,
                sync_frequency=60,
                schedule_type="manual" if cid == "c_manual" else "auto",
                daily_sync_time=None,
                blocked_by=None,
                task_count=0,
                warning_count=0,
                created_at=at(-30, 0),
                observed_at=run,
                _sdc_deleted_at=LISTED["c_flagged"][-1] + timedelta(days=1)
                if cid == "c_flagged"
                else None,
            )


def _history(t: Tables) -> None:
    for cid, changes in STATUS.items():
        for observed_at, health, issues in changes:
            cg = change_id(cid, observed_at)
            t.add(
                "connection_status_history",
                connection_id=cid,
                change_id=cg,
                observed_at=observed_at,
                health=health,
                group_id=None if health == "deleted" else CONNECTIONS[cid][0],
                service=None if health == "deleted" else "postgres",
                paused=None if health == "deleted" else cid == "c_paused",
            )
            for kind, code, message in issues:
                t.add(
                    "connection_status_issues",
                    connection_id=cid,
                    change_id=cg,
                    observed_at=observed_at,
                    kind=kind,
                    code=code,
                    message=message,
                )
    for n, run in enumerate(RUNS):
        t.add(
            "tap_runs",
            run_id=f"run-{n}",
            started_at=run,
            ended_at=run + timedelta(minutes=3),
            tap_version="0.0.0",
            connections_listing_complete=True,
            is_filtered=False,
            group_ids=None,
            connection_ids=None,
            services=None,
            connections_listed=sum(run in LISTED.get(c, RUNS) for c in CONNECTIONS),
            streams_completed="connection_status_history,connections",
        )


def _syncs(t: Tables) -> None:
    def sync(cid: str, start: datetime, minutes: float | None, status: str | None) -> None:
        outcomes = {"COMPLETED": "succeeded", "FAILURE_WITH_TASK": "failed"}
        outcomes |= {"CANCELED": "canceled", "RESCHEDULED": "rescheduled", "TRUNCATED": "other"}
        end = None if minutes is None else start + timedelta(minutes=minutes)
        t.add(
            "sync_history",
            connection_id=cid,
            started_at=start,
            ended_at=end,
            status=status,
            outcome="running" if status is None else outcomes[status],
            duration_seconds=None if minutes is None else minutes * 60,
            group_id=CONNECTIONS[cid][0],
            service="postgres",
        )

    # c_ok: syncs on D-4 and D only (D-3 .. D-1 without syncs), every outcome once on D.
    for hour in (11, 12, 13):
        sync("c_ok", at(-4, hour), 4, "COMPLETED")
    for hour, status in ((1, "COMPLETED"), (2, "FAILURE_WITH_TASK"), (3, "CANCELED")):
        sync("c_ok", at(0, hour), 5, status)
    sync("c_ok", at(0, 4), 5, "RESCHEDULED")
    sync("c_ok", at(0, 6), 5, "TRUNCATED")
    sync("c_ok", LAST_RUN - timedelta(minutes=20), None, None)  # running briefly: fine
    # c_stuck: syncs take minutes; one has run for 10 hours at the last run.
    for hour in range(2, 12):
        sync("c_stuck", at(-1, hour), 3 + hour % 3, "COMPLETED")
    sync("c_stuck", LAST_RUN - timedelta(hours=10), None, None)


def _schema_and_lineage(t: Tables) -> None:
    tables = [
        ("c_ok", "public", "orders", True),
        ("c_ok", "public", "legacy_orders", False),  # disabled in Fivetran
        ("c_deleted", "crm", "accounts", True),
    ]
    for cid, schema, table, enabled in tables:
        group, name = CONNECTIONS[cid]
        t.add(
            "connection_tables",
            connection_id=cid,
            group_id=group,
            service="postgres",
            schema_name=schema,
            table_name=table,
            enabled=enabled,
            schema_enabled=True,
            sync_mode="SOFT_DELETE",
            object_key=object_key(schema, table),
        )
        t.add(
            "table_lineage",
            connection_id=cid,
            group_id=group,
            service="postgres",
            source_schema=schema,
            source_table=table,
            destination_database="analytics",
            destination_schema=f"{name}_{schema}",
            destination_table=table,
            destination_fqn=f"analytics.{name}_{schema}.{table}",
            enabled=enabled,
            schema_enabled=True,
            table_enabled=enabled,
            sync_mode="SOFT_DELETE",
        )
    t.add(
        "connection_columns",
        connection_id="c_ok",
        schema_name="public",
        table_name="orders",
        column_name="id",
        enabled=True,
        hashed=False,
        object_key=object_key("public", "orders", "id"),
    )
    t.add(
        "schema_changes",
        connection_id="c_ok",
        object_key=object_key("public", "legacy_orders"),
        observed_at=RUNS[4],
        change_type="disabled",
        previous_observed_at=RUNS[3],
        group_id="g_wh",
        service="postgres",
        object_type="table",
        schema_name="public",
        table_name="legacy_orders",
        column_name=None,
        previous_enabled=True,
        enabled=False,
        previous_sync_mode=None,
        sync_mode=None,
        previous_hashed=None,
        hashed=None,
    )


def add_account(
    t: Tables, at_: Callable[..., datetime], *, destination_service: str, database: str
) -> None:
    """What every fixture account has: two destinations, PostgreSQL as a connector type,
    and a healthy transformation project with one succeeded transformation."""
    for gid, name in (("g_wh", "warehouse"), ("g_lake", "lake")):
        t.add("groups", id=gid, name=name, created_at=at_(-60, 0))
        t.add("destinations", id=gid, group_id=gid, service=destination_service, database=database)
    t.add("connector_types", id="postgres", name="PostgreSQL")
    t.add(
        "transformation_projects",
        id="p_ok",
        type="DBT_GIT",
        group_id="g_wh",
        created_at=at_(-10, 0),
        status="READY",
        error_count=0,
        errors_text=None,
    )
    t.add(
        "transformations",
        id="t_ok",
        status="SUCCEEDED",
        type="DBT_CORE",
        paused=False,
        created_at=at_(-9, 0),
        last_started_at=at_(0, 2),
        last_ended_at=at_(0, 2, 5),
        project_id="p_ok",
        schedule_type="INTEGRATED",
        connection_count=1,
    )


def _account(t: Tables) -> None:
    add_account(t, at, destination_service="snowflake", database="analytics")
    t.add(
        "transformation_projects",
        id="p_err",
        type="DBT_GIT",
        group_id="g_wh",
        created_at=at(-10, 0),
        status="ERROR",
        error_count=1,
        errors_text="Unable to clone the repository",
    )
    t.add(
        "webhook_events",
        seq=1,
        event_id="e1",
        received_at=at(0, 2, 6),
        event="sync_end",
        created=at(0, 2, 5),
        connection_id="c_ok",
        sync_id="s1",
        status="FAILURE_WITH_TASK",
        signature_verified=True,
    )


TYPES = {
    datetime: "timestamp",
    bool: "boolean",
    int: "bigint",
    float: "double",
    str: "varchar",
    date: "date",
}


def tables() -> Tables:
    t = Tables()
    _connections(t)
    _history(t)
    _syncs(t)
    _schema_and_lineage(t)
    _account(t)
    return t


def build(path: Path, t: Tables | None = None) -> Tables:
    """Write the warehouse at ``path`` (schema fivetran_meta); every row twice. ``t``:
    other rows than this module's account (another fixture's)."""
    import duckdb

    t = t or tables()
    con = duckdb.connect(str(path))
    con.execute(f"create schema if not exists {SCHEMA}")
    for table, rows in t.rows.items():
        columns: dict[str, str] = {}
        for row in rows:
            for name, value in row.items():
                if value is not None and not columns.get(name):
                    columns[name] = TYPES[type(value)]
                else:
                    columns.setdefault(name, "")
        types = {n: (kind or "varchar") for n, kind in columns.items()}
        if "_sdc_deleted_at" in types:
            types["_sdc_deleted_at"] = "timestamp"
        ddl = ", ".join(f'"{n}" {kind}' for n, kind in types.items())
        con.execute(f'create table {SCHEMA}."{table}" ({ddl})')
        names = list(types)
        marks = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{n}"' for n in names)
        values = [[row.get(n) for n in names] for row in rows]
        for _copy in range(2):  # an append-only loader: everything twice
            con.executemany(f'insert into {SCHEMA}."{table}" ({quoted}) values ({marks})', values)
    con.close()
    return t


#: The dbt the demo's Meltano project installs (dbt-duckdb utility).
DBT = (
    Path(__file__).resolve().parents[1]
    / ".meltano"
    / "utilities"
    / "dbt-duckdb"
    / "venv"
    / "bin"
    / "dbt"
)


def dbt_build(
    project: Path, warehouse: Path, *, models_schema: str, source_schema: str
) -> subprocess.CompletedProcess[str]:
    """``dbt deps`` and ``dbt build`` of ``project`` on a DuckDB file with the package's
    ``fivetran_meta`` profile (duckdb target), offline; the build's result, both passed."""
    transform = Path(__file__).resolve().parents[1] / "transform"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "FIVETRAN_META_"))}
    env |= {
        "DBT_TARGET": "duckdb",
        "DBT_PROFILES_DIR": str(transform / "profiles"),
        "DBT_DUCKDB_PATH": str(warehouse),
        "DBT_DUCKDB_SCHEMA": models_schema,
        "FIVETRAN_META_SOURCE_SCHEMA": source_schema,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for command in (["deps"], ["build"]):
        run = subprocess.run(
            [str(DBT), *command, "--project-dir", str(project)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    return run
