"""Print a short health report from the demo warehouse (DuckDB)."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request

import duckdb

SCHEMA = "fivetran_meta"

QUERIES = {
    "Connections by health": f"""
        select health, count(*) as connections
        from {SCHEMA}.connections group by health order by connections desc""",
    "Stalest connections (longest since last success)": f"""
        select id, service, schema as name, health, minutes_since_last_success
        from {SCHEMA}.connections
        where not paused
        order by minutes_since_last_success desc nulls first limit 8""",
    "Broken or failing connections and what to do": f"""
        select id, service, health, last_sync_completed_at, task_count
        from {SCHEMA}.connections where health in ('broken', 'failing')
        order by last_sync_completed_at desc nulls last limit 8""",
    "Blocked connections (their agent, proxy agent or private link is down)": f"""
        select id, service, schema as name, blocked_by, minutes_since_last_success
        from {SCHEMA}.connections where health = 'blocked'
        order by blocked_by, id limit 8""",
}

FAILED_SYNCS = f"""
    select connection_id, started_at, status, duration_seconds
    from {SCHEMA}.sync_history
    where outcome = 'failed'
    order by started_at desc limit 8"""


def show(con: duckdb.DuckDBPyConnection, title: str, sql: str) -> None:
    print(f"\n== {title}")
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    rows = result.fetchall()
    widths = [max(len(str(x)) for x in [n, *(r[i] for r in rows)]) for i, n in enumerate(names)]
    print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
        ).fetchall()
    ]
    return {
        n: con.execute(f'select count(*) from {SCHEMA}."{n}"').fetchone()[0] for n in sorted(names)
    }


def expected_counts(sim_file: str) -> dict[str, int]:
    with open(sim_file) as f:
        admin = json.load(f)["admin"]
    with urllib.request.urlopen(f"{admin}/expected-counts", timeout=10) as resp:  # noqa: S310
        return json.load(resp)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("warehouse")
    parser.add_argument("--expected", help="simulator ready-file: compare row counts")
    args = parser.parse_args()
    con = duckdb.connect(args.warehouse, read_only=True)
    counts = tables(con)
    expected = expected_counts(args.expected) if args.expected else {}
    print("== Tables loaded (rows)" + ("   [simulator's own count]" if expected else ""))
    mismatches = 0
    for name, rows in counts.items():
        want = expected.get(name)
        mark = "" if want is None else (f"  [{want}]" if want == rows else f"  [MISMATCH: {want}]")
        mismatches += bool(want is not None and want != rows)
        print(f"  {name:<28} {rows:>7}{mark}")
    for title, sql in QUERIES.items():
        show(con, title, sql)
    if "sync_history" in counts:
        show(con, "Recent failed syncs", FAILED_SYNCS)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
