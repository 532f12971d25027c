"""Cursor pagination over every list endpoint."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from sim_helpers import collect, get_data, make_config

from fivetran_sim import Simulator

LISTS = [
    ("/groups", "id"),
    ("/destinations", "id"),
    ("/connections", "id"),
    ("/users", "id"),
    ("/teams", "id"),
    ("/roles", "name"),
    ("/webhooks", "id"),
    ("/metadata/connector-types", "id"),
    ("/transformations", "id"),
    ("/transformation-projects", "id"),
]


@pytest.mark.parametrize(("path", "key"), LISTS)
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_every_item_exactly_once(
    shared_sim: Simulator, http: requests.Session, path: str, key: str, limit: int
) -> None:
    items = collect(http, shared_sim.url + path, limit=limit)
    keys = [item[key] for item in items]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys)
    baseline = collect(http, shared_sim.url + path, limit=1000)
    assert keys == [item[key] for item in baseline]


def test_connection_counts_match_dataset(shared_sim: Simulator, http: requests.Session) -> None:
    items = collect(http, shared_sim.url + "/connections", limit=7)
    assert {item["id"] for item in items} == set(shared_sim.dataset.connections)


def test_last_page_has_null_cursor(shared_sim: Simulator, http: requests.Session) -> None:
    data = get_data(http, shared_sim.url + "/connections", limit=1000)
    assert data["next_cursor"] is None
    data = get_data(http, shared_sim.url + "/connections", limit=10)
    cursor = data["next_cursor"]
    assert isinstance(cursor, str)
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert decoded == {"after": data["items"][-1]["id"]}


def test_default_limit_is_100(http: requests.Session) -> None:
    with Simulator(make_config(connections=150)) as sim:
        data = get_data(http, sim.url + "/connections")
        assert len(data["items"]) == 100
        assert data["next_cursor"]


@pytest.mark.parametrize("limit", ["0", "1001", "-3", "abc"])
def test_bad_limit_is_400(shared_sim: Simulator, http: requests.Session, limit: str) -> None:
    response = http.get(shared_sim.url + "/groups", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidInput"


@pytest.mark.parametrize(
    "cursor", ["garbage!!", "eyJub3BlIjoxfQ", base64.b64encode(b"[1]").decode()]
)
def test_bad_cursor_is_400(shared_sim: Simulator, http: requests.Session, cursor: str) -> None:
    response = http.get(shared_sim.url + "/connections", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidInput"


def test_child_lists_paginate(shared_sim: Simulator, http: requests.Session) -> None:
    ds = shared_sim.dataset
    group_id = next(iter(ds.groups))
    in_group = collect(http, f"{shared_sim.url}/groups/{group_id}/connections", limit=3)
    assert {c["id"] for c in in_group} == {
        c.id for c in ds.connections.values() if c.group_id == group_id
    }
    filtered = collect(http, shared_sim.url + "/connections", limit=3, group_id=group_id)
    assert filtered == in_group
    for user_id in ds.users:
        groups = collect(http, f"{shared_sim.url}/users/{user_id}/groups", limit=1)
        assert [m["id"] for m in groups] == [m["id"] for m in ds.user_groups[user_id]]


def test_schema_filter(shared_sim: Simulator, http: requests.Session) -> None:
    conn = next(iter(shared_sim.dataset.connections.values()))
    found = collect(http, shared_sim.url + "/connections", schema=conn.schema)
    assert conn.id in {c["id"] for c in found}
    assert all(c["schema"] == conn.schema for c in found)
    assert collect(http, shared_sim.url + "/connections", schema="no_such_schema") == []
