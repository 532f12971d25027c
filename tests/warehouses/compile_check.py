"""Compile the package for BigQuery and Redshift with no connection, then check the SQL.

    python compile_check.py --work DIR      (in the compile venv: scripts/warehouse-env compile)

Neither warehouse runs here, so this proves less than a build: the consumer project
(DIR/project) is compiled by dbt-bigquery and dbt-redshift themselves, offline (var
``fivetran_meta_introspect: false``: column lists from the tap's catalog; a throwaway
service-account key that is never used, a Redshift host nothing listens on), and every
compiled model and test is then

1. parsed by sqlglot in that dialect (a syntax error fails), and
2. tokenized in that dialect and checked against this file's own lists: each function
   called must be on the dialect's ALLOW list (sqlglot parses any unknown name as a
   function, so ``jsonb_array_elements`` or ``generate_series`` would pass step 1), no
   operator of the dialect's DENY list (``::``, ``->``, ``->>``...) may appear, and on
   Redshift the ordered-set aggregates of one query (LISTAGG, PERCENTILE_CONT, MEDIAN)
   must share one ORDER BY, as Redshift requires.

Writes DIR/compile.json: per dialect, the files checked, the functions seen and the
problems found (empty when all is well). Exit 1 when any.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

#: Functions both dialects document, as the package uses them.
COMMON = {
    "abs",
    "avg",
    "cast",
    "coalesce",
    "count",
    "greatest",
    "lag",
    "lead",
    "least",
    "lower",
    "max",
    "min",
    "nullif",
    "rank",
    "dense_rank",
    "round",
    "floor",
    "ceil",
    "row_number",
    "sum",
    "upper",
    "first_value",
    "last_value",
    "concat",
    "length",
}
ALLOW = {
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/functions-and-operators
    "bigquery": COMMON
    | {
        "approx_quantiles",
        "current_timestamp",
        "date_add",
        "date_diff",
        "date_trunc",
        "datetime_diff",
        "datetime_trunc",
        "timestamp_add",
        "timestamp_diff",
        "timestamp_trunc",
        "string_agg",
        "to_hex",
        "md5",
        "safe_cast",
        "if",
        "ifnull",
        "countif",
        "logical_or",
        "logical_and",
        "format",
        "split",
        "timestamp",
        "datetime",
        "date",
    },
    # https://docs.aws.amazon.com/redshift/latest/dg/c_SQL_functions.html
    "redshift": COMMON
    | {
        "dateadd",
        "datediff",
        "date_trunc",
        "getdate",
        "sysdate",
        "md5",
        "listagg",
        "percentile_cont",
        "median",
        "nvl",
        "convert_timezone",
        "len",
        "split_part",
        "bool_or",
        "bool_and",
        "to_char",
        "trunc",
        "left",
        "right",
        "substring",
    },
}
#: Known non-portable functions, with why (reported before the generic "not allowed").
DENY = {
    "bigquery": {
        "generate_series": "no such function (use fivetran_meta.integers)",
        "string_to_array": "PostgreSQL only",
        "percentile_cont": "only as an analytic (window) function in BigQuery",
        "listagg": "BigQuery has string_agg (dbt.listagg)",
        "datediff": "BigQuery has date_diff/datetime_diff (dbt.datediff)",
        "dateadd": "BigQuery has date_add/datetime_add (dbt.dateadd)",
        "datetime_add": "a DATETIME, not comparable with the loader's TIMESTAMP columns"
        " (fivetran_meta.dateadd)",
        "datetime_sub": "a DATETIME, not comparable with the loader's TIMESTAMP columns",
    },
    "redshift": {
        "generate_series": "runs on the leader node only: fails on tables",
        "string_agg": "not in Redshift (dbt.listagg)",
        "array_agg": "not in Redshift",
        "unnest": "not in Redshift",
        "cardinality": "not in Redshift",
        "encode": "not in Redshift",
        "json_extract_path_text": "JSON parsing: the models read scalar columns",
    },
}
JSON_FUNCTIONS = re.compile(r"^(jsonb?_|json$|from_json|to_json|parse_json|json_)")
#: Operator tokens (sqlglot TokenType names) no model may use, per dialect.
DENY_TOKENS = {
    "bigquery": {
        "DCOLON": "::",
        "ARROW": "->",
        "DARROW": "->>",
        "HASH_ARROW": "#>",
        "DHASH_ARROW": "#>>",
        "ILIKE": "ilike",
        "LR_ARROW": "<->",
    },
    "redshift": {
        "DCOLON": "::",
        "ARROW": "->",
        "DARROW": "->>",
        "HASH_ARROW": "#>",
        "DHASH_ARROW": "#>>",
        "LR_ARROW": "<->",
    },
}
#: Words followed by "(" that are syntax, not function calls.
SYNTAX = {
    "in",
    "exists",
    "over",
    "as",
    "from",
    "join",
    "on",
    "values",
    "using",
    "and",
    "or",
    "not",
    "when",
    "then",
    "else",
    "select",
    "with",
    "union",
    "all",
    "distinct",
    "by",
    "where",
    "having",
    "partition",
    "order",
    "rows",
    "range",
    "between",
    "is",
    "case",
    "end",
    "filter",
    "within",
    "group",
    "table",
    "into",
    "interval",
    "offset",
    "ordinal",
    "except",
    "intersect",
    "lateral",
    "array",
    "struct",
    "unnest_not_fn",
}
ORDERED_SET = {"listagg", "percentile_cont", "median"}


def check_sql(sql: str, dialect: str) -> tuple[set[str], list[str]]:
    """Functions called in ``sql`` and the problems found (see the module docstring)."""
    import sqlglot
    from sqlglot.dialects.dialect import Dialect

    problems: list[str] = []
    try:
        sqlglot.parse(sql, read=dialect)
    except sqlglot.errors.ParseError as error:
        problems.append(f"does not parse as {dialect}: {str(error).splitlines()[0][:200]}")
    tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    functions: set[str] = set()
    for token, following in itertools.pairwise(tokens):
        name = token.text.lower()
        if token.token_type.name in DENY_TOKENS[dialect]:
            problems.append(
                f"operator {DENY_TOKENS[dialect][token.token_type.name]} (line {token.line})"
            )
        if following.token_type.name != "L_PAREN" or token.token_type.name == "STRING":
            continue
        if name in SYNTAX or not re.match(r"^[a-z_][a-z0-9_]*$", name):
            continue
        functions.add(name)
        if name in DENY[dialect]:
            problems.append(f"{name}(): {DENY[dialect][name]} (line {token.line})")
        elif JSON_FUNCTIONS.match(name):
            problems.append(f"{name}(): JSON parsing (line {token.line})")
        elif name not in ALLOW[dialect]:
            problems.append(f"{name}(): not on the {dialect} allow list (line {token.line})")
    if dialect == "redshift":
        problems += _ordered_set_orders(sql)
    return functions, problems


def _ordered_set_orders(sql: str) -> list[str]:
    """Redshift: LISTAGG / PERCENTILE_CONT / MEDIAN of one SELECT share one ORDER BY."""
    import sqlglot
    from sqlglot import exp

    problems: list[str] = []
    try:
        trees = sqlglot.parse(sql, read="redshift")
    except sqlglot.errors.ParseError:
        return problems  # reported by check_sql
    for tree in trees:
        if tree is None:
            continue
        for select in tree.find_all(exp.Select):
            orders = set()
            for projection in select.expressions:
                for group in projection.find_all(exp.WithinGroup):
                    if group.find_ancestor(exp.Select) is select:
                        order = group.expression
                        orders.add(order.sql(dialect="redshift") if order else "")
            if len(orders) > 1:
                problems.append(
                    "ordered-set aggregates with different ORDER BYs in one SELECT: "
                    + " / ".join(sorted(orders))
                )
    return problems


def _profiles(work: Path) -> Path:
    """profiles.yml with offline bigquery and redshift targets (a throwaway key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory = work / "profiles-compile"
    directory.mkdir(exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    keyfile = directory / "offline-key.json"
    keyfile.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "offline-project",
                "private_key_id": "offline",
                "private_key": pem,
                "client_email": "offline@offline-project.iam.gserviceaccount.com",
                "client_id": "0",
                "token_uri": "http://127.0.0.1:9/token",
            }
        )
    )
    outputs = {
        "bigquery": {
            "type": "bigquery",
            "method": "service-account",
            "keyfile": str(keyfile),
            "project": "offline-project",
            "dataset": "fivetran_meta_models",
            "threads": 1,
        },
        "redshift": {
            "type": "redshift",
            "host": "127.0.0.1",
            "port": 9,
            "user": "offline",
            "password": "offline",
            "dbname": "warehouse",
            "schema": "fivetran_meta_models",
            "threads": 1,
        },
    }
    (directory / "profiles.yml").write_text(
        json.dumps({"warehouse": {"target": "bigquery", "outputs": outputs}})
    )
    return directory


def compile_and_check(work: Path) -> dict[str, Any]:
    from dbt.cli.main import dbtRunner

    project = work / "project"
    profiles = _profiles(work)
    common = ["--project-dir", str(project), "--profiles-dir", str(profiles)]
    deps = dbtRunner().invoke(["deps", *common])
    if not deps.success:
        raise SystemExit(f"dbt deps failed: {deps.exception}")
    variables = {
        "fivetran_meta_introspect": False,
        "fivetran_meta_loader_columns": ["_sdc_batched_at", "_sdc_sequence", "_sdc_deleted_at"],
        "fivetran_meta_schema": "fivetran_meta",
    }
    report: dict[str, Any] = {}
    for dialect in ("bigquery", "redshift"):
        started = time.monotonic()
        target = work / f"target-{dialect}"
        result = dbtRunner().invoke(
            [
                "compile",
                *common,
                "--target",
                dialect,
                "--target-path",
                str(target),
                "--no-populate-cache",
                "--vars",
                json.dumps(variables),
            ]
        )
        compile_seconds = time.monotonic() - started
        entry: dict[str, Any] = {"compiled": result.success, "compile_s": compile_seconds}
        if not result.success:
            entry["problems"] = [f"dbt compile failed: {result.exception}"]
            report[dialect] = entry
            continue
        files = sorted((target / "compiled").rglob("*.sql"))
        functions: set[str] = set()
        problems = []
        for path in files:
            seen, found = check_sql(path.read_text(), dialect)
            functions |= seen
            problems += [f"{path.relative_to(target)}: {p}" for p in found]
        entry.update(
            files=len(files),
            models=sum(
                1
                for f in files
                if "/models/fivetran_meta__" in str(f) and f.parent.name == "models"
            ),
            functions=sorted(functions),
            problems=problems,
        )
        report[dialect] = entry
    return report


def check_snippets(path: Path) -> dict[str, Any]:
    """{dialect: {sql: problems}} for each snippet of the JSON file ``path``
    ({dialect: [sql, ...]}): how the tests show each list catches what it must."""
    snippets = json.loads(path.read_text())
    return {
        dialect: {sql: check_sql(sql, dialect)[1] for sql in sqls}
        for dialect, sqls in snippets.items()
    }


def main() -> int:
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--snippets", type=Path, help="only check these SQL snippets")
    args = parser.parse_args()
    if args.snippets:
        (args.work / "snippets-checked.json").write_text(json.dumps(check_snippets(args.snippets)))
        return 0
    report = compile_and_check(args.work.resolve())
    (args.work / "compile.json").write_text(json.dumps(report, indent=1))
    return 1 if any(entry.get("problems") for entry in report.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
