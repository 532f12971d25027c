"""The demo's pipeline: Meltano into the embedded DuckDB warehouse, then dbt-duckdb on it.

target-duckdb (through loaders/target-duckdb-header) and dbt-duckdb live in separate
plugin venvs; both must open the same warehouse file. They are pinned to one duckdb
version, asserted here, and the file goes loader -> dbt -> loader -> this venv's duckdb.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.rules.timeutil import format_timestamp

from conftest import MELTANO, ROOT, Warehouse, meltano_env, meltano_run

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

PLUGIN_PYTHONS = {
    "target-duckdb": ROOT / ".meltano/loaders/target-duckdb/venv/bin/python",
    "dbt-duckdb": ROOT / ".meltano/utilities/dbt-duckdb/venv/bin/python",
}


def _duckdb_version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import duckdb; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_loader_dbt_and_reader_share_one_duckdb_version() -> None:
    versions = {name: _duckdb_version(str(path)) for name, path in PLUGIN_PYTHONS.items()}
    versions["tests"] = duckdb.__version__
    assert len(set(versions.values())) == 1, versions


def test_every_table_in_duckdb_matches_the_simulator_and_dbt_builds_on_it(
    tmp_path, pg_dsn: str
) -> None:
    # DuckDB needs no server; pg_dsn only keeps this test with the other end-to-end ones.
    del pg_dsn
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    start = now - timedelta(days=6)
    warehouse = Warehouse("unused", "fivetran_meta", tmp_path / "meltano.db")
    env = {"TAP_FIVETRAN_META_START_DATE": format_timestamp(start)}
    config = SimConfig(
        connections=30, seed=4, api_key="e2e-key", api_secret="e2e-secret-never-logged", now=now
    )
    with Simulator(config) as sim:
        # Loader, then dbt on the file the loader wrote.
        built = subprocess.run(
            [str(MELTANO), "run", "tap-fivetran-meta", "target-duckdb", "dbt-duckdb:build"],
            cwd=ROOT,
            env=meltano_env(warehouse, sim.url, env),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert built.returncode == 0, (built.stdout + built.stderr)[-6000:]
        # The loader again, on the file dbt wrote last.
        again = meltano_run(warehouse, sim.url, loader="target-duckdb", extra_env=env)
        assert again.returncode == 0, again.stderr[-6000:]
        expected = sim.expected_counts(start=start)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    tables = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'fivetran_meta'"
        ).fetchall()
    }
    checked = 0
    for stream, rows in expected.items():
        if stream not in tables:
            assert rows == 0 or stream == "connection_columns_full", stream
            continue
        count = con.execute(f'select count(*) from fivetran_meta."{stream}"').fetchone()[0]
        assert count == rows, f"{stream}: {count} rows in DuckDB, simulator says {rows}"
        checked += 1
    assert checked >= 15
    # The one-row, text-only table a header-guessing COPY used to lose.
    assert con.execute("select count(*) from fivetran_meta.account").fetchone()[0] == 1
    models = "fivetran_meta_models.fivetran_meta__"
    status = con.execute(f"select count(*), count(distinct health) from {models}connection_status")
    assert status.fetchone() == (expected["connections"], len(_healths(con)))
    synced = con.execute(f"select sum(syncs) from {models}sync_metrics").fetchone()[0]
    assert synced == expected["sync_history"]
    # Two tap runs (dbt's and the loader's again), each logged once, each a complete listing.
    runs = con.execute(
        "select count(*), bool_and(connections_listing_complete) from fivetran_meta.tap_runs"
    )
    assert runs.fetchone() == (2, True)
    uptime = con.execute(f"select count(*) from {models}connection_uptime").fetchone()[0]
    assert uptime == expected["connections"]
    unused = con.execute(
        f"select count(*) from {models}transformation_status where transformation_id is null"
    ).fetchone()[0]
    transformations = con.execute(f"select count(*) from {models}transformation_status")
    assert transformations.fetchone()[0] == expected["transformations"] + unused
    health_counts = dict(
        con.execute(f"select health, count(*) from {models}connection_status group by 1").fetchall()
    )
    con.close()
    _report_draws_the_models(tmp_path, health_counts)


def _report_draws_the_models(tmp_path, health_counts: dict[str, int]) -> None:
    """scripts/report.py on the real models: the HTML's health bars are the model's counts."""
    import xml.etree.ElementTree as ET

    html = tmp_path / "report.html"
    report = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            str(ROOT / "scripts/report.py"),
            str(tmp_path / "warehouse.duckdb"),
            "--html",
            str(html),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    assert "Recent failed syncs" in report.stdout
    page = ET.fromstring(html.read_text().split("\n", 1)[1])  # noqa: S314 - our own file
    bars = {
        r.get("data-health"): int(r.get("data-count", "0"))
        for r in page.iter("{http://www.w3.org/2000/svg}rect")
        if r.get("data-count") is not None
        and r.get("data-health")
        and r.get("data-day") is None
        and r.get("data-connection") is None
    }
    assert bars == health_counts


def _healths(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute("select distinct health from fivetran_meta.connections").fetchall()
    }
