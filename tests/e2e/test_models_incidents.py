"""Incidents, reliability, downstream impact and the alert test (issue 23), offline.

tests/incident_fixtures.py writes five tap runs' tables into a DuckDB file (dates relative
to today, every raw row twice); a consumer dbt project installs transform/ as a local
package and has a model, a second model on it and an exposure downstream of a source fed
by a connection broken at every run (and a snapshot and a seed's dependent on the first
model), plus sources fed by a deleted connection, by one that
broke and recovered and by a healthy one, each with the generic test
fivetran_meta.fed_by_healthy_connection (severity from a var, warn by default). dbt runs
with the demo's dbt-duckdb utility (offline) and, the same project and rows, with its
dbt-postgres utility on the test PostgreSQL (FTM_TEST_PG_DSN, like every e2e test).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import incident_fixtures as fx
import pytest

from conftest import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

MODELS = "fivetran_meta_models"
ALERT = "fivetran_meta.fed_by_healthy_connection"
SEVERITY = "{{ var('source_alert_severity', 'warn') }}"


def _source(name: str, schema: str, table: str) -> dict[str, Any]:
    test = {ALERT: {"config": {"severity": SEVERITY}}}
    return {"name": name, "schema": schema, "tables": [{"name": table, "data_tests": [test]}]}


def _consumer(root: Path) -> Path:
    project = root / "consumer"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: consumer\nversion: '1.0'\nconfig-version: 2\nprofile: fivetran_meta\n"
        "models:\n  consumer:\n    +materialized: table\n"
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT / 'transform'}\n")
    sources = [
        _source("shop", "shop_public", "orders"),  # c_always
        _source("crm", "crm_public", "accounts"),  # c_gone (deleted); no table exists
        _source("billing", "billing_public", "invoices"),  # c_recover
        _source("web", "web_public", "events"),  # c_fine
    ]
    exposures = [
        {
            "name": "revenue_dashboard",
            "type": "dashboard",
            "owner": {"name": "Finance", "email": "finance@example.com"},
            "depends_on": ["ref('orders_daily')"],
        }
    ]
    schema = {"version": 2, "sources": sources, "exposures": exposures}
    (project / "models" / "schema.yml").write_text(json.dumps(schema))
    models = project / "models"
    (models / "stg_orders.sql").write_text("select id, amount from {{ source('shop', 'orders') }}")
    (models / "orders_daily.sql").write_text(
        "select count(*) as orders, sum(amount) as amount from {{ ref('stg_orders') }}"
    )
    (project / "seeds").mkdir()
    (project / "seeds" / "fx_rates.csv").write_text("currency,rate\nEUR,1.1\n")
    (models / "orders_in_eur.sql").write_text(
        "select o.id, o.amount / r.rate as amount_eur from {{ ref('stg_orders') }} as o"
        " cross join {{ ref('fx_rates') }} as r"
    )
    (project / "snapshots").mkdir()
    snapshot = {
        "name": "orders_snapshot",
        "relation": "ref('stg_orders')",
        "config": {"unique_key": "id", "strategy": "check", "check_cols": "all"},
    }
    (project / "snapshots" / "snapshots.yml").write_text(json.dumps({"snapshots": [snapshot]}))
    return project


@dataclass
class Built:
    """A consumer project built on one engine: how to run dbt there and read a model."""

    engine: str
    project: Path
    env: dict[str, str]
    dsn: str = ""
    warehouse: Path | None = None
    build_log: str = ""

    @property
    def executable(self) -> Path:
        """The demo's dbt utility for this engine (meltano.yml: dbt-duckdb, dbt-postgres)."""
        return ROOT / ".meltano" / "utilities" / f"dbt-{self.engine}" / "venv" / "bin" / "dbt"

    def dbt(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.executable), *args, "--project-dir", str(self.project)],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def rows(self, model: str, where: str = "") -> list[dict[str, Any]]:
        sql = f"select * from {MODELS}.fivetran_meta__{model} {where}"
        if self.engine == "postgres":
            import psycopg
            from psycopg.rows import dict_row

            with psycopg.connect(self.dsn, row_factory=dict_row) as conn:
                return list(conn.execute(sql).fetchall())
        import duckdb

        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            result = con.execute(sql)
            names = [d[0] for d in result.description]
            return [dict(zip(names, r, strict=True)) for r in result.fetchall()]
        finally:
            con.close()


def _env(**settings: str) -> dict[str, str]:
    drop = ("DBT_", "FIVETRAN_META_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return env | {
        "DBT_PROFILES_DIR": str(ROOT / "transform" / "profiles"),
        "FIVETRAN_META_SOURCE_SCHEMA": "fivetran_meta",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **settings,
    }


def _build(built: Built) -> Built:
    for command in (["deps"], ["build"]):
        run = built.dbt(*command)
        assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    built.build_log = run.stdout
    return built


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory, meltano_installed: None) -> Built:
    """The DuckDB warehouse and consumer project after ``dbt deps`` and ``dbt build``."""
    root = tmp_path_factory.mktemp("incidents")
    warehouse = root / "warehouse.duckdb"
    fx.build(warehouse)
    env = _env(DBT_TARGET="duckdb", DBT_DUCKDB_PATH=str(warehouse), DBT_DUCKDB_SCHEMA=MODELS)
    return _build(Built("duckdb", _consumer(root), env, warehouse=warehouse))


@pytest.fixture(scope="module")
def pg(
    tmp_path_factory: pytest.TempPathFactory, meltano_installed: None, pg_dsn: str
) -> Iterator[Built]:
    """The same on PostgreSQL, in a database of its own (dropped afterwards)."""
    import psycopg

    dsn = pg_dsn
    database = f"incidents_{uuid.uuid4().hex[:10]}"
    fx.build_postgres(dsn, database)
    url = urlparse(dsn)
    env = _env(
        DBT_TARGET="postgres",
        DBT_POSTGRES_HOST=url.hostname or "127.0.0.1",
        DBT_POSTGRES_PORT=str(url.port or 5432),
        DBT_POSTGRES_USER=url.username or "postgres",
        DBT_POSTGRES_PASSWORD=url.password or "postgres",
        DBT_POSTGRES_DATABASE=database,
        DBT_POSTGRES_SCHEMA=MODELS,
    )
    root = tmp_path_factory.mktemp("incidents_pg")
    target = dsn.rsplit("/", 1)[0] + f"/{database}"
    yield _build(Built("postgres", _consumer(root), env, dsn=target))
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{database}" with (force)')


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(request: pytest.FixtureRequest) -> Built:
    """Each engine the package builds on here: DuckDB (offline) and PostgreSQL."""
    return request.getfixturevalue("duck" if request.param == "duckdb" else "pg")


def incidents(built: Built, cid: str) -> list[dict[str, Any]]:
    return built.rows("incidents", f"where connection_id = '{cid}' order by started_at")


def test_the_recovered_connection_has_one_closed_incident_with_its_cause(built: Built) -> None:
    (incident,) = incidents(built, "c_recover")
    saw_broken, saw_healthy = fx.RUNS[1], fx.RUNS[2]
    assert incident["started_at"] <= saw_broken
    assert incident["started_at"] == fx.RECOVER_FAILED_AT  # the failed sync before the run
    assert incident["started_from"] == "failed_sync"
    assert incident["detected_at"] == saw_broken
    assert saw_broken < incident["ended_at"] <= saw_healthy
    assert incident["ended_at"] == fx.RECOVER_SUCCEEDED_AT
    assert incident["recovered_observed_at"] == saw_healthy
    assert incident["is_open"] is False
    assert (incident["first_health"], incident["worst_health"]) == ("broken", "broken")
    assert incident["cause_codes"] == "reconnect"
    assert incident["cause_messages"] == "Reconnect: the password changed"
    assert incident["failed_syncs"] == 2  # D-1 08:07 and D 10:07
    assert incident["dbt_sources_affected"] == 1
    minutes = (fx.RECOVER_SUCCEEDED_AT - fx.RECOVER_FAILED_AT).total_seconds() / 60
    assert incident["duration_minutes"] == minutes


def test_open_incidents_for_the_deleted_and_the_always_broken(built: Built) -> None:
    (gone,) = incidents(built, "c_gone")
    assert gone["is_open"] is True
    assert gone["ended_at"] is None
    assert (gone["started_at"], gone["worst_health"]) == (fx.RUNS[3], "deleted")
    (always,) = incidents(built, "c_always")
    assert always["is_open"] is True
    assert always["started_at"] == fx.ALWAYS_FAILED_AT  # before the first run saw it
    assert always["worst_health"] == "broken"
    assert always["cause_codes"] == "grant_permissions"
    assert always["failed_syncs"] == 3
    assert always["unhealthy_observations"] == len(fx.RUNS)
    built_minutes = (datetime.utcnow() - fx.ALWAYS_FAILED_AT).total_seconds() / 60
    assert abs(always["duration_minutes"] - built_minutes) < 15  # open: up to build time
    assert incidents(built, "c_fine") == []


def test_a_neutral_health_neither_ends_nor_opens_an_incident(built: Built) -> None:
    (flaky,) = incidents(built, "c_flaky")  # failing, syncing, failing: one spell
    assert flaky["is_open"] is True
    assert flaky["started_at"] == fx.FLAKY_FAILED_AT
    assert flaky["first_health"] == "failing"
    assert flaky["unhealthy_observations"] == len(fx.RUNS) - 1  # all but the syncing one
    assert flaky["failed_syncs"] == 2
    assert flaky["dbt_sources_affected"] == 0


def test_reliability_per_connection_and_rollups(built: Built) -> None:
    found = {r["connection_id"]: r for r in built.rows("connection_reliability")}
    assert set(found) == set(fx.CONNECTIONS)
    recover = found["c_recover"]
    minutes = (fx.RECOVER_SUCCEEDED_AT - fx.RECOVER_FAILED_AT).total_seconds() / 60
    assert recover["mttr_minutes"] == pytest.approx(minutes)
    assert (recover["incidents_30d"], recover["closed_incidents"]) == (1, 1)
    assert recover["has_open_incident"] is False
    assert recover["mtbf_minutes"] == pytest.approx(
        recover["minutes_observed"] - recover["minutes_in_incidents"]
    )
    assert recover["uptime_7d"] is not None
    assert 0 < recover["uptime_7d"] < 1
    always = found["c_always"]
    assert always["mttr_minutes"] is None  # nothing closed yet
    assert always["has_open_incident"] is True
    assert always["open_incident_cause_codes"] == "grant_permissions"
    assert always["uptime_7d"] == 0
    assert found["c_gone"]["open_incident_worst_health"] == "deleted"
    assert (found["c_fine"]["incidents_total"], found["c_fine"]["mtbf_minutes"]) == (0, None)
    rollup = {(r["grain"], r["grain_id"]): r for r in built.rows("reliability_rollup")}
    postgres = rollup[("service", "postgres")]
    assert (postgres["connections"], postgres["incidents_30d"]) == (3, 3)
    assert postgres["connections_with_open_incident"] == 2
    assert postgres["mttr_minutes"] == pytest.approx(minutes)
    wh = rollup[("destination", "g_wh")]
    assert (wh["grain_name"], wh["connections"], wh["incidents_total"]) == ("warehouse", 2, 2)
    assert rollup[("service", "google_analytics")]["mttr_minutes"] is None


def test_impact_reaches_both_models_and_the_exposure(built: Built) -> None:
    impact = built.rows("dbt_impact", "order by source_unique_id, depth")
    shop = {r["downstream_name"]: r for r in impact if r["source_name"] == "shop"}
    assert {n: (r["downstream_type"], r["depth"]) for n, r in shop.items()} == {
        "stg_orders": ("model", 1),
        "orders_daily": ("model", 2),
        "revenue_dashboard": ("exposure", 3),
        "orders_in_eur": ("model", 2),  # a seed's dependent downstream of the source
        "orders_snapshot": ("snapshot", 2),
    }
    assert all(r["downstream_name"] != "fx_rates" for r in impact)  # the seed is not
    dashboard = shop["revenue_dashboard"]
    assert (dashboard["connection_id"], dashboard["health"]) == ("c_always", "broken")
    assert dashboard["at_risk_since"] == fx.ALWAYS_FAILED_AT
    assert dashboard["downstream_owner"] == "Finance"
    # Sources at risk without downstream nodes have none; healthy ones are not listed.
    assert {r["source_name"] for r in impact} == {"shop"}
    alerts = {r["source_name"]: r for r in built.rows("source_alerts")}
    assert set(alerts) == {"shop", "crm"}
    assert alerts["crm"]["at_risk_since"] == fx.RUNS[3]


def test_the_alert_test_warns_on_the_deleted_and_broken_sources(built: Built) -> None:
    out = built.build_log
    warned = [line for line in out.splitlines() if "WARN" in line and "fed_by_healthy" in line]
    assert any("crm_accounts" in line for line in warned), out[-4000:]
    assert any("shop_orders" in line for line in warned)
    passed = [line for line in out.splitlines() if "PASS" in line and "fed_by_healthy" in line]
    assert any("billing_invoices" in line for line in passed)
    assert any("web_events" in line for line in passed)
    # The log names connection, health, since when and the task message.
    assert (
        "fivetran_meta alert: source crm.accounts is fed by Fivetran connection crm (c_gone)" in out
    )
    assert f"deleted since {fx.RUNS[3]}" in out
    assert "broken since" in out
    assert "Grant SELECT on schema shop" in out


def test_with_severity_error_the_alert_fails_the_run(built: Built) -> None:
    run = built.dbt(
        "test",
        "--select",
        "source:crm source:billing",
        "--vars",
        "{source_alert_severity: error}",
    )
    assert run.returncode == 1, run.stdout[-4000:]
    assert "FAIL 1 fivetran_meta_source_fed_by_healthy_connection_crm_accounts_" in run.stdout
    assert "PASS fivetran_meta_source_fed_by_healthy_connection_billing_invoices_" in run.stdout


def test_no_model_reads_the_source_tables(duck: Built) -> None:
    # crm_public.accounts does not exist: its test ran from the package's models only.
    import duckdb

    con = duckdb.connect(str(duck.warehouse), read_only=True)
    try:
        found = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'crm_public'"
        ).fetchone()
    finally:
        con.close()
    assert found == (0,)


def test_the_report_lists_open_incidents_with_their_impact(duck: Built, tmp_path: Path) -> None:
    """scripts/report.py (the demo's, on DuckDB)."""
    html = tmp_path / "report.html"
    run = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            str(ROOT / "scripts/report.py"),
            str(duck.warehouse),
            "--html",
            str(html),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    section = run.stdout.split("== Open incidents, latest first\n", 1)[1].split("\n==", 1)[0]
    lines = section.strip().splitlines()[1:]
    assert [line.split()[0:3] for line in lines] == [
        ["lake", "/", "crm"],  # deleted at D+1 00:20: the latest
        ["lake", "/", "leads"],  # D-2 09:05
        ["warehouse", "/", "shop"],  # D-2 08:10
    ]
    assert lines[0].split()[3] == "deleted"
    assert lines[1].split()[-2:] == ["0", "0"]  # feeds no dbt source
    shop = lines[2].split()
    assert shop[3] == "broken"
    assert "grant_permissions" in shop
    assert shop[-2:] == ["1", "5"]  # 1 source; stg_orders, orders_daily, orders_in_eur,
    # the snapshot and the exposure downstream
    page = html.read_text()
    assert 'id="table-incidents"' in page
    assert "1 dbt source; downstream: orders_daily (model)" in page
    assert "revenue_dashboard (exposure)" in page
    assert 'data-service="postgres" data-kind="mttr_minutes"' in page
    assert 'data-service="google_analytics"' not in page  # no incidents: left out
