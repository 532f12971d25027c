"""The demo's pipeline: Meltano into the embedded DuckDB warehouse (target-duckdb)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.timeutil import format_timestamp

from conftest import Warehouse, meltano_run

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]


def test_every_table_in_duckdb_matches_the_simulator(tmp_path, pg_dsn: str) -> None:
    # DuckDB needs no server; pg_dsn only keeps this test with the other end-to-end ones.
    del pg_dsn
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    start = now - timedelta(days=6)
    warehouse = Warehouse("unused", "fivetran_meta", tmp_path / "meltano.db")
    config = SimConfig(
        connections=30, seed=4, api_key="e2e-key", api_secret="e2e-secret-never-logged", now=now
    )
    with Simulator(config) as sim:
        result = meltano_run(
            warehouse,
            sim.url,
            loader="target-duckdb",
            extra_env={"TAP_FIVETRAN_META_START_DATE": format_timestamp(start)},
        )
        assert result.returncode == 0, result.stderr[-6000:]
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
