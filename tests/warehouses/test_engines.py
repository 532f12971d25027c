"""The dbt package on each engine, on the same simulator data, against DuckDB's answers.

Marked ``warehouse``: not part of the default run (pyproject addopts); CI runs
``pytest -m warehouse tests/warehouses`` once (scripts/test-warehouses).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from compare import differences

from conftest import HERE, build, engine_python, engine_work, run_engine

pytestmark = pytest.mark.warehouse

#: Every model of the package (a model added without a run here fails the count).
MIN_MODELS = 15


def _same_as_reference(reference: dict[str, Any], report: dict[str, Any]) -> None:
    assert len(reference["models"]) >= MIN_MODELS, sorted(reference["models"])
    assert report["statuses"].get("error", 0) == 0, report["statuses"]
    problems = differences(reference, report)
    assert not problems, "\n".join(problems)


def test_duckdb_reference_builds_every_model_with_rows(reference: dict[str, Any]) -> None:
    """The reference itself: every model and test passes; the simulator's data reaches the
    models (a reference of empty tables would make every comparison vacuous)."""
    assert reference["statuses"].get("pass", 0) > 0
    assert set(reference["statuses"]) <= {"success", "pass", "warn"}, reference["statuses"]
    empty = {m for m, figures in reference["models"].items() if not figures.get("rows")}
    # Only models that need a consumer project's own nodes may be empty here.
    assert empty <= {"fivetran_meta__dbt_impact", "fivetran_meta__source_alerts"}, empty
    assert reference["models"]["fivetran_meta__connection_status"]["rows"] >= 30


def test_snowflake_as_target_snowflake_lands_it(
    captured: tuple[Path, str], reference: dict[str, Any]
) -> None:
    """fakesnow's server, the tables created with target-snowflake's own column types
    (its connector, asked offline) and upper-case names; dbt-snowflake over http."""
    work = engine_work(captured, "snowflake")
    loader = engine_python("snowflake-loader")
    result = run_engine(
        loader, work, str(HERE / "engine_run.py"), "snowflake-types", "--work", str(work)
    )
    assert result.returncode == 0, result.stderr[-4000:]
    # Why a shim lands the tables and not target-snowflake: it has no setting to reach an
    # emulator. When it gains one, load through it instead (and drop the shim).
    endpoint = json.loads((work / "snowflake-loader.json").read_text())
    assert endpoint == [], f"target-snowflake now has {endpoint}: land through it instead"
    report = build(captured, "snowflake", engine_python("snowflake"))
    _same_as_reference(reference, report)


def test_spark_session(captured: tuple[Path, str], reference: dict[str, Any]) -> None:
    """Spark SQL (Databricks' dialect) through dbt-spark's session method, the tables
    landed append-only."""
    report = build(captured, "spark", engine_python("spark"))
    # Landed append-only: more raw rows than the reference's upserted tables...
    assert report["source_rows"]["connections"] > reference["source_rows"]["connections"]
    # ... and the same answers: every model deduplicates on the tap's keys.
    _same_as_reference(reference, report)
