"""The plain-script peer: what the tap's first run does, without a framework.

    .venv/bin/python benchmarks/peer_plain.py --api-url URL --key K --secret S \
        --now 2026-11-20T12:00:00Z --start 2026-11-14T12:00:00Z [--concurrency 8] > out.jsonl

``requests`` with one keep-alive session and a thread pool: the same endpoints as the tap
(account, groups, destinations and their details, connections, per connection its sync
history in windows of just under 7 days and its schema config, connector types, users and
teams with their memberships, roles, webhooks, transformations, transformation projects
and their details, hybrid deployment agents, proxy agents and the connections each serves,
private links, system keys, log services and their details), every list page at the
API's maximum size. It writes the same records as JSON lines (``{"stream": ...,
"record": ...}``), built with the tap's own pure row functions (``parse_sync_item``,
``flatten``, ``status_row``, ``health.derived_columns``, ``destination_name``), so the
benchmark compares what a framework costs on top of the same work: HTTP, JSON parsing,
building rows, ``json.dumps``. No Singer envelope, no state, no retries, no rate budget,
no redaction of account-level items, and no
singer-sdk: only the tap's pure modules are imported.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tap_fivetran_meta.rules import health, recheck
from tap_fivetran_meta.rules.lineage import (
    destination_database,
    destination_fqn,
    destination_name,
)
from tap_fivetran_meta.rules.schema_changes import object_key
from tap_fivetran_meta.rules.schema_config import flatten
from tap_fivetran_meta.rules.status_history import issue_rows, status_row
from tap_fivetran_meta.rules.sync_items import ConnectionRef, parse_sync_item
from tap_fivetran_meta.rules.timeutil import format_timestamp, normalize_timestamp, parse_timestamp
from tap_fivetran_meta.rules.windows import plan_windows

PAGE = 1000
V2 = "application/json;version=2"


class Api:
    """GETs with one session per thread-safe pool; pages followed to the end."""

    def __init__(self, base: str, key: str, secret: str, concurrency: int) -> None:
        self.base = base.rstrip("/")
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(10, concurrency))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.auth = (key, secret)
        self.requests = 0

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        accept = V2 if path.startswith(("/connections", "/destinations")) else "application/json"
        self.requests += 1
        response = self.session.get(
            f"{self.base}{path}", params=params, headers={"Accept": accept}, timeout=60
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def data(self, path: str) -> dict[str, Any] | None:
        body = self.get(path)
        return None if body is None else body.get("data")

    def items(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {"limit": PAGE, **(params or {})}
            if cursor:
                query["cursor"] = cursor
            body = self.get(path, query)
            if body is None:
                return found
            data = body.get("data") or {}
            found.extend(data.get("items") or [])
            cursor = data.get("next_cursor")
            if not cursor:
                return found


ACCOUNT: dict[str, str] = {}


def emit(stream: str, record: dict[str, Any]) -> None:
    """One record as a JSON line, with the account id every row of the tap carries."""
    sys.stdout.write(json.dumps({"stream": stream, "record": {**record, **ACCOUNT}}) + "\n")


def query_time(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def connection_record(
    item: dict[str, Any], now: Any, infra: health.Infrastructure
) -> dict[str, Any]:
    """The processed connection (derived columns and flattened status), as the tap builds it."""
    row = dict(item)
    for name in ("created_at", "succeeded_at", "failed_at"):
        if row.get(name) is not None:
            row[name] = normalize_timestamp(row[name])
    status = row.get("status") or {}
    if status.get("rescheduled_for") is not None:
        status["rescheduled_for"] = normalize_timestamp(status["rescheduled_for"])
    for name in ("setup_state", "sync_state", "update_state"):
        value = status.get(name)
        row[name] = value.lower() if isinstance(value, str) else None
    row["is_historical_sync"] = status.get("is_historical_sync")
    row["rescheduled_for"] = status.get("rescheduled_for")
    row.pop("connect_card", None)
    row.update(health.derived_columns(row, now=now, slack_minutes=60, infra=infra))
    return row


def history_rows(api: Api, connection: dict[str, Any], start: Any, now: Any) -> list[dict]:
    ref = ConnectionRef.from_context(
        {
            "connection_id": connection["id"],
            "group_id": connection.get("group_id"),
            "service": connection.get("service"),
        }
    )
    path = f"/connections/{quote(connection['id'], safe='')}/sync-history"
    rows: dict[str, dict[str, Any]] = {}
    oldest = format_timestamp(start)
    for window in plan_windows(start, now):
        params = {"start_time": query_time(window.start), "end_time": query_time(window.end)}
        parsed = [parse_sync_item(item, ref) for item in api.items(path, params)]
        for row in sorted((r for r in parsed if r), key=lambda r: r["started_at"]):
            if row["started_at"] >= oldest:
                rows.setdefault(row["started_at"], row)
    return list(rows.values())


def schema_rows(
    api: Api, connection: dict[str, Any], database_of: Any
) -> dict[str, list[dict[str, Any]]]:
    data = api.data(f"/connections/{quote(connection['id'], safe='')}/schemas")
    if data is None:
        return {}
    config = flatten(data)
    columns = {
        "connection_id": connection["id"],
        "group_id": connection.get("group_id"),
        "service": connection.get("service"),
    }
    database = database_of(connection.get("group_id"))
    multi = len(config.schemas) > 1
    lineage = []
    for table in config.tables:
        name = destination_name(
            connection_schema=connection.get("schema"),
            source_schema=table["schema_name"],
            schema_name_in_destination=table["schema_name_in_destination"],
            source_table=table["table_name"],
            table_name_in_destination=table["name_in_destination"],
            multi_schema=multi,
        )
        lineage.append(
            {
                **columns,
                "source_schema": table["schema_name"],
                "source_table": table["table_name"],
                "connection_schema": connection.get("schema"),
                "destination_id": connection.get("group_id"),
                "destination_database": database,
                "destination_schema": name.schema,
                "destination_table": name.table,
                "destination_fqn": destination_fqn(database, name.schema, name.table),
                "enabled": table["enabled"] is True and table["schema_enabled"] is True,
                "schema_enabled": table["schema_enabled"],
                "table_enabled": table["enabled"],
                "sync_mode": table["sync_mode"],
                "lineage_rule": name.rule,
            }
        )
    tables = []
    for table in config.tables:
        row = {**columns, **table}
        row.pop("schema_name_in_destination", None)
        row["object_key"] = object_key(table["schema_name"], table["table_name"])
        tables.append(row)
    column_rows = [
        {
            **columns,
            **row,
            "object_key": object_key(row["schema_name"], row["table_name"], row["column_name"]),
        }
        for row in config.columns
    ]
    return {
        "connection_schema_settings": [{**columns, **config.settings}],
        "connection_schemas": [{**columns, **row} for row in config.schemas],
        "connection_tables": tables,
        "connection_columns": column_rows,
        "table_lineage": lineage,
    }


def infrastructure(api: Api, pool: ThreadPoolExecutor) -> health.Infrastructure:
    """The account-level lists the tap reads before the connections, emitted as it does."""
    lists = {
        name: api.items(path)
        for name, path in (
            ("hybrid_deployment_agents", "/hybrid-deployment-agents"),
            ("proxy_agents", "/proxy"),
            ("private_links", "/private-links"),
            ("system_keys", "/system-keys"),
            ("external_logging", "/external-logging"),
        )
    }
    served = pool.map(
        lambda p: api.items(f"/proxy/{quote(p['id'], safe='')}/connections"),
        lists["proxy_agents"],
    )
    for proxy, connections in zip(lists["proxy_agents"], served, strict=True):
        proxy["connection_ids"] = sorted({c["connection_id"] for c in connections})
    logs = pool.map(
        lambda log: api.data(f"/external-logging/{quote(log['id'], safe='')}"),
        lists["external_logging"],
    )
    lists["external_logging"] = [
        {**log, **(detail or {})}
        for log, detail in zip(lists["external_logging"], logs, strict=True)
    ]
    for stream, items in lists.items():
        for item in items:
            emit(stream, item)
    return health.Infrastructure(
        hybrid_deployment_agents={a["id"]: a for a in lists["hybrid_deployment_agents"]},
        proxy_agents={p["id"]: p for p in lists["proxy_agents"]},
        private_links={link["id"]: link for link in lists["private_links"]},
    )


def emit_connection(
    record: dict[str, Any], history: list[dict], schemas: dict[str, list[dict[str, Any]]]
) -> None:
    """One connection and its children's rows, in the tap's order."""
    emit("connections", record)
    for row in history:
        emit("sync_history", row)
    status = status_row(record, observed_at=record["observed_at"], previous_fingerprint=None)
    for issue in issue_rows(record, status):
        emit("connection_status_issues", issue)
    emit("connection_status_history", status)
    recheck.sync_marker(record)  # the tap computes it once per connection as well
    for stream, rows in schemas.items():
        for row in rows:
            emit(stream, row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--now", required=True, help="the run's start (UTC ISO 8601)")
    parser.add_argument("--start", required=True, help="start_date (UTC ISO 8601)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    now, start = parse_timestamp(args.now), parse_timestamp(args.start)
    assert now is not None
    assert start is not None
    api = Api(args.api_url, args.key, args.secret, args.concurrency)
    pool = ThreadPoolExecutor(args.concurrency)

    account = api.data("/account/info") or {}
    ACCOUNT["account_id"] = str(account.get("account_id"))
    emit("account", account)
    infra = infrastructure(api, pool)
    for stream, path in (
        ("groups", "/groups"),
        ("connector_types", "/metadata/connector-types"),
        ("roles", "/roles"),
        ("webhooks", "/webhooks"),
        ("transformations", "/transformations"),
    ):
        for item in api.items(path):
            emit(stream, item)
    destinations = api.items("/destinations")
    details = dict(
        zip(
            [d["id"] for d in destinations],
            pool.map(lambda d: api.data(f"/destinations/{quote(d['id'], safe='')}"), destinations),
            strict=True,
        )
    )
    for item in destinations:
        emit("destinations", {**item, **(details[item["id"]] or {})})

    def database_of(group_id: str | None) -> str | None:
        config = (details.get(group_id or "") or {}).get("config")
        return destination_database(config if isinstance(config, dict) else None)

    def per_connection(connection: dict[str, Any]) -> tuple[list, dict]:
        return history_rows(api, connection, start, now), schema_rows(api, connection, database_of)

    connections = api.items("/connections")
    for item, (history, schemas) in zip(
        connections, pool.map(per_connection, connections), strict=True
    ):
        emit_connection(connection_record(item, now, infra), history, schemas)

    for parent, kinds, stream in (
        ("users", ("groups", "connections"), "user_memberships"),
        ("teams", ("users", "groups", "connections"), "team_memberships"),
    ):
        items = api.items(f"/{parent}")
        lists = pool.map(
            lambda item, kinds=kinds, parent=parent: [
                api.items(f"/{parent}/{quote(item['id'], safe='')}/{kind}") for kind in kinds
            ],
            items,
        )
        for item, memberships in zip(items, lists, strict=True):
            emit(parent, item)
            for members in memberships:
                for member in members:
                    emit(stream, {"parent_id": item["id"], **member})
    projects = api.items("/transformation-projects")
    for item, detail in zip(
        projects,
        pool.map(
            lambda p: api.data(f"/transformation-projects/{quote(p['id'], safe='')}"), projects
        ),
        strict=True,
    ):
        emit("transformation_projects", {**item, **(detail or {})})
    emit("tap_runs", {"run_id": "peer", "started_at": args.now})  # the run log: one row
    pool.shutdown()
    sys.stdout.flush()
    print(f"peer: {api.requests} requests", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
