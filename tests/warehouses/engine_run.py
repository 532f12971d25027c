"""One warehouse engine end to end, run by an engine venv's python (scripts/warehouse-env).

    python engine_run.py build ENGINE --work DIR --build-time TS [--types FILE]
    python engine_run.py snowflake-types --work DIR     (in the target-snowflake venv)

``build`` lands the tap's messages (DIR/messages.jsonl, from capture.py) the way the
engine's Singer loader does, runs ``dbt deps`` and ``dbt build`` of the consumer project
(DIR/project, installing transform/ as a package) in-process, and writes
DIR/ENGINE.json: every model's row count and per-column figures, the build's node
statuses and timings. Engines: duckdb (the reference), snowflake (the fakesnow server,
started here on a loopback port; column types from ``snowflake-types``), spark (Spark
SQL in-process through dbt-spark's ``session`` method).

``snowflake-types`` asks MeltanoLabs target-snowflake's own connector (offline) which
column type it creates for each property of each stream, and writes DIR/snowflake-types.json.

This file imports nothing of the project (engine venvs hold only dbt and the engine).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

SOURCE_SCHEMA = "fivetran_meta"
EPOCH = datetime(1970, 1, 1)
MODELS_SCHEMA = "fivetran_meta_models"
#: The record metadata columns MeltanoLabs loaders add (add_record_metadata: true).
METADATA = {
    "_sdc_extracted_at": {"type": ["string", "null"], "format": "date-time"},
    "_sdc_received_at": {"type": ["string", "null"], "format": "date-time"},
    "_sdc_batched_at": {"type": ["string", "null"], "format": "date-time"},
    "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    "_sdc_sequence": {"type": ["integer", "null"]},
    "_sdc_table_version": {"type": ["integer", "null"]},
    "_sdc_sync_started_at": {"type": ["integer", "null"]},
}


# --- the tap's tables, as an upserting loader leaves them ---------------------------------


class Table:
    """One stream: its properties (schema + loader metadata) and rows by key."""

    def __init__(self, name: str, schema: dict[str, Any], keys: list[str]) -> None:
        self.name = name
        self.properties: dict[str, dict[str, Any]] = {**schema["properties"], **METADATA}
        self.keys = keys
        self.rows: dict[Any, dict[str, Any]] = {}

    def kind(self, column: str) -> str:
        """string, timestamp, date, integer, number, boolean or json."""
        prop = self.properties[column]
        types = prop.get("type", [])
        types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
        if "anyOf" in prop or len(types) != 1 or types[0] in ("object", "array"):
            return "json"
        if types[0] == "string":
            return {"date-time": "timestamp", "date": "date"}.get(prop.get("format", ""), "string")
        return types[0]

    def value(self, column: str, raw: Any) -> Any:
        """A record's value as the engine's driver takes it."""
        if raw is None:
            return None
        kind = self.kind(column)
        if kind == "json":
            return json.dumps(raw, sort_keys=True)
        if kind == "timestamp":
            parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
            if parsed.tzinfo:
                parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
            return parsed
        if kind == "date":
            return date.fromisoformat(str(raw)[:10])
        return {"integer": int, "number": float, "boolean": bool}.get(kind, str)(raw)


def read_tables(path: Path, *, append: bool = False) -> dict[str, Table]:
    """The streams of the messages, rows upserted on their keys (last one wins), or with
    ``append`` every record kept, as an append-only loader leaves them."""
    tables: dict[str, Table] = {}
    for sequence, line in enumerate(path.read_text().splitlines()):
        message = json.loads(line)
        if message["type"] == "SCHEMA" and message["stream"] not in tables:
            tables[message["stream"]] = Table(
                message["stream"], message["schema"], message.get("key_properties") or []
            )
        elif message["type"] == "RECORD":
            table = tables[message["stream"]]
            record = dict(message["record"])
            extracted = message.get("time_extracted")
            record.update(
                _sdc_extracted_at=extracted,
                _sdc_received_at=extracted,
                _sdc_batched_at=extracted,
                _sdc_sequence=sequence,
            )
            keyed = table.keys and not append
            key = tuple(record.get(k) for k in table.keys) if keyed else sequence
            table.rows[key] = record
    return tables


def rows_of(table: Table) -> list[tuple[Any, ...]]:
    columns = list(table.properties)
    return [tuple(table.value(c, r.get(c)) for c in columns) for r in table.rows.values()]


# --- engines --------------------------------------------------------------------------------


class DuckDB:
    """The reference: target-duckdb's types (objects and arrays as JSON)."""

    TYPES: ClassVar[dict[str, str]] = {
        "string": "VARCHAR",
        "timestamp": "TIMESTAMP",
        "date": "DATE",
        "integer": "BIGINT",
        "number": "DOUBLE",
        "boolean": "BOOLEAN",
        "json": "JSON",
    }

    def __init__(self, work: Path) -> None:
        import duckdb

        self.path = work / "duckdb.duckdb"
        self.path.unlink(missing_ok=True)
        self.con = duckdb.connect(str(self.path))

    def land(self, tables: dict[str, Table]) -> None:
        self.con.execute(f"create schema {SOURCE_SCHEMA}")
        for table in tables.values():
            columns = ", ".join(f'"{c}" {self.TYPES[table.kind(c)]}' for c in table.properties)
            self.con.execute(f'create table {SOURCE_SCHEMA}."{table.name}" ({columns})')
            rows = rows_of(table)
            row_marks = "(" + ", ".join("?" for _ in table.properties) + ")"
            for start in range(0, len(rows), 200):
                batch = rows[start : start + 200]
                self.con.execute(
                    f'insert into {SOURCE_SCHEMA}."{table.name}" values '
                    + ", ".join(row_marks for _ in batch),
                    [v for row in batch for v in row],
                )
        self.con.close()

    def profile(self) -> dict[str, Any]:
        return {"type": "duckdb", "path": str(self.path), "schema": MODELS_SCHEMA, "threads": 1}

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        import duckdb

        with duckdb.connect(str(self.path)) as con:
            cursor = con.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()

    def close(self) -> None:
        pass


class Snowflake:
    """fakesnow's server on loopback; the tables as target-snowflake creates them: its
    column types (``snowflake-types``: VARIANT for objects and arrays, NUMBER, FLOAT,
    TIMESTAMP_NTZ...) and unquoted, so upper-case, identifiers."""

    DATABASE = "WAREHOUSE"

    def __init__(self, work: Path, types: dict[str, dict[str, str]]) -> None:
        self.types = types
        self.port = _free_port()
        self.server = subprocess.Popen(
            [sys.executable, "-m", "fakesnow", "-s", "-p", str(self.port), "--host", "127.0.0.1"],
            stdout=(work / "fakesnow.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, self.server)

    def connect(self) -> Any:
        import snowflake.connector

        return snowflake.connector.connect(
            user="fake",
            password="snow",
            account="fakesnow",
            host="127.0.0.1",
            port=self.port,
            protocol="http",
            database=self.DATABASE,
            schema="PUBLIC",
        )

    def land(self, tables: dict[str, Table]) -> None:
        with contextlib.closing(self.connect()) as con:
            cur = con.cursor()
            cur.execute(f"create database if not exists {self.DATABASE}")
            cur.execute(f"create schema if not exists {self.DATABASE}.{SOURCE_SCHEMA}")
            for table in tables.values():
                types = self.types[table.name]
                columns = list(table.properties)
                ddl = ", ".join(f"{c} {types[c]}" for c in columns)
                target = f"{self.DATABASE}.{SOURCE_SCHEMA}.{table.name}"
                cur.execute(f"create table {target} ({ddl})")
                selects = ", ".join(
                    f"parse_json(column{i})"
                    if types[c] == "VARIANT"
                    else f"cast(column{i} as {types[c]})"
                    for i, c in enumerate(columns, 1)
                )
                rows = rows_of(table)
                for start in range(0, len(rows), 200):
                    batch = rows[start : start + 200]
                    marks = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _ in batch)
                    params = [_snowflake_param(v) for row in batch for v in row]
                    cur.execute(
                        f"insert into {target} ({', '.join(columns)}) "
                        f"select {selects} from values {marks}",
                        params,
                    )

    def profile(self) -> dict[str, Any]:
        return {
            "type": "snowflake",
            "account": "fakesnow",
            "user": "fake",
            "password": "snow",
            "host": "127.0.0.1",
            "port": self.port,
            "protocol": "http",
            "database": self.DATABASE,
            "schema": MODELS_SCHEMA,
            "warehouse": "FAKE",
            "threads": 1,
        }

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Rows of ``sql``. fakesnow's server sends a NULL timestamp as 1970-01-01 (the
        value is NULL in the database: ``is null`` holds): such values are read as None,
        and each column's non-null count is checked against ``count(column)``."""
        with contextlib.closing(self.connect()) as con:
            cur = con.cursor()
            cur.execute(sql)
            names = [d[0] for d in cur.description]
            timestamps = {i for i, d in enumerate(cur.description) if d[1] in (6, 7, 8)}
            rows = [
                tuple(None if i in timestamps and v == EPOCH else v for i, v in enumerate(row))
                for row in cur.fetchall()
            ]
            if timestamps:
                counts = ", ".join(f'count("{names[i]}")' for i in sorted(timestamps))
                cur.execute(f"select {counts} from ({sql})")
                for i, count in zip(sorted(timestamps), cur.fetchone(), strict=True):
                    read = sum(1 for row in rows if row[i] is not None)
                    if read != count:
                        raise RuntimeError(f"{names[i]}: {read} non-null read, count() {count}")
            return names, rows

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=30)


def _snowflake_param(value: Any) -> Any:
    # Timestamps and dates as ISO text: the select casts them to the column's type.
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value


class Spark:
    """Spark SQL in this process (local mode, Hive metastore in DIR). A Databricks or
    Spark loader lands objects and arrays as JSON text (STRING); timestamps in UTC; every
    record appended (no upsert), so each key has a row per run that sent it."""

    def __init__(self, work: Path) -> None:
        from pyspark.sql import SparkSession

        os.chdir(work)  # metastore_db/ and derby.log
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # loopback only
        self.spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .appName("fivetran_meta warehouse test")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.warehouse.dir", str(work / "spark-warehouse"))
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.ui.enabled", "false")
            .enableHiveSupport()
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def land(self, tables: dict[str, Table]) -> None:
        from pyspark.sql import types as T

        spark_types = {
            "string": T.StringType(),
            "timestamp": T.TimestampType(),
            "date": T.DateType(),
            "integer": T.LongType(),
            "number": T.DoubleType(),
            "boolean": T.BooleanType(),
            "json": T.StringType(),
        }
        self.spark.sql(f"create database if not exists {SOURCE_SCHEMA}")
        for table in tables.values():
            schema = T.StructType(
                [T.StructField(c, spark_types[table.kind(c)], True) for c in table.properties]
            )
            frame = self.spark.createDataFrame(rows_of(table), schema)
            frame.write.mode("overwrite").saveAsTable(f"{SOURCE_SCHEMA}.{table.name}")

    def profile(self) -> dict[str, Any]:
        return {"type": "spark", "method": "session", "host": "NA", "schema": MODELS_SCHEMA}

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        frame = self.spark.sql(sql)
        return frame.columns, [tuple(row) for row in frame.collect()]

    def close(self) -> None:
        self.spark.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"fakesnow server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise SystemExit(f"fakesnow server did not listen on port {port} within 60 s")


# --- dbt and figures ------------------------------------------------------------------------


def dbt(args: list[str]) -> Any:
    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(args)


def build(engine_name: str, work: Path, build_time: str, types_file: Path | None) -> dict:
    timings: dict[str, float] = {}
    started = time.monotonic()
    # Spark's loader appends (each run's rows again: the models' deduplication is tested
    # there); the others upsert on the tap's keys, as target-snowflake does by default.
    tables = read_tables(work / "messages.jsonl", append=engine_name == "spark")
    if engine_name == "duckdb":
        engine: Any = DuckDB(work)
    elif engine_name == "snowflake":
        engine = Snowflake(
            work, json.loads((types_file or work / "snowflake-types.json").read_text())
        )
    elif engine_name == "spark":
        engine = Spark(work)
    else:
        raise SystemExit(f"engine_run: unknown engine {engine_name!r} (duckdb, snowflake, spark)")
    timings["engine_start_s"] = time.monotonic() - started
    try:
        mark = time.monotonic()
        engine.land(tables)
        timings["land_s"] = time.monotonic() - mark
        project = work / "project"
        if engine_name == "spark":  # no three-part names: sources without a database
            sources = project / "models" / "sources.yml"
            kept = [
                line
                for line in sources.read_text().splitlines()
                if not line.startswith("    database:")
            ]
            sources.write_text("\n".join(kept) + "\n")
        profiles = work / f"profiles-{engine_name}"
        profiles.mkdir(exist_ok=True)
        (profiles / "profiles.yml").write_text(
            json.dumps({"warehouse": {"target": "t", "outputs": {"t": engine.profile()}}})
        )
        target = work / f"target-{engine_name}"
        common = ["--project-dir", str(project), "--profiles-dir", str(profiles)]
        mark = time.monotonic()
        deps = dbt(["deps", *common])
        if not deps.success:
            raise SystemExit(f"dbt deps failed: {deps.exception}")
        variables = {"fivetran_meta_schema": SOURCE_SCHEMA, "fivetran_meta_build_time": build_time}
        result = dbt(
            ["build", *common, "--target-path", str(target), "--vars", json.dumps(variables)]
        )
        timings["dbt_build_s"] = time.monotonic() - mark
        statuses: Counter[str] = Counter()
        failures = []
        for node in getattr(result.result, "results", None) or []:
            status = str(node.status)
            statuses[status] += 1
            if status in ("error", "fail", "runtime error"):
                failures.append(f"{node.node.unique_id}: {status}: {node.message}")
        if result.exception:
            failures.append(f"dbt build raised: {result.exception}")
        mark = time.monotonic()
        models = figures_of_models(engine, target / "manifest.json")
        timings["figures_s"] = time.monotonic() - mark
    finally:
        engine.close()
    timings["total_s"] = time.monotonic() - started
    return {
        "engine": engine_name,
        "statuses": dict(statuses),
        "failures": failures,
        "models": models,
        "timings": timings,
        "source_rows": {name: len(t.rows) for name, t in tables.items()},
    }


def figures_of_models(engine: Any, manifest_path: Path) -> dict[str, Any]:
    manifest = json.loads(manifest_path.read_text())
    models = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["package_name"] != "fivetran_meta":
            continue
        try:
            columns, rows = engine.query(f"select * from {node['relation_name']}")
        except Exception as error:
            models[node["name"]] = {"error": str(error).splitlines()[0][:300]}
            continue
        models[node["name"]] = {"rows": len(rows), "columns": column_figures(columns, rows)}
    return models


def column_figures(columns: list[str], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Per column: non-null count, and a figure by kind: the sum of numbers, the count of
    true booleans, the earliest and latest timestamp or date, distinct texts."""
    out = {}
    for i, name in enumerate(columns):
        values = [row[i] for row in rows if row[i] is not None]
        figure: dict[str, Any] = {"non_null": len(values)}
        if values:
            sample = values[0]
            if isinstance(sample, bool):
                figure.update(kind="boolean", true=sum(1 for v in values if v))
            elif isinstance(sample, (int, float, Decimal)):
                figure.update(kind="number", sum=float(sum(float(v) for v in values)))
            elif isinstance(sample, (datetime, date)):
                texts = sorted(
                    v.isoformat(sep=" ")[:19] if isinstance(v, datetime) else v.isoformat()
                    for v in values
                )
                figure.update(kind="time", min=texts[0], max=texts[-1], distinct=len(set(texts)))
            else:
                figure.update(kind="text", distinct=len({str(v) for v in values}))
        out[name.lower()] = figure
    return out


# --- target-snowflake's types -----------------------------------------------------------------


def snowflake_types(work: Path) -> dict[str, dict[str, str]]:
    """Stream -> column -> the type target-snowflake creates (its connector, offline)."""
    import sqlalchemy
    from snowflake.sqlalchemy.snowdialect import SnowflakeDialect
    from target_snowflake.connector import SnowflakeConnector

    class Offline(SnowflakeConnector):  # type: ignore[misc]
        def create_engine(self) -> Any:
            return sqlalchemy.create_mock_engine("snowflake://u:p@x/d", lambda *a, **k: None)

    connector = Offline(config={"account": "x", "user": "u", "password": "p", "database": "d"})
    dialect = SnowflakeDialect()
    out: dict[str, dict[str, str]] = {}
    for table in read_tables(work / "messages.jsonl").values():
        out[table.name] = {
            column: connector.to_sql_type(prop).compile(dialect=dialect)
            for column, prop in table.properties.items()
        }
    return out


def snowflake_endpoint_settings() -> list[str]:
    """The settings of target-snowflake that could point it at another endpoint (an
    emulator on loopback): none in 0.20.4, whose URL is built from ``account`` alone."""
    from target_snowflake.target import TargetSnowflake

    names = TargetSnowflake.config_jsonschema["properties"]
    return sorted(n for n in names if n in {"host", "port", "protocol", "sqlalchemy_url", "url"})


def main(argv: list[str] | None = None) -> int:
    os.environ["TZ"] = "UTC"
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    time.tzset()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "snowflake-types"])
    parser.add_argument("engine", nargs="?", default="")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--build-time", default="")
    parser.add_argument("--types", type=Path)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    if args.command == "snowflake-types":
        (work / "snowflake-types.json").write_text(json.dumps(snowflake_types(work), indent=1))
        (work / "snowflake-loader.json").write_text(json.dumps(snowflake_endpoint_settings()))
        return 0
    report = build(args.engine, work, args.build_time, args.types)
    (work / f"{args.engine}.json").write_text(json.dumps(report, indent=1, default=str))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
