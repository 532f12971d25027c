"""Compare one engine's model figures (engine_run.py's report) with DuckDB's."""

from __future__ import annotations

import math
from typing import Any

#: Relative tolerance on sums of numbers (floating point order of summation, float vs
#: NUMBER types).
REL_TOL = 1e-9
ABS_TOL = 1e-9


def differences(reference: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Lines naming each model, row count and column figure that differs (empty: same)."""
    out: list[str] = []
    ref_models, models = reference["models"], other["models"]
    for name in sorted(set(ref_models) | set(models)):
        ref, got = ref_models.get(name), models.get(name)
        if ref is None or got is None:
            out.append(f"{name}: only on {'the reference' if got is None else other['engine']}")
            continue
        if "error" in ref or "error" in got:
            out.append(f"{name}: not readable: {ref.get('error') or got.get('error')}")
            continue
        if ref["rows"] != got["rows"]:
            out.append(f"{name}: {got['rows']} rows, reference {ref['rows']}")
        out += _column_differences(name, ref["columns"], got["columns"])
    return out


def _column_differences(model: str, ref: dict[str, Any], got: dict[str, Any]) -> list[str]:
    out = []
    for column in sorted(set(ref) | set(got)):
        a, b = ref.get(column), got.get(column)
        if a is None or b is None:
            out.append(
                f"{model}.{column}: column missing on {'the engine' if b is None else 'the reference'}"
            )
            continue
        if a["non_null"] != b["non_null"]:
            out.append(
                f"{model}.{column}: {b['non_null']} non-null values, reference {a['non_null']}"
            )
            continue
        if not a["non_null"]:
            continue
        if a["kind"] != b["kind"]:
            out.append(f"{model}.{column}: a {b['kind']} column, reference {a['kind']}")
            continue
        for figure, ref_value in a.items():
            value = b.get(figure)
            if figure == "sum":
                same = math.isclose(value, ref_value, rel_tol=REL_TOL, abs_tol=ABS_TOL)
            else:
                same = value == ref_value
            if not same:
                out.append(f"{model}.{column}: {figure} {value!r}, reference {ref_value!r}")
    return out
