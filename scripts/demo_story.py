"""Two steps of the demo between its tap runs (see scripts/demo).

``changes``: through the simulator's admin API, what happens in an account between two
runs: a healthy connection breaks (a task to act on), a table is disabled, another's
sync mode changes, a new table appears in the source. The second run then has status
history, schema changes and errors to show.

``project``: writes a sample dbt project (the demo's stand-in for *your* project) that
installs the package in transform/ and declares sources on Fivetran destination tables,
read from the warehouse's table_lineage: up to two enabled tables per connection. Its
``fivetran_meta__dbt_source_health`` then tells which of these sources are at risk.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "fivetran_meta"
ROOT = Path(__file__).resolve().parents[1]
TABLES_PER_CONNECTION = 2


def _admin(admin_url: str, action: str, body: dict) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback simulator
        f"{admin_url}/{action}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


def changes(warehouse: str, sim_file: str) -> list[str]:
    """Apply the story's changes in the simulator; return what was done, in words."""
    admin = json.loads(Path(sim_file).read_text())["admin"]
    con = duckdb.connect(warehouse, read_only=True)
    healthy = [
        r[0]
        for r in con.execute(
            f"""select id from {SCHEMA}.connections c where health = 'healthy'
            and exists (select 1 from {SCHEMA}.table_lineage l where l.connection_id = c.id)
            order by id"""
        ).fetchall()
    ]
    tables = con.execute(
        f"""select t.connection_id, t.schema_name, t.table_name, t.sync_mode
        from {SCHEMA}.connection_tables t
        join {SCHEMA}.connections c on c.id = t.connection_id
        where t.enabled and t.schema_enabled and c.health = 'healthy'
        order by t.connection_id, t.schema_name, t.table_name"""
    ).fetchall()
    con.close()
    done = []
    victim = healthy[0]
    _admin(
        admin,
        "mutate-connection",
        {
            "id": victim,
            "setup_state": "broken",
            "tasks": [{"code": "reconnect", "message": "Reconnect: the source password changed"}],
        },
    )
    done.append(f"connection {victim} broke (task 'reconnect')")
    by_connection: dict[str, list[tuple[str, str, str | None]]] = {}
    for connection_id, schema, table, mode in tables:
        if connection_id != victim:
            by_connection.setdefault(connection_id, []).append((schema, table, mode))
    picked = [rows[0] for rows in list(by_connection.values())[:3]]
    ids = list(by_connection)[:3]
    (c1, (s1, t1, _)), (c2, (s2, t2, m2)), (c3, (s3, _, _)) = zip(ids, picked, strict=True)
    _admin(admin, "edit-table", {"id": c1, "schema": s1, "table": t1, "enabled": False})
    done.append(f"table {s1}.{t1} of {c1} disabled")
    new_mode = "HISTORY" if m2 != "HISTORY" else "SOFT_DELETE"
    _admin(admin, "edit-table", {"id": c2, "schema": s2, "table": t2, "sync_mode": new_mode})
    done.append(f"table {s2}.{t2} of {c2} switched to {new_mode}")
    _admin(admin, "edit-table", {"id": c3, "schema": s3, "table": "new_orders"})
    done.append(f"table {s3}.new_orders added to {c3}")
    return done


def project(warehouse: str, out: Path) -> int:
    """Write the sample consumer project; return how many sources it declares."""
    con = duckdb.connect(warehouse, read_only=True)
    rows = con.execute(
        f"""select connection_id, destination_database, destination_schema, destination_table
        from (
            select l.*, row_number() over (
                partition by connection_id order by destination_fqn) as nth
            from {SCHEMA}.table_lineage l where l.enabled
        ) where nth <= {TABLES_PER_CONNECTION}
        order by destination_schema, destination_table"""
    ).fetchall()
    con.close()
    sources: dict[tuple[str | None, str], list[str]] = {}
    for _connection, database, schema, table in rows:
        sources.setdefault((database, schema), []).append(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "models").mkdir(exist_ok=True)
    (out / "dbt_project.yml").write_text(
        "# Written by scripts/demo_story.py: a stand-in for your own dbt project.\n"
        "name: demo_analytics\nversion: '1.0'\nconfig-version: 2\nprofile: fivetran_meta\n"
    )
    (out / "packages.yml").write_text(
        f"packages:\n  - local: {json.dumps(str(ROOT / 'transform'))}\n"
    )
    entries, names = [], Counter[str]()
    for (database, schema), tables in sorted(
        sources.items(), key=lambda kv: (kv[0][1], str(kv[0][0]))
    ):
        names[schema] += 1  # the same schema name in two destinations: two sources
        entries.append(
            {
                "name": schema if names[schema] == 1 else f"{schema}_{names[schema]}",
                "database": database,
                "schema": schema,
                "tables": [{"name": table} for table in sorted(set(tables))],
            }
        )
    spec = {"version": 2, "sources": entries, **_alerts_and_exposure(entries)}
    (out / "models" / "sources.yml").write_text(json.dumps(spec, indent=1) + "\n")
    return sum(len(set(t)) for t in sources.values())


def _alerts_and_exposure(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Put the package's alert test on every source table (severity warn: the demo's build
    reports WARN for the sources at risk and goes on) and declare one dashboard exposure
    on all of them, so fivetran_meta__dbt_impact has something downstream to show."""
    alert = {"fivetran_meta.fed_by_healthy_connection": {"config": {"severity": "warn"}}}
    for entry in entries:
        for table in entry["tables"]:
            table["data_tests"] = [alert]
    refs = [f"source('{e['name']}', '{t['name']}')" for e in entries for t in e["tables"]]
    if not refs:
        return {}
    dashboard = {
        "name": "operations_dashboard",
        "type": "dashboard",
        "owner": {"name": "Data team", "email": "data@example.com"},
        "depends_on": refs,
    }
    return {"exposures": [dashboard]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="step", required=True)
    change = sub.add_parser("changes")
    change.add_argument("warehouse")
    change.add_argument("sim_file")
    proj = sub.add_parser("project")
    proj.add_argument("warehouse")
    proj.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.step == "changes":
        for line in changes(args.warehouse, args.sim_file):
            print(f"demo: in the simulator, {line}")
    else:
        count = project(args.warehouse, args.out)
        print(f"demo: sample dbt project {args.out} with {count} sources on Fivetran tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
