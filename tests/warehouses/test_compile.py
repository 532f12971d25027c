"""BigQuery and Redshift: the package compiled offline by their own dbt adapters, the SQL
checked per dialect (compile_check.py says what this proves and what it does not)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import HERE, engine_python, engine_work, run_engine

pytestmark = pytest.mark.warehouse

BAD = {
    "bigquery": {
        "select jsonb_array_elements(x) from t": "jsonb_array_elements(): JSON parsing",
        "select x ->> 'code' from t": "operator ->>",
        "select x::text from t": "operator ::",
        "select * from generate_series(1, 3)": "generate_series(): no such function",
        "select percentile_cont(0.5) within group (order by x) from t": "percentile_cont()",
        "select datediff('day', a, b) from t": "datediff(): BigQuery has date_diff",
        "select cardinality(x) from t": "cardinality(): not on the bigquery allow list",
        "select datetime_add(cast(a as datetime), interval 1 day) > b from t": "datetime_add()",
    },
    "redshift": {
        "select string_agg(x, ',') from t": "string_agg(): not in Redshift",
        "select now() from t": "now(): not on the redshift allow list",
        "select encode(x, 'base64') from t": "encode(): not in Redshift",
        "select json_extract_path_text(x, 'a') from t": "json_extract_path_text()",
        "select x -> 'a' from t": "operator ->",
        "select listagg(a, ',') within group (order by a),"
        " percentile_cont(0.5) within group (order by b) from t": "ordered-set aggregates",
        "select from where": "does not parse as redshift",
    },
}
GOOD = {
    "bigquery": ["select datetime_diff(b, a, second), string_agg(x, ', ') from t"],
    "redshift": [
        "select datediff(second, a, b), listagg(x, ', ') within group (order by x),"
        " percentile_cont(0.5) within group (order by x) from t"
    ],
}


@pytest.fixture(scope="module")
def compile_python() -> str:
    return engine_python("compile")


def test_the_lists_catch_what_sqlglot_accepts(compile_python: str, tmp_path: Path) -> None:
    snippets = {d: [*BAD[d], *GOOD[d]] for d in BAD}
    (tmp_path / "snippets.json").write_text(json.dumps(snippets))
    result = run_engine(
        compile_python,
        tmp_path,
        str(HERE / "compile_check.py"),
        "--work",
        str(tmp_path),
        "--snippets",
        str(tmp_path / "snippets.json"),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    checked = json.loads((tmp_path / "snippets-checked.json").read_text())
    for dialect, cases in BAD.items():
        for sql, expected in cases.items():
            assert any(expected in p for p in checked[dialect][sql]), (
                dialect,
                sql,
                checked[dialect][sql],
            )
        for sql in GOOD[dialect]:
            assert checked[dialect][sql] == [], (dialect, sql)


def test_every_model_compiles_for_bigquery_and_redshift(
    captured: tuple[Path, str], compile_python: str
) -> None:
    work = engine_work(captured, "compile")
    result = run_engine(compile_python, work, str(HERE / "compile_check.py"), "--work", str(work))
    report: dict[str, Any] = json.loads((work / "compile.json").read_text())
    for dialect, entry in report.items():
        print(f"{dialect}: compile {entry['compile_s']:.1f} s, {entry.get('files')} files")
        assert entry["compiled"], entry["problems"]
        assert entry["models"] >= 15, entry
        assert entry["problems"] == [], "\n".join(entry["problems"])
    assert result.returncode == 0, result.stdout[-4000:]
