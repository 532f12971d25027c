"""Print the demo's report from the warehouse: the tap's tables and the dbt models.

The warehouse is the demo's DuckDB file or any SQLAlchemy URL (PostgreSQL, Snowflake,
BigQuery, Redshift, Databricks: scripts/warehouse_access.py), given as the argument or in
FIVETRAN_META_REPORT_URL. With ``--html PATH`` it also writes a self-contained HTML report
(inline SVG charts, no script, no network: see scripts/report_html.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_html import ReportData, render
from warehouse_access import URL_ENV, Warehouse, WarehouseError, open_warehouse

#: Where the tap's tables and the models are (the dbt utilities' settings of the same names).
SCHEMA = os.environ.get("FIVETRAN_META_SOURCE_SCHEMA", "fivetran_meta")
MODELS = os.environ.get("FIVETRAN_META_MODELS_SCHEMA", "fivetran_meta_models")
MODEL_NAMES = (
    "connection_status",
    "sync_metrics",
    "connection_daily_health",
    "connection_uptime",
    "connection_observations",
    "errors_and_warnings",
    "schema_changelog",
    "transformation_status",
    "dbt_source_health",
    "syncs",
)


#: Models of the incidents section (issue 23).
INCIDENT_MODEL_NAMES = (
    "incidents",
    "connection_reliability",
    "reliability_rollup",
    "source_alerts",
    "dbt_impact",
)


def m(name: str) -> str:
    """A model's relation."""
    return f"{MODELS}.fivetran_meta__{name}"


#: Rows a console list shows before "and N more".
LIMIT = 10
LABEL = (
    "coalesce(s.group_name, s.group_id) || ' / ' || coalesce(s.connection_name, s.connection_id)"
)
#: Since when each connection has had its current health (its latest status change).
SINCE = f"""(select connection_id, max(observed_at) as since from {m("connection_observations")}
    where is_status_change group by connection_id)"""


#: Downstream dbt nodes per connection feeding a source at risk: "name (type)", exposures first.
IMPACT = f"""(select connection_id, count(distinct downstream_unique_id) as nodes,
    string_agg(distinct downstream_name || ' (' || downstream_type || ')', ', '
        order by downstream_name || ' (' || downstream_type || ')') as names
    from {m("dbt_impact")} group by connection_id)"""

#: Printed first: what is broken right now.
INCIDENT_QUERIES = {
    "Open incidents, latest first": f"""
        select {LABEL} as connection, i.worst_health as health, i.started_at,
               cast(i.duration_minutes / 60.0 as decimal(10, 1)) as hours,
               coalesce(i.cause_codes, '') as cause, i.dbt_sources_affected as dbt_sources,
               coalesce(d.nodes, 0) as dbt_nodes_downstream
        from {m("incidents")} i
        join {m("connection_status")} s on s.connection_id = i.connection_id
        left join {IMPACT} d on d.connection_id = i.connection_id
        where i.is_open order by i.started_at desc, connection""",
}

QUERIES = {
    "Connections by health": f"""
        select health, count(*) as connections
        from {m("connection_status")} group by health order by connections desc, health""",
    "Connections that need attention, latest breakage first": f"""
        select {LABEL} as connection, s.health, x.since,
               cast(u.uptime_7d * 100 as decimal(5, 1)) as uptime_7d_pct,
               coalesce(s.task_codes, s.warning_codes, '') as issues
        from {m("connection_status")} s
        left join {SINCE} x on x.connection_id = s.connection_id
        left join {m("connection_uptime")} u on u.connection_id = s.connection_id
        where s.health not in ('healthy', 'syncing', 'paused', 'historical_sync', 'first_sync')
           or s.is_sync_stuck
        order by x.since desc nulls last, connection""",
    "Deleted connections": f"""
        select {LABEL} as connection, s.deleted_at
        from {m("connection_status")} s where s.is_deleted order by s.deleted_at desc""",
    "Stuck syncs (running far longer than this connection's syncs take)": f"""
        select {LABEL} as connection, s.running_sync_started_at, s.running_sync_minutes,
               cast(s.sync_duration_p95_seconds / 60 as decimal(10, 1)) as p95_min
        from {m("connection_status")} s where s.is_sync_stuck
        order by s.running_sync_minutes desc""",
    "Uptime, hour-weighted (paused and unobserved time left out), lowest first": f"""
        select {LABEL} as connection,
               cast(u.uptime_7d * 100 as decimal(5, 1)) as uptime_7d_pct,
               cast(u.uptime_30d * 100 as decimal(5, 1)) as uptime_30d_pct,
               cast(u.hours_counted_7d as decimal(10, 1)) as hours_counted_7d
        from {m("connection_uptime")} u
        join {m("connection_status")} s on s.connection_id = u.connection_id
        where u.uptime_7d is not null order by u.uptime_7d, connection""",
    "Sync outcomes per day (all connections)": f"""
        select sync_day, sum(syncs) as syncs, sum(syncs_succeeded) as ok,
               sum(syncs_failed) as failed, sum(syncs_canceled) as canceled,
               sum(syncs_rescheduled) as rescheduled, sum(syncs_truncated) as truncated,
               sum(syncs_running) as running, sum(syncs_other) as other,
               cast(round(100.0 * sum(syncs_failed) / nullif(sum(syncs_finished), 0), 1)
                    as decimal(5, 1)) as failure_pct
        from {m("sync_metrics")} group by sync_day order by sync_day""",
    "Blocked connections (their agent, proxy agent or private link is down)": f"""
        select connection_id, service, blocked_by, minutes_since_success as min_since_ok
        from {m("connection_status")} where health = 'blocked'
        order by blocked_by, connection_id limit 8""",
    "Recent failed syncs (outcome failed; rescheduled and canceled are not failures)": f"""
        select connection_id, started_at, ended_at,
               cast(duration_seconds / 60 as decimal(10, 1)) as minutes
        from {m("syncs")} where outcome = 'failed'
        order by started_at desc limit 8""",
    "Open tasks and warnings": f"""
        select {LABEL} as connection, e.kind, e.code, e.first_seen_at,
               left(coalesce(e.message, ''), 60) as message
        from {m("errors_and_warnings")} e
        join {m("connection_status")} s on s.connection_id = e.connection_id
        where e.is_open order by e.first_seen_at desc, connection""",
    "Transformation projects in error": f"""
        select project_id, project_status, project_errors
        from {m("transformation_status")}
        where is_project_failing and transformation_id is null order by project_id""",
    "Schema changes": f"""
        select observed_at, connection_id, change_type, object_type,
               coalesce(schema_name || '.' || table_name, object_key) as object,
               coalesce(column_name, '') as column_name
        from {m("schema_changelog")} order by observed_at, connection_id limit 12""",
    "dbt sources fed by connections at risk": f"""
        select source_name || '.' || source_table as dbt_source, connection_id, risk_reason,
               last_success_at
        from {m("dbt_source_health")} where is_at_risk
        order by risk_reason, dbt_source""",
    "Transformations": f"""
        select transformation_id, transformation_type, status, last_ended_at, project_id
        from {m("transformation_status")} order by transformation_id limit 6""",
}


def show(con: Warehouse, title: str, sql: str) -> None:
    print(f"\n== {title}")
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    everything = result.fetchall()
    if not everything:
        print("  (none)")
        return
    rows = everything[:LIMIT]
    widths = [max(len(str(x)) for x in [n, *(r[i] for r in rows)]) for i, n in enumerate(names)]
    print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    if len(everything) > LIMIT:
        print(f"  ... and {len(everything) - LIMIT} more")


def table_counts(con: Warehouse, schema: str) -> dict[str, int]:
    counts = {}
    for name in con.tables(schema):
        row = con.execute(f"select count(*) from {con.relation(schema, name)}").fetchone()
        counts[name.lower()] = row[0] if row else 0
    return counts


def deleted_connection_rows(con: Warehouse, schema: str) -> dict[str, int]:
    """Rows per table that belong to connections deleted in Fivetran: the loader keeps
    them (history stays), while the simulator no longer counts them."""
    literal = "'" + schema.replace("'", "''") + "'"
    columns = con.execute(
        "select table_name, column_name from information_schema.columns"
        f" where table_schema = {literal} and (column_name = 'connection_id'"
        " or (table_name = 'connections' and column_name = 'id'))"
    ).fetchall()
    history = con.relation(schema, "connection_status_history")
    deleted = f"select connection_id from {history} where health = 'deleted'"
    return {
        table: (
            con.execute(
                f"select count(*) from {con.relation(schema, table)} where {column} in ({deleted})"
            ).fetchone()
            or (0,)
        )[0]
        for table, column in columns
    }


def expected_counts(sim_file: str, start: str | None = None) -> dict[str, int]:
    """The simulator's row counts; sync history read from ``start`` (the tap's start_date)."""
    with open(sim_file) as f:
        admin = json.load(f)["admin"]
    query = f"?{urllib.parse.urlencode({'start': start})}" if start else ""
    with urllib.request.urlopen(f"{admin}/expected-counts{query}", timeout=10) as resp:  # noqa: S310
        return json.load(resp)


def report_data(con: Warehouse) -> ReportData:
    """Everything the HTML report draws, read from the models."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return con.execute(sql).fetchall()

    labels = dict(rows(f"select s.connection_id, {LABEL} from {m('connection_status')} s"))
    return ReportData(
        health_counts=rows(
            f"select health, count(*) from {m('connection_status')} group by 1 order by 2 desc, 1"
        ),
        daily_health=rows(
            f"""select connection_id, day, main_health, hours_observed
                from {m("connection_daily_health")}"""
        ),
        daily_syncs=rows(
            f"""select connection_id, sync_day, syncs_succeeded, syncs_failed, syncs_canceled,
                syncs_rescheduled, syncs_truncated, syncs_other from {m("sync_metrics")}"""
        ),
        connections=[
            (cid, labels[cid], health)
            for cid, health in rows(
                f"select connection_id, health from {m('connection_status')} s "
                f"order by health, {LABEL}"
            )
        ],
        durations=[
            r[0]
            for r in rows(
                f"select duration_seconds from {m('syncs')} "
                "where duration_seconds is not null and ended_at is not null"
            )
        ],
        sources=rows(
            f"""select source_name || '.' || source_table, connection_id,
                coalesce(risk_reason, health), is_at_risk, last_success_at, is_fed_by_fivetran
                from {m("dbt_source_health")} order by is_at_risk desc, 1"""
        ),
        changes=[
            (at, labels.get(cid, cid), change, obj)
            for at, cid, change, obj in rows(
                f"""select observed_at, connection_id, change_type,
                    coalesce(schema_name || '.' || table_name, object_key)
                    || coalesce('.' || column_name, '')
                    from {m("schema_changelog")} order by observed_at desc, connection_id"""
            )
        ],
        attention=rows(
            f"""select {LABEL}, s.health, x.since, u.uptime_7d
                from {m("connection_status")} s
                left join {SINCE} x on x.connection_id = s.connection_id
                left join {m("connection_uptime")} u on u.connection_id = s.connection_id
                where s.health not in ('healthy', 'syncing', 'paused', 'historical_sync',
                    'first_sync') or s.is_sync_stuck
                order by x.since desc nulls last, 1"""
        ),
        deleted=rows(
            f"select {LABEL}, s.deleted_at from {m('connection_status')} s where s.is_deleted "
            "order by s.deleted_at desc"
        ),
        stuck=rows(
            f"""select {LABEL}, s.running_sync_started_at, s.running_sync_minutes,
                cast(s.sync_duration_p95_seconds / 60 as decimal(10, 1))
                from {m("connection_status")} s where s.is_sync_stuck
                order by s.running_sync_minutes desc"""
        ),
        uptime=rows(
            f"""select {LABEL}, u.uptime_7d, u.uptime_30d, u.hours_counted_7d
                from {m("connection_uptime")} u
                join {m("connection_status")} s on s.connection_id = u.connection_id
                order by u.uptime_7d nulls last, 1"""
        ),
        issues=rows(
            f"""select {LABEL}, e.kind, e.code, e.first_seen_at, e.message
                from {m("errors_and_warnings")} e
                join {m("connection_status")} s on s.connection_id = e.connection_id
                where e.is_open order by e.first_seen_at desc, 1"""
        ),
        project_errors=rows(
            f"""select project_id, project_status, project_errors from {m("transformation_status")}
                where is_project_failing and transformation_id is null order by 1"""
        ),
        generated_from=to_the_second(
            con.execute("select max(last_observed_at) from " + m("connection_status")).fetchone()[0]
        ),
        **incident_data(con),
    )


def to_the_second(value: Any) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' (formatted here: each warehouse's SQL differs)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)[:19]


def incident_data(con: Warehouse) -> dict[str, Any]:
    """The incidents section's rows: incidents (open first, with the dbt nodes downstream of
    the sources their connection feeds) and incidents / MTTR per service."""
    incidents = con.execute(
        f"""select {LABEL}, i.worst_health, i.started_at, i.ended_at, i.is_open,
            i.duration_minutes, i.cause_codes, i.cause_messages, i.dbt_sources_affected,
            case when i.is_open then d.names end
            from {m("incidents")} i
            join {m("connection_status")} s on s.connection_id = i.connection_id
            left join {IMPACT} d on d.connection_id = i.connection_id
            order by i.is_open desc, i.started_at desc, 1"""
    ).fetchall()
    reliability = con.execute(
        f"""select grain_name, connections, incidents_30d, mttr_minutes
            from {m("reliability_rollup")}
            where grain = 'service' and (incidents_30d > 0 or mttr_minutes is not null)
            order by incidents_30d desc, mttr_minutes desc nulls last, grain_name"""
    ).fetchall()
    return {"incidents": incidents, "reliability": reliability}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "warehouse",
        nargs="?",
        default=os.environ.get(URL_ENV),
        help=f"DuckDB file or SQLAlchemy URL (default: ${URL_ENV})",
    )
    parser.add_argument("--expected", help="simulator ready-file: compare row counts")
    parser.add_argument(
        "--expected-start", help="the tap's start_date: the sync-history window compared"
    )
    parser.add_argument("--html", type=Path, help="also write the HTML report here")
    args = parser.parse_args()
    if not args.warehouse:
        parser.error(f"give the warehouse (DuckDB file or SQLAlchemy URL) or set {URL_ENV}")
    try:
        con = open_warehouse(args.warehouse)
    except WarehouseError as error:
        print(error, file=sys.stderr)
        return 2
    counts = table_counts(con, SCHEMA)
    expected = expected_counts(args.expected, args.expected_start) if args.expected else {}
    print(
        "== Tables loaded (rows)"
        + ("   [simulator's own count, plus deleted connections' rows]" if expected else "")
    )
    kept = deleted_connection_rows(con, SCHEMA) if expected else {}
    mismatches = 0
    for name, rows in counts.items():
        want = expected.get(name)
        if want is not None and kept.get(name):
            want += kept[name]  # the deleted connections' rows stay in the warehouse
        mark = "" if want is None else (f"  [{want}]" if want == rows else f"  [MISMATCH: {want}]")
        mismatches += bool(want is not None and want != rows)
        print(f"  {name:<28} {rows:>7}{mark}")
    models = table_counts(con, MODELS)
    print("\n== dbt models (rows)")
    names = MODEL_NAMES + INCIDENT_MODEL_NAMES
    for name in names:
        print(f"  fivetran_meta__{name:<26} {models.get(f'fivetran_meta__{name}', 'missing'):>7}")
    missing = [n for n in names if f"fivetran_meta__{n}" not in models]
    for title, sql in {**INCIDENT_QUERIES, **QUERIES}.items():
        if not missing:
            show(con, title, sql)
    if args.html and not missing:
        args.html.write_text(render(report_data(con)), encoding="utf-8")
        print(f"\nreport: wrote {args.html} (open it in a browser; no network needed)")
    if missing:
        print(f"report: models missing: {', '.join(missing)} (did dbt build run?)", file=sys.stderr)
    return 1 if mismatches or missing else 0


if __name__ == "__main__":
    sys.exit(main())
