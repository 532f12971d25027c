"""An account with incidents, as the tap's tables, for the incident models (transform/).

Five tap runs (complete, unfiltered listings), day ``D`` two days before today (UTC):
D-2 10:00, D-1 09:00, D 23:50, D+1 00:20, D+1 00:40. Connections:

- ``c_always`` is broken at every run (task ``grant_permissions``); its syncs failed since
  D-2 08:10, before the first run saw it.
- ``c_recover`` is healthy at the first run, fails a sync at D-1 08:07, is seen broken
  with a ``reconnect`` task at D-1 09:00, syncs successfully at D 23:20 and is seen
  healthy at D 23:50.
- ``c_gone`` is healthy (with a warning) until D 23:50 and deleted at D+1 00:20.
- ``c_fine`` is healthy throughout.
- ``c_flaky`` (not under a dbt source) is failing, syncing, then failing again: one incident.

Each feeds one destination table the consumer project declares as a source. Written by
model_fixtures.build (every raw row twice, as an append-only loader leaves them).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import model_fixtures as mf

TODAY = datetime.now(timezone.utc).date()
D = TODAY - timedelta(days=2)
#: The destination database Fivetran writes into: the DuckDB catalog of a file named
#: warehouse.duckdb (on PostgreSQL, the test's database).
CATALOG = "warehouse"


def at(day_offset: int, hh: int, mm: int = 0) -> datetime:
    """A naive UTC timestamp on day D + day_offset."""
    return datetime.combine(D + timedelta(days=day_offset), time(hh, mm))


RUNS = [at(-2, 10), at(-1, 9), at(0, 23, 50), at(1, 0, 20), at(1, 0, 40)]

#: connection id -> (group, name, destination schema.table it feeds).
CONNECTIONS = {
    "c_always": ("g_wh", "shop", ("shop_public", "orders")),
    "c_recover": ("g_wh", "billing", ("billing_public", "invoices")),
    "c_gone": ("g_lake", "crm", ("crm_public", "accounts")),
    "c_fine": ("g_lake", "web", ("web_public", "events")),
    "c_flaky": ("g_lake", "leads", ("leads_public", "leads")),
}
SERVICES = {"c_fine": "google_analytics", "c_flaky": "salesforce"}
LISTED = {"c_gone": RUNS[:3]}
Issue = tuple[str, str, str]
STATUS: dict[str, list[tuple[datetime, str, list[Issue]]]] = {
    "c_always": [
        (RUNS[0], "broken", [("task", "grant_permissions", "Grant SELECT on schema shop")]),
    ],
    "c_recover": [
        (RUNS[0], "healthy", []),
        (RUNS[1], "broken", [("task", "reconnect", "Reconnect: the password changed")]),
        (RUNS[2], "healthy", []),
    ],
    "c_gone": [
        (RUNS[0], "healthy", [("warning", "schema_drift", "Column types changed")]),
        (RUNS[3], "deleted", []),
    ],
    "c_fine": [(RUNS[0], "healthy", [])],
    # Failing, then syncing (a retry: neither failing nor recovered), then failing again.
    "c_flaky": [(RUNS[0], "failing", []), (RUNS[1], "syncing", []), (RUNS[2], "failing", [])],
}
#: connection id -> [(start, minutes, status)].
SYNCS = {
    "c_always": [
        (at(-2, 6), 5, "COMPLETED"),
        (at(-2, 8), 10, "FAILURE_WITH_TASK"),
        (at(-1, 8), 10, "FAILURE_WITH_TASK"),
        (at(0, 8), 10, "FAILURE_WITH_TASK"),
    ],
    "c_recover": [
        (at(-2, 6), 5, "COMPLETED"),
        (at(-1, 6), 5, "COMPLETED"),
        (at(-1, 8), 7, "FAILURE_WITH_TASK"),
        (at(0, 10), 7, "FAILURE_WITH_TASK"),
        (at(0, 23), 20, "COMPLETED"),
        (at(1, 0), 10, "COMPLETED"),
    ],
    "c_gone": [(at(-2, 6), 5, "COMPLETED"), (at(0, 6), 5, "COMPLETED")],
    "c_fine": [(at(day, 6), 5, "COMPLETED") for day in (-2, -1, 0, 1)],
    "c_flaky": [
        (at(-2, 5), 5, "COMPLETED"),
        (at(-2, 9), 5, "FAILURE_WITH_TASK"),
        (at(0, 12), 5, "FAILURE_WITH_TASK"),
    ],
}
#: What the tests expect of c_recover's incident.
RECOVER_FAILED_AT = at(-1, 8, 7)
RECOVER_SUCCEEDED_AT = at(0, 23, 20)
ALWAYS_FAILED_AT = at(-2, 8, 10)
FLAKY_FAILED_AT = at(-2, 9, 5)


def _in_force(cid: str, run: datetime) -> str:
    return [s for s in STATUS[cid] if s[0] <= run][-1][1]


def _last(cid: str, run: datetime, status: str) -> datetime | None:
    ends = [s + timedelta(minutes=m) for s, m, st in SYNCS[cid] if st == status]
    done = [e for e in ends if e <= run]
    return max(done) if done else None


def _connections(t: mf.Tables) -> None:
    for cid, (group, name, _table) in CONNECTIONS.items():
        for run in LISTED.get(cid, RUNS):
            health = _in_force(cid, run)
            succeeded, failed = _last(cid, run, "COMPLETED"), _last(cid, run, "FAILURE_WITH_TASK")
            t.add(
                "connections",
                id=cid,
                group_id=group,
                service=SERVICES.get(cid, "postgres"),
                schema=name,
                paused=False,
                health=health,
                setup_state="broken" if health == "broken" else "connected",
                sync_state="scheduled",
                update_state="on_schedule",
                is_historical_sync=False,
                rescheduled_for=None,
                succeeded_at=succeeded,
                failed_at=failed,
                last_sync_completed_at=max(filter(None, (succeeded, failed)), default=None),
                last_sync_succeeded=failed is None
                or (succeeded is not None and succeeded > failed),
                sync_frequency=1440,
                schedule_type="auto",
                daily_sync_time=None,
                blocked_by=None,
                task_count=0,
                warning_count=0,
                created_at=at(-30, 0),
                observed_at=run,
            )


def _history(t: mf.Tables) -> None:
    for cid, changes in STATUS.items():
        for observed_at, health, issues in changes:
            change = mf.change_id(cid, observed_at)
            t.add(
                "connection_status_history",
                connection_id=cid,
                change_id=change,
                observed_at=observed_at,
                health=health,
                group_id=None if health == "deleted" else CONNECTIONS[cid][0],
                service=None if health == "deleted" else SERVICES.get(cid, "postgres"),
                paused=None if health == "deleted" else False,
            )
            for kind, code, message in issues:
                t.add(
                    "connection_status_issues",
                    connection_id=cid,
                    change_id=change,
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
            ended_at=run + timedelta(minutes=2),
            tap_version="0.0.0",
            connections_listing_complete=True,
            is_filtered=False,
            group_ids=None,
            connection_ids=None,
            services=None,
            connections_listed=sum(run in LISTED.get(c, RUNS) for c in CONNECTIONS),
            streams_completed="connection_status_history,connections,sync_history",
        )


def _syncs(t: mf.Tables) -> None:
    outcomes = {"COMPLETED": "succeeded", "FAILURE_WITH_TASK": "failed"}
    for cid, syncs in SYNCS.items():
        for start, minutes, status in syncs:
            t.add(
                "sync_history",
                connection_id=cid,
                started_at=start,
                ended_at=start + timedelta(minutes=minutes),
                status=status,
                outcome=outcomes[status],
                duration_seconds=float(minutes * 60),
                group_id=CONNECTIONS[cid][0],
                service=SERVICES.get(cid, "postgres"),
            )


def _tables(t: mf.Tables, catalog: str) -> None:
    for cid, (group, _name, (schema, table)) in CONNECTIONS.items():
        t.add(
            "connection_tables",
            connection_id=cid,
            group_id=group,
            service=SERVICES.get(cid, "postgres"),
            schema_name="public",
            table_name=table,
            enabled=True,
            schema_enabled=True,
            sync_mode="SOFT_DELETE",
            object_key=mf.object_key("public", table),
        )
        t.add(
            "connection_columns",
            connection_id=cid,
            schema_name="public",
            table_name=table,
            column_name="id",
            enabled=True,
            hashed=False,
            object_key=mf.object_key("public", table, "id"),
        )
        t.add(
            "table_lineage",
            connection_id=cid,
            group_id=group,
            service=SERVICES.get(cid, "postgres"),
            source_schema="public",
            source_table=table,
            destination_database=catalog,
            destination_schema=schema,
            destination_table=table,
            destination_fqn=f"{catalog}.{schema}.{table}",
            enabled=True,
            schema_enabled=True,
            table_enabled=True,
            sync_mode="SOFT_DELETE",
        )
    t.add(
        "schema_changes",
        connection_id="c_fine",
        object_key=mf.object_key("public", "events", "id"),
        observed_at=RUNS[1],
        change_type="hashed",
        previous_observed_at=RUNS[0],
        group_id="g_lake",
        service="google_analytics",
        object_type="column",
        schema_name="public",
        table_name="events",
        column_name="id",
        previous_enabled=True,
        enabled=True,
        previous_sync_mode=None,
        sync_mode=None,
        previous_hashed=False,
        hashed=True,
    )


def _account(t: mf.Tables, catalog: str) -> None:
    mf.add_account(t, at, destination_service="duckdb", database=catalog)
    t.add("connector_types", id="google_analytics", name="Google Analytics")
    t.add("connector_types", id="salesforce", name="Salesforce")
    t.add(
        "webhook_events",
        seq=1,
        event_id="e1",
        received_at=at(1, 0, 11),
        event="sync_end",
        created=at(1, 0, 10),
        connection_id="c_recover",
        sync_id="s1",
        status="SUCCESSFUL",
        signature_verified=True,
    )


def tables(catalog: str = CATALOG) -> mf.Tables:
    t = mf.Tables()
    _connections(t)
    _history(t)
    _syncs(t)
    _tables(t, catalog)
    _account(t, catalog)
    return t


def build(path: Path) -> mf.Tables:
    """The tap's tables at ``path`` (schema fivetran_meta), plus the destination table of
    c_always the consumer's models read (the others are declared, never read)."""
    import duckdb

    t = mf.build(path, tables())
    con = duckdb.connect(str(path))
    try:
        con.execute(SHOP_SCHEMA)
        con.execute(SHOP_TABLE)
    finally:
        con.close()
    return t


SHOP_SCHEMA = "create schema shop_public"
SHOP_TABLE = "create table shop_public.orders as select 1 as id, 10.0 as amount"
PG_TYPES = {
    "timestamp": "timestamp",
    "boolean": "boolean",
    "bigint": "bigint",
    "double": "double precision",
    "varchar": "text",
    "date": "date",
}


def build_postgres(dsn: str, database: str) -> mf.Tables:
    """The same tables in a new PostgreSQL database ``database`` (every row twice)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'create database "{database}"')
    t = tables(database)
    target = dsn.rsplit("/", 1)[0] + f"/{database}"
    with psycopg.connect(target, autocommit=True) as con:
        con.execute(f"create schema {mf.SCHEMA}")
        for table, rows in t.rows.items():
            types: dict[str, str] = {}
            for row in rows:
                for name, value in row.items():
                    if value is not None and not types.get(name):
                        types[name] = PG_TYPES[mf.TYPES[type(value)]]
                    else:
                        types.setdefault(name, "")
            # A column null in every row: text (the tap's schemas say what; nulls fit any).
            names = list(types)
            ddl = ", ".join(f'"{n}" {types[n] or "text"}' for n in names)
            con.execute(f'create table {mf.SCHEMA}."{table}" ({ddl})')
            quoted = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join("%s" for _ in names)
            values = [[row.get(n) for n in names] for row in rows]
            with con.cursor() as cur:
                for _copy in range(2):
                    cur.executemany(
                        f'insert into {mf.SCHEMA}."{table}" ({quoted}) values ({marks})', values
                    )
        con.execute(SHOP_SCHEMA)
        con.execute(SHOP_TABLE)
    return t
