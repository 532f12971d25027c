"""The SQL in docs/history.md, run on PostgreSQL over three simulator-backed tap runs.

Rows are loaded the way target-postgres stores them (date-time as ``timestamp``,
objects and arrays as ``jsonb``, upsert on the primary key). Needs ``FTM_TEST_PG_DSN``
(``./scripts/test`` starts a throwaway server); skipped without it.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from history_helpers import Capture, freeze_tap_clock, run_capture

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.streams.syncs import ConnectionStatusHistoryStream, SyncHistoryStream

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

DOC = Path(__file__).resolve().parents[1] / "docs" / "history.md"
SIM_NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
PG_TYPES = {"string": "text", "integer": "bigint", "number": "numeric", "boolean": "boolean"}


def doc_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.DOTALL)


def column_type(spec: dict[str, Any]) -> str:
    kinds = [k for k in spec.get("type", []) if k != "null"]
    if spec.get("format") == "date-time":
        return "timestamp"
    if kinds and kinds[0] in {"object", "array"}:
        return "jsonb"
    return PG_TYPES.get(kinds[0] if kinds else "string", "text")


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    dsn = os.environ.get("FTM_TEST_PG_DSN")
    if not dsn:
        pytest.skip("FTM_TEST_PG_DSN is not set: no PostgreSQL (run ./scripts/test)")
    psycopg = pytest.importorskip("psycopg")
    schema = f"history_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
        conn.execute(f"set search_path = {schema}")
        try:
            yield conn, schema
        finally:
            conn.execute(f"drop schema {schema} cascade")


def load(conn: Any, schema: str, stream: Any, rows: list[dict[str, Any]]) -> None:
    properties = stream.schema["properties"]
    columns = list(properties)
    ddl = ", ".join(f'"{c}" {column_type(properties[c])}' for c in columns)
    keys = ", ".join(f'"{k}"' for k in stream.primary_keys)
    conn.execute(
        f'create table if not exists {schema}."{stream.name}" ({ddl}, primary key ({keys}))'
    )
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
    sql = (
        f'insert into {schema}."{stream.name}" ({names}) values ({marks}) '
        f"on conflict ({keys}) do update set {updates}"
    )
    for row in rows:
        values = [
            json.dumps(row.get(c)) if column_type(properties[c]) == "jsonb" else row.get(c)
            for c in columns
        ]
        conn.execute(sql, values)


def test_since_when_each_connection_is_failing(
    pg: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, schema = pg
    clock = freeze_tap_clock(monkeypatch, SIM_NOW)
    config = SimConfig(connections=30, seed=1, api_key="k", api_secret="s", now=SIM_NOW)
    runs: list[Capture] = []
    with Simulator(config) as sim:
        state: dict[str, Any] | None = None
        for _ in range(3):
            tap_config = {"api_key": "k", "api_secret": "s", "api_url": sim.url}
            run = run_capture(tap_config, state=state)
            assert run.error is None
            runs.append(run)
            state = run.last_state
            sim.advance(minutes=360)
            clock.now = sim.now
        scenario = {cid: c.scenario for cid, c in sim.dataset.connections.items()}

    for stream_type, name in (
        (SyncHistoryStream, "sync_history"),
        (ConnectionStatusHistoryStream, "connection_status_history"),
    ):
        rows = [row for run in runs for row in run.records(name)]
        load(conn, schema, stream_type, rows)

    status_query, history_query, *_ = (
        q.replace("fivetran_meta.", f"{schema}.") for q in doc_queries()
    )
    by_status = {row[0]: row for row in conn.execute(status_query).fetchall()}
    by_history = {row[0]: row for row in conn.execute(history_query).fetchall()}

    assert {scenario[c] for c in by_status} == {"failing", "broken"}
    assert {scenario[c] for c in by_history} == {"failing", "broken"}
    for cid, row in by_history.items():
        _, failing_since, failed_syncs, latest_status = row
        assert failed_syncs >= 1
        assert latest_status == "FAILURE_WITH_TASK"
        assert failing_since <= by_status[cid][3]  # the sync history knows it first
    for query in doc_queries()[2:]:
        conn.execute(query.replace("fivetran_meta.", f"{schema}."))
