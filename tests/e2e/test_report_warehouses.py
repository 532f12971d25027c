"""scripts/report.py from a warehouse other than the DuckDB file: the same tables in
PostgreSQL, read through a SQLAlchemy URL, give the same console report and the same HTML.

The model tables come from test_models_truth's held-out account (dbt-duckdb build); they
and the tap's tables are copied into a fresh PostgreSQL schema pair, column types mapped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import duckdb
import psycopg
import pytest
from test_models_truth import built  # noqa: F401 - the module-scoped fixture, shared

from conftest import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

SCHEMAS = ("fivetran_meta", "fivetran_meta_models")
PG_TYPES = {
    "VARCHAR": "text",
    "JSON": "text",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DATE": "date",
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "HUGEINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
}


def _pg_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return "numeric"
    if duck_type.endswith("[]"):
        return "text"
    return PG_TYPES[duck_type]


def _copy(warehouse: Path, dsn: str, prefix: str) -> None:
    """Every table of SCHEMAS, into PostgreSQL schemas named ``prefix`` + name."""
    source = duckdb.connect(str(warehouse), read_only=True)
    with psycopg.connect(dsn, autocommit=True) as pg:
        for schema in SCHEMAS:
            pg.execute(f'create schema "{prefix}{schema}"')
            tables = source.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
            for (table,) in tables:
                columns = source.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                ddl = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in columns)
                target = f'"{prefix}{schema}"."{table}"'
                pg.execute(f"create table {target} ({ddl})")
                text = {c for c, t in columns if _pg_type(t) == "text" and t != "VARCHAR"}
                select = ", ".join(
                    f'cast("{c}" as varchar)' if c in text else f'"{c}"' for c, _ in columns
                )
                rows = source.execute(f'select {select} from {schema}."{table}"').fetchall()
                marks = ", ".join(["%s"] * len(columns))
                with pg.cursor() as cur:
                    cur.executemany(f"insert into {target} values ({marks})", rows)
    source.close()


@pytest.fixture
def postgres_copy(built: Path, pg_dsn: str) -> Iterator[tuple[str, str]]:  # noqa: F811
    """(the PostgreSQL URL, the schema prefix) of a copy of ``built``."""
    prefix = f"rep_{uuid.uuid4().hex[:8]}_"
    _copy(built, pg_dsn, prefix)
    yield pg_dsn, prefix
    with psycopg.connect(pg_dsn, autocommit=True) as pg:
        for schema in SCHEMAS:
            pg.execute(f'drop schema if exists "{prefix}{schema}" cascade')


def _report(target: str, html: Path, prefix: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVETRAN_META_")}
    env["FIVETRAN_META_SOURCE_SCHEMA"] = f"{prefix}{SCHEMAS[0]}"
    env["FIVETRAN_META_MODELS_SCHEMA"] = f"{prefix}{SCHEMAS[1]}"
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "report.py"), target, "--html", str(html)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_postgres_report_equals_duckdb_report(
    built: Path,  # noqa: F811
    postgres_copy: tuple[str, str],
    tmp_path: Path,
) -> None:
    dsn, prefix = postgres_copy
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    from_duckdb = _report(str(built), tmp_path / "duckdb.html")
    from_postgres = _report(url, tmp_path / "postgres.html", prefix)
    assert from_duckdb.returncode == 0, from_duckdb.stdout[-3000:] + from_duckdb.stderr[-3000:]
    assert from_postgres.returncode == 0, from_postgres.stderr[-3000:]
    assert "fivetran_meta__connection_status" in from_duckdb.stdout
    assert from_postgres.stdout.replace("postgres.html", "duckdb.html") == from_duckdb.stdout
    duck_html = (tmp_path / "duckdb.html").read_text()
    assert (tmp_path / "postgres.html").read_text() == duck_html
    assert "<svg" in duck_html


def test_a_url_without_its_driver_says_what_to_install(tmp_path: Path) -> None:
    result = _report("snowflake://user:secret-pw@account/DB", tmp_path / "x.html")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("report: no SQLAlchemy dialect for 'snowflake'")
    assert "secret-pw" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    result = _report(str(tmp_path / "nowhere.duckdb"), tmp_path / "x.html")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "no DuckDB file" in result.stderr
