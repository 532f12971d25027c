"""Contract: the simulator serves Fivetran's fields, and the stream schemas cover them.

``fivetran_fields.json`` (next to this file) lists, per GET endpoint, the response
fields from ``../shared/docs/fivetran-api-fields.md``: our own fixture of field names.
For every endpoint the tap reads, the simulator must serve exactly those fields (plus
the few extras other confirmed sources document, listed below with their source), and
the stream reading it must have a column for each (or say why it must not).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.tap import TapFivetranMeta

if TYPE_CHECKING:
    from collections.abc import Iterator

SPEC = json.loads((Path(__file__).parent / "fivetran_fields.json").read_text())
FIELDS: dict[str, list[str]] = SPEC["endpoints"]
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)

#: Fields served beyond the definition's tables, each documented by another source.
DOCUMENTED_EXTRAS: dict[str, dict[str, str]] = {
    "/v1/destinations/{destinationId}": {
        "config": "details add the service-specific config (fivetran-api.md §3.5, Go SDK)",
    },
    "/v1/connections/{connectionId}": {
        "config": "details carry the service-specific config (fivetran-api.md §3.3)",
    },
    "/v1/transformations": {
        "transformation_config": "project/steps or package settings (fivetran-api.md §3.11)",
    },
    "/v1/transformation-projects/{projectId}": {
        "project_config": "dbt version, git remote, branch... (fivetran-api.md §3.11)",
    },
}

#: endpoint -> (stream, column renames) for the endpoints the tap reads.
READ_BY: dict[str, tuple[str, dict[str, str]]] = {
    "/v1/account/info": ("account", {}),
    "/v1/groups": ("groups", {}),
    "/v1/destinations": ("destinations", {}),
    "/v1/destinations/{destinationId}": ("destinations", {}),
    "/v1/connections": ("connections", {}),
    "/v1/users": ("users", {}),
    "/v1/users/{userId}/groups": ("user_memberships", {"id": "object_id"}),
    "/v1/users/{userId}/connections": ("user_memberships", {"id": "object_id"}),
    "/v1/teams": ("teams", {}),
    "/v1/teams/{teamId}/users": ("team_memberships", {"user_id": "object_id"}),
    "/v1/teams/{teamId}/groups": ("team_memberships", {"id": "object_id"}),
    "/v1/teams/{teamId}/connections": ("team_memberships", {"id": "object_id"}),
    "/v1/roles": ("roles", {}),
    "/v1/webhooks": ("webhooks", {}),
    "/v1/metadata/connector-types": ("connector_types", {}),
    "/v1/transformations": ("transformations", {}),
    "/v1/transformation-projects": ("transformation_projects", {}),
    "/v1/transformation-projects/{projectId}": ("transformation_projects", {}),
    "/v1/connections/{connectionId}/sync-history": (
        "sync_history",
        {"start": "started_at", "end": "ended_at"},
    ),
    "/v1/connections/{connectionId}/schemas": ("connection_schema_settings", {"schemas": ""}),
    # Agents' "version" is emitted as agent_version: target-postgres cannot apply
    # ACTIVATE_VERSION to a table with a column named "version".
    "/v1/hybrid-deployment-agents": ("hybrid_deployment_agents", {"version": "agent_version"}),
    "/v1/proxy": ("proxy_agents", {"version": "agent_version"}),
    "/v1/private-links": ("private_links", {}),
    "/v1/system-keys": ("system_keys", {}),
    "/v1/external-logging": ("external_logging", {}),
}

#: Fields a stream must never emit: secrets, or a token granting access.
NEVER_EMITTED = {
    ("webhooks", "secret"): "always masked; a secret in any case",
    ("connections", "connect_card"): "holds a Connect Card token",
    ("system_keys", "key"): "credential",
    ("system_keys", "secret"): "credential",
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(connections=60, seed=7, api_key="k", api_secret="s", now=NOW)) as s:
        yield s


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = ("k", "s")
        yield session


def _items(http: requests.Session, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list endpoint (or the one object of a details endpoint)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 1000, **params, **({"cursor": cursor} if cursor else {})}
        body = http.get(url, params=query, timeout=10).json()
        assert body["code"] == "Success", (url, body)
        data = body["data"]
        if not isinstance(data, dict) or "items" not in data:
            return [data]
        items.extend(data["items"])
        cursor = data.get("next_cursor")
        if not cursor:
            return items


def _concrete_paths(sim: Simulator) -> dict[str, list[str]]:
    """Each endpoint with the concrete paths that exercise it (a few ids each)."""
    ds = sim.dataset
    live = [cid for cid, c in ds.connections.items() if not c.vanished]
    ids = {
        "{destinationId}": sorted(ds.destinations),
        "{connectionId}": live,
        "{userId}": sorted(ds.users),
        "{teamId}": sorted(ds.teams),
        "{projectId}": sorted(ds.projects),
    }
    paths: dict[str, list[str]] = {}
    for endpoint in FIELDS:
        placeholders = [p for p in ids if p in endpoint]
        if not placeholders:
            paths[endpoint] = [endpoint]
        elif len(placeholders) == 1 and "/schemas/" not in endpoint:
            paths[endpoint] = [endpoint.replace(placeholders[0], i) for i in ids[placeholders[0]]]
    return paths


def _served(sim: Simulator, http: requests.Session, endpoint: str) -> list[dict[str, Any]]:
    base = sim.url.removesuffix("/v1")
    params: dict[str, str] = {}
    if endpoint.endswith("/sync-history"):
        params = {"start_time": "2026-10-27T00:00:00Z", "end_time": "2026-11-02T12:00:00Z"}
    items: list[dict[str, Any]] = []
    for path in _concrete_paths(sim).get(endpoint, []):
        response = http.get(base + path, params={"limit": 1}, timeout=10)
        if response.status_code == 404 and "schemas" in path:
            continue  # a connection without schema config
        items.extend(_items(http, base + path, **params))
    return items


def _keys(items: list[dict[str, Any]], prefix: str = "") -> set[str]:
    """Field names of the items, with ``object.field`` for one level of nesting."""
    found: set[str] = set()
    for item in items:
        for name, value in item.items():
            found.add(prefix + name)
            if isinstance(value, dict) and not prefix:
                documented_nested = any(f.startswith(f"{name}.") for f in _all_fields())
                if documented_nested:
                    found |= _keys([value], f"{name}.")
    return found


def _all_fields() -> set[str]:
    return {field for fields in FIELDS.values() for field in fields}


def served_endpoints() -> list[str]:
    return [e for e in FIELDS if e in READ_BY or e == "/v1/connections/{connectionId}"]


@pytest.mark.parametrize("endpoint", served_endpoints())
def test_the_simulator_serves_exactly_the_documented_fields(
    sim: Simulator, http: requests.Session, endpoint: str
) -> None:
    items = _served(sim, http, endpoint)
    assert items, f"no item served for {endpoint}"
    documented = set(FIELDS[endpoint]) | set(DOCUMENTED_EXTRAS.get(endpoint, {}))
    served = _keys(items)
    if endpoint == "/v1/account/info":  # user_id or system_key_id, by the kind of key
        documented -= {"system_key_id"}
    nested_parents = {f.split(".")[0] for f in documented if "." in f}
    # Nested fields: each documented one served somewhere, none invented.
    assert served - documented == set(), f"{endpoint} serves undocumented fields"
    missing = {f for f in documented - served if f.split(".")[0] not in nested_parents or "." in f}
    assert missing == set(), f"{endpoint} never serves documented fields"


def test_account_info_with_a_system_key_names_the_key() -> None:
    config = SimConfig(connections=3, api_key="k", api_secret="s", system_key=True, now=NOW)
    with Simulator(config) as sim, requests.Session() as http:
        http.auth = ("k", "s")
        info = _items(http, sim.url + "/account/info")[0]
    assert set(info) == set(FIELDS["/v1/account/info"]) - {"user_id"}


def test_the_schema_config_tree_has_the_documented_keys(
    sim: Simulator, http: requests.Session
) -> None:
    tree = SPEC["schema_config_tree"]
    configs = _served(sim, http, "/v1/connections/{connectionId}/schemas")
    assert configs
    seen: dict[str, set[str]] = {"schema": set(), "table": set(), "column": set()}
    for config in configs:
        assert set(config) == set(FIELDS["/v1/connections/{connectionId}/schemas"])
        for schema in config["schemas"].values():
            seen["schema"] |= set(schema)
            for table in schema["tables"].values():
                seen["table"] |= set(table)
                for column in table["columns"].values():
                    seen["column"] |= set(column)
    for level, keys in seen.items():
        assert keys <= set(tree[level]), f"undocumented {level} keys: {keys - set(tree[level])}"
        assert keys == set(tree[level]), f"{level} keys never served: {set(tree[level]) - keys}"


@pytest.mark.parametrize("endpoint", sorted(READ_BY))
def test_every_stream_schema_covers_its_endpoints_fields(endpoint: str) -> None:
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    stream, renames = READ_BY[endpoint]
    columns = set(tap.streams[stream].schema["properties"])
    expected = {
        renames.get(field, field)
        for field in FIELDS[endpoint]
        if "." not in field and (stream, field) not in NEVER_EMITTED
    } - {""}
    assert expected - columns == set(), f"{stream} lacks columns for {endpoint}"


def test_never_emitted_fields_are_really_absent() -> None:
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    for stream, field in NEVER_EMITTED:
        if stream in tap.streams:
            assert field not in tap.streams[stream].schema["properties"], (stream, field)
