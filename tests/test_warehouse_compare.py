"""The engine comparison of tests/warehouses (compare.py) catches each kind of difference."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "warehouses"))

from compare import differences

REFERENCE: dict[str, Any] = {
    "engine": "duckdb",
    "models": {
        "fivetran_meta__x": {
            "rows": 3,
            "columns": {
                "hours": {"non_null": 3, "kind": "number", "sum": 7.5},
                "ok": {"non_null": 3, "kind": "boolean", "true": 2},
                "at": {
                    "non_null": 2,
                    "kind": "time",
                    "min": "2026-01-01 00:00:00",
                    "max": "2026-01-02 00:00:00",
                    "distinct": 2,
                },
                "name": {"non_null": 3, "kind": "text", "distinct": 3},
                "empty": {"non_null": 0},
            },
        }
    },
}


def _changed(path: list[str], value: Any) -> dict[str, Any]:
    other = copy.deepcopy(REFERENCE)
    other["engine"] = "snowflake"
    node = other["models"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return other


def test_the_same_figures_are_no_difference() -> None:
    assert differences(REFERENCE, _changed(["fivetran_meta__x", "rows"], 3)) == []


def test_each_difference_is_named() -> None:
    model = "fivetran_meta__x"
    cases = {
        "4 rows, reference 3": ([model, "rows"], 4),
        "sum": ([model, "columns", "hours", "sum"], 7.5001),
        "true": ([model, "columns", "ok", "true"], 1),
        "max": ([model, "columns", "at", "max"], "2026-01-02 00:00:01"),
        "non-null": ([model, "columns", "name", "non_null"], 2),
        "a number column": ([model, "columns", "name", "kind"], "number"),
    }
    for expected, (path, value) in cases.items():
        found = differences(REFERENCE, _changed(path, value))
        assert len(found) == 1, (expected, found)
        assert expected in found[0], (expected, found)


def test_float_noise_is_tolerated_but_not_precision_loss() -> None:
    model = "fivetran_meta__x"
    assert differences(REFERENCE, _changed([model, "columns", "hours", "sum"], 7.5 + 1e-12)) == []
    # float32 rounding (7 significant digits) is a difference.
    assert differences(REFERENCE, _changed([model, "columns", "hours", "sum"], 7.500000476837158))


def test_missing_models_columns_and_errors() -> None:
    other = copy.deepcopy(REFERENCE)
    other["engine"] = "spark"
    other["models"]["fivetran_meta__y"] = {"error": "table not found"}
    del other["models"]["fivetran_meta__x"]["columns"]["name"]
    found = "\n".join(differences(REFERENCE, other))
    assert "fivetran_meta__y: only on spark" in found
    assert "fivetran_meta__x.name: column missing on the engine" in found
