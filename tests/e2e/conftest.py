"""End-to-end fixtures: real Meltano, real PostgreSQL, the bundled Fivetran simulator.

PostgreSQL comes from ``FTM_TEST_PG_DSN`` (``scripts/test`` starts a throwaway server).
Without it the tests skip on a developer machine, saying why, and fail under CI.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
MELTANO = ROOT / ".venv" / "bin" / "meltano"
E2E_PLUGINS = (
    "tap-fivetran-meta",
    "target-postgres",
    "target-duckdb",
    "dbt-postgres",
    "dbt-duckdb",
)


def _pg_dsn() -> str:
    dsn = os.environ.get("FTM_TEST_PG_DSN")
    if dsn:
        return dsn
    reason = "FTM_TEST_PG_DSN is not set: no PostgreSQL for end-to-end tests (run ./scripts/test)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must provide one", pytrace=False)
    pytest.skip(reason)
    return ""  # unreachable


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """DSN of the throwaway PostgreSQL server."""
    return _pg_dsn()


@pytest.fixture(scope="session")
def meltano_installed() -> None:
    """``meltano install`` of the plugins these tests run, once per session (uv makes it a
    few seconds when cached); not the other warehouses' (tests/warehouses has those)."""
    env = _base_env()
    result = subprocess.run(
        [str(MELTANO), "install", *E2E_PLUGINS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]


def _base_env() -> dict[str, str]:
    # The machine's environment (proxies, CA bundles) minus anything that would configure
    # the plugins behind the test's back.
    drop = ("TAP_FIVETRAN_META_", "TARGET_", "MELTANO_", "DBT_", "FIVETRAN_META_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["MELTANO_PROJECT_READONLY"] = "false"
    return env


@dataclass
class Warehouse:
    """One isolated target schema and Meltano state database."""

    dsn: str
    schema: str
    state_db: Path

    def query(self, sql: str, *params: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql)

    @property
    def models_schema(self) -> str:
        """Schema the dbt models are built in."""
        return f"{self.schema}_models"

    def count(self, table: str, where: str = "") -> int:
        sql = f'select count(*) from "{self.schema}"."{table}" {where}'
        return int(self.query(sql)[0][0])

    def tables(self) -> set[str]:
        rows = self.query(
            "select table_name from information_schema.tables where table_schema = %s",
            self.schema,
        )
        return {r[0] for r in rows}


@pytest.fixture
def warehouse(pg_dsn: str, tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh schema in the test PostgreSQL, dropped afterwards."""
    wh = Warehouse(pg_dsn, f"e2e_{uuid.uuid4().hex[:10]}", tmp_path / "meltano.db")
    yield wh
    wh.execute(f'drop schema if exists "{wh.schema}" cascade')
    wh.execute(f'drop schema if exists "{wh.models_schema}" cascade')


def meltano_env(
    warehouse: Warehouse, api_url: str, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment for a Meltano command against the simulator and the test database."""
    from urllib.parse import urlparse

    pg = urlparse(warehouse.dsn)
    env = _base_env()
    env.update(
        {
            "MELTANO_DATABASE_URI": f"sqlite:///{warehouse.state_db}",
            "TAP_FIVETRAN_META_API_URL": api_url,
            "TAP_FIVETRAN_META_API_KEY": "e2e-key",
            "TAP_FIVETRAN_META_API_SECRET": "e2e-secret-never-logged",
            "TARGET_POSTGRES_HOST": pg.hostname or "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(pg.port or 5432),
            "TARGET_POSTGRES_USER": pg.username or "postgres",
            "TARGET_POSTGRES_PASSWORD": pg.password or "postgres",
            "TARGET_POSTGRES_DATABASE": (pg.path or "/postgres").lstrip("/"),
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": warehouse.schema,
            "TARGET_DUCKDB_FILEPATH": str(warehouse.state_db.parent / "warehouse.duckdb"),
            "TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA": warehouse.schema,
            # dbt (transform/) reads the tap's tables there and builds its models beside them.
            "DBT_POSTGRES_HOST": pg.hostname or "127.0.0.1",
            "DBT_POSTGRES_PORT": str(pg.port or 5432),
            "DBT_POSTGRES_USER": pg.username or "postgres",
            "DBT_POSTGRES_PASSWORD": pg.password or "postgres",
            "DBT_POSTGRES_DATABASE": (pg.path or "/postgres").lstrip("/"),
            "DBT_POSTGRES_SCHEMA": warehouse.models_schema,
            "DBT_DUCKDB_PATH": str(warehouse.state_db.parent / "warehouse.duckdb"),
            "DBT_DUCKDB_SCHEMA": "fivetran_meta_models",
            "DBT_DUCKDB_SOURCE_SCHEMA": warehouse.schema,
            "DBT_POSTGRES_SOURCE_SCHEMA": warehouse.schema,
            # Meltano reads each utility's settings from <PLUGIN>_<SETTING> variables.
            **{
                f"DBT_{plugin}_{setting}": str(warehouse.state_db.parent / f"dbt-{kind}-{plugin}")
                for plugin in ("POSTGRES", "DUCKDB")
                for setting, kind in (("TARGET_PATH", "target"), ("LOG_PATH", "logs"))
            },
        }
    )
    env.update(extra_env or {})
    return env


def meltano_run(
    warehouse: Warehouse,
    api_url: str,
    *,
    loader: str = "target-postgres",
    extra_env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess[str]:
    """``meltano run tap-fivetran-meta <loader>`` against the simulator and test database."""
    return subprocess.run(
        [str(MELTANO), "run", "tap-fivetran-meta", loader],
        cwd=ROOT,
        env=meltano_env(warehouse, api_url, extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
