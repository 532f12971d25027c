"""Schema-config streams end to end against the Fivetran simulator (real HTTP on loopback).

Shows the request cost per connection (one bulk ``/schemas`` call; plus one ``/columns``
call per eligible table only with ``column_details``) and that row counts equal what
the simulator holds.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pytest

from tap_fivetran_meta.tap import TapFivetranMeta

from tap_runner import TapRun, catalog_selecting

if TYPE_CHECKING:
    from collections.abc import Iterator

    import requests

sim_module = pytest.importorskip("fivetran_sim")
schemas_module = pytest.importorskip("fivetran_sim.schemas")
Simulator = sim_module.Simulator
SimConfig = sim_module.SimConfig

SCHEMA_STREAMS = {
    "connection_schema_settings",
    "connection_schemas",
    "connection_tables",
    "connection_columns",
    "table_lineage",
}
BULK = re.compile(r"^/v1/connections/([^/]+)/schemas$")
DETAIL = re.compile(r"^/v1/connections/([^/]+)/schemas/([^/]+)/tables/([^/]+)/columns$")


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with Simulator(SimConfig(connections=30, seed=1, api_key="k", api_secret="s")) as simulator:
        yield simulator


def run_against(sim: Any, streams: set[str], **config: Any) -> tuple[TapRun, Counter[str]]:
    """Run the tap in-process; return its messages and the paths it requested."""
    sim.reset_counts()
    tap = TapFivetranMeta(
        config={"api_key": "k", "api_secret": "s", "api_url": sim.url, **config},
        catalog=catalog_selecting(streams),
        parse_env_config=False,
    )
    paths: Counter[str] = Counter()

    def record(response: requests.Response, *_: Any, **__: Any) -> None:
        paths[urlparse(response.url).path] += 1

    tap.http_session.hooks["response"].append(record)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return TapRun(messages=messages, tap=tap), paths


def per_connection(paths: Counter[str], pattern: re.Pattern[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path, n in paths.items():
        if match := pattern.match(path):
            counts[unquote(match.group(1))] += n
    return counts


def eligible_tables(sim: Any, run: TapRun) -> dict[str, list[Any]]:
    """Connection id -> (schema name, table) that qualify for a ``/columns`` call (per the tap's rule)."""
    connected = {r["id"] for r in run.records["connections"] if r["setup_state"] == "connected"}
    result: dict[str, list[Any]] = {}
    for conn in sim.dataset.connections.values():
        if not conn.has_schema_config or conn.vanished:
            continue
        shape = schemas_module.build_shape(conn)
        result[conn.id] = [
            (schema.name, table)
            for schema in shape.schemas
            for table in schema.tables
            if conn.id in connected and schema.enabled and table.enabled and table.supports_columns
        ]
    return result


def test_bulk_only_one_request_per_connection_and_rows_equal_the_simulator(
    sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        run, paths = run_against(sim, {"connections", "destinations", *SCHEMA_STREAMS})
    connection_ids = {r["id"] for r in run.records["connections"]}
    assert len(connection_ids) == 30

    bulk = per_connection(paths, BULK)
    assert bulk == Counter(dict.fromkeys(connection_ids, 1))
    assert per_connection(paths, DETAIL) == Counter()
    server = sim.request_counts()
    assert server["GET /v1/connections/{id}/schemas"] == 30
    assert not [k for k in server if k.endswith("/columns")]

    expected = sim.expected_counts()
    for stream in (
        "connection_schemas",
        "connection_tables",
        "connection_columns",
        "table_lineage",
    ):
        assert run.count(stream) == expected[stream], stream
    with_config = [c for c in sim.dataset.connections.values() if c.has_schema_config]
    assert run.count("connection_schema_settings") == len(with_config)
    lineage = run.tap.streams["table_lineage"]
    assert lineage.skip_counts.get("NotFound_SchemaConfig", 0) == 30 - len(with_config)

    databases = {r["id"]: r["database"] for r in run.records["destinations"]}
    for row in run.records["table_lineage"]:
        assert row["lineage_rule"] == "name_in_destination"
        assert row["destination_database"] == databases[row["group_id"]]
        assert row["destination_fqn"].endswith(
            f"{row['destination_schema']}.{row['destination_table']}"
        )
    keys = {
        (r["connection_id"], r["source_schema"], r["source_table"])
        for r in run.records["table_lineage"]
    }
    assert len(keys) == run.count("table_lineage")  # one row per table pair

    print(f"\nbulk only, 30 connections: {sum(server.values())} requests in total")
    for key, count in server.items():
        print(f"  {count:5d}  {key}")


def test_column_details_one_more_request_per_eligible_table(sim: Any) -> None:
    run, paths = run_against(sim, {"connections", *SCHEMA_STREAMS}, column_details=True)
    eligible = eligible_tables(sim, run)
    expected_calls = Counter({cid: len(tables) for cid, tables in eligible.items() if tables})

    assert per_connection(paths, BULK) == Counter(dict.fromkeys(eligible, 1)) + Counter(
        {c.id: 1 for c in sim.dataset.connections.values() if not c.has_schema_config}
    )
    assert per_connection(paths, DETAIL) == expected_calls
    detail_paths = [p for p in paths if DETAIL.match(p)]
    assert all(paths[p] == 1 for p in detail_paths)  # each table at most once
    server = sim.request_counts()
    assert server["GET /v1/connections/{id}/schemas/{schema}/tables/{table}/columns"] == sum(
        expected_calls.values()
    )

    # Full lists for eligible tables, bulk (user-changed) columns for the others.
    eligible_ids = {(cid, s, t.name) for cid, tables in eligible.items() for s, t in tables}
    expected_rows = 0
    for conn in sim.dataset.connections.values():
        if not conn.has_schema_config:
            continue
        for schema in schemas_module.build_shape(conn).schemas:
            for table in schema.tables:
                full = (conn.id, schema.name, table.name) in eligible_ids
                expected_rows += table.columns if full else len(table.modified)
    assert run.count("connection_columns") == expected_rows
    assert run.count("connection_columns") <= sim.expected_counts()["connection_columns_full"]
    sources = Counter(r["config_source"] for r in run.records["connection_columns"])
    assert sources["columns_endpoint"] == sum(
        t.columns for tables in eligible.values() for _, t in tables
    )
    keys = {
        (r["connection_id"], r["schema_name"], r["table_name"], r["column_name"])
        for r in run.records["connection_columns"]
    }
    assert len(keys) == run.count("connection_columns")  # de-duplicated

    print(
        f"\ncolumn_details, 30 connections: {sum(server.values())} requests in total, "
        f"{sum(expected_calls.values())} per-table /columns calls"
    )
    for key, count in server.items():
        print(f"  {count:5d}  {key}")


def test_column_budget_against_the_simulator(sim: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        run, paths = run_against(
            sim, {"connection_columns"}, column_details=True, column_request_budget=10
        )
    assert sum(per_connection(paths, DETAIL).values()) == 10
    (warning,) = [
        r.getMessage() for r in caplog.records if "column_request_budget" in r.getMessage()
    ]
    assert "budget of 10 requests spent" in warning
    assert run.count("connection_columns") > 0


DOCS = Path(__file__).resolve().parents[1] / "docs" / "lineage.md"


def _load_duckdb(run: TapRun, tmp_path: Path) -> Any:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("create schema fivetran_meta")
    for stream in ("connections", "table_lineage", "connection_columns"):
        path = tmp_path / f"{stream}.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in run.records[stream]))
        con.execute(
            f"create table fivetran_meta.{stream} as "
            f"select * from read_json_auto('{path}', format='newline_delimited')"
        )
    return con


def test_documented_queries_run_on_the_tap_output(sim: Any, tmp_path: Path) -> None:
    run, _ = run_against(sim, {"connections", "table_lineage", "connection_columns"})
    con = _load_duckdb(run, tmp_path)
    queries = re.findall(r"```sql\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert len(queries) == 3
    for query in queries:
        con.execute(query).fetchall()

    rows = con.execute(queries[0]).fetchall()
    health = {r["id"]: r for r in run.records["connections"]}
    expected = sorted(
        row["destination_fqn"]
        for row in run.records["table_lineage"]
        if row["enabled"]
        and (
            health[row["connection_id"]]["health"] in {"broken", "failing", "incomplete"}
            # SQL's "not is_fresh": null (a manual schedule) is not stale
            or health[row["connection_id"]]["is_fresh"] is False
        )
    )
    assert sorted(r[0] for r in rows) == expected
    assert expected  # the simulator has stale and failing connections with a config
