"""Payload shapes of the /v1 endpoints, compared with the API reference."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import requests
from sim_helpers import FIXED_NOW, collect, get_data, make_config

from fivetran_sim import Simulator

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z$")
# Which fields each endpoint serves is checked against Fivetran's list in tests/contract/;
# here: the status fields every connection carries.
STATUS_FIELDS = {
    "setup_state",
    "sync_state",
    "update_state",
    "is_historical_sync",
    "tasks",
    "warnings",
}


def iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_envelope_messages(shared_sim: Simulator, http: requests.Session) -> None:
    body = http.get(shared_sim.url + "/groups").json()
    assert list(body) == ["code", "message", "data"]
    assert body["message"] == "Groups retrieved successfully"
    conn_id = next(iter(shared_sim.dataset.connections))
    details = http.get(f"{shared_sim.url}/connections/{conn_id}").json()
    assert set(details) == {"code", "data"}


def test_connection_items(shared_sim: Simulator, http: requests.Session) -> None:
    items = collect(http, shared_sim.url + "/connections", limit=1000)
    services = {item["service"] for item in items}
    assert len(services) >= 15
    precisions = set()
    for item in items:
        assert isinstance(item["config"], dict)  # in the list item's definition
        assert set(item["status"]) >= STATUS_FIELDS
        assert re.fullmatch(r"[a-z]+_[a-z]+(_[a-z]+)?", item["id"])
        assert item["group_id"] in shared_sim.dataset.groups
        assert item["status"]["setup_state"] in {"connected", "broken", "incomplete"}
        assert item["status"]["sync_state"] in {"scheduled", "syncing", "paused", "rescheduled"}
        assert item["status"]["update_state"] in {"on_schedule", "delayed"}
        for key in ("created_at", "succeeded_at", "failed_at"):
            if item[key] is not None:
                assert TS.match(item[key]), item[key]
                precisions.add(len(item[key]))
        if item["status"]["sync_state"] == "rescheduled":
            assert TS.match(item["status"]["rescheduled_for"])
    assert len(precisions) >= 3
    per_group: dict[str, set[str]] = {}
    for item in items:
        assert item["schema"] not in per_group.setdefault(item["group_id"], set())
        per_group[item["group_id"]].add(item["schema"])
    assert any("." in item["schema"] for item in items)


def test_connection_details_masks_secrets(shared_sim: Simulator, http: requests.Session) -> None:
    for conn in list(shared_sim.dataset.connections.values())[:20]:
        if conn.vanished:
            continue
        data = get_data(http, f"{shared_sim.url}/connections/{conn.id}")
        assert isinstance(data["config"], dict)
        for key, value in data["config"].items():
            if key in {"password", "secret_key", "access_token", "refresh_token", "secret"}:
                assert value == "******"


def test_destinations(shared_sim: Simulator, http: requests.Session) -> None:
    items = collect(http, shared_sim.url + "/destinations")
    assert {d["id"] for d in items} == set(shared_sim.dataset.groups)
    for item in items:
        assert item["id"] == item["group_id"]
        assert "config" not in item
        assert isinstance(item["time_zone_offset"], str)
        assert item["setup_status"] == item["setup_status"].lower()
        details = get_data(http, f"{shared_sim.url}/destinations/{item['id']}")
        assert details["setup_tests"]
        assert {"host", "database"} <= set(details["config"])
        secrets = {k: v for k, v in details["config"].items() if k in {"password", "private_key"}}
        assert secrets
        assert set(secrets.values()) == {"******"}


def test_schema_config_and_columns_agree(shared_sim: Simulator, http: requests.Session) -> None:
    checked = 0
    for conn in list(shared_sim.dataset.connections.values())[:25]:
        if not conn.has_schema_config:
            continue
        config = get_data(http, f"{shared_sim.url}/connections/{conn.id}/schemas")
        assert config["schema_change_handling"] in {"ALLOW_ALL", "ALLOW_COLUMNS", "BLOCK_ALL"}
        assert isinstance(config["enable_new_by_default"], bool)
        assert 1 <= len(config["schemas"]) <= 3
        for schema_name, schema in config["schemas"].items():
            for table_name, table in schema["tables"].items():
                assert table["enabled_patch_settings"]["allowed"] in (True, False)
                if "sync_mode" in table:
                    assert table["sync_mode"] in {"SOFT_DELETE", "HISTORY", "LIVE"}
                assert len(table["columns"]) <= 3
                url = (
                    f"{shared_sim.url}/connections/{conn.id}/schemas/{schema_name}"
                    f"/tables/{table_name}/columns"
                )
                full = get_data(http, url)["columns"]
                assert 3 <= len(full) <= 12
                for column_name, column in table["columns"].items():
                    assert full[column_name] == column
                    assert column["enabled"] is False or column["hashed"] is True
                checked += 1
    assert checked > 20


def test_columns_unknown_table(shared_sim: Simulator, http: requests.Session) -> None:
    conn = next(c for c in shared_sim.dataset.connections.values() if c.has_schema_config)
    url = f"{shared_sim.url}/connections/{conn.id}/schemas/nope/tables/nope/columns"
    response = http.get(url)
    assert response.status_code == 404
    assert response.json()["code"].startswith("NotFound")


def test_users_and_memberships(shared_sim: Simulator, http: requests.Session) -> None:
    users = collect(http, shared_sim.url + "/users")
    assert any(user["logged_in_at"] is None for user in users) or len(users) < 10
    active = collect(http, shared_sim.url + "/users", active="true")
    assert active == [u for u in users if u["active"]]
    for user in users:
        for kind in ("groups", "connections"):
            for membership in collect(http, f"{shared_sim.url}/users/{user['id']}/{kind}"):
                assert set(membership) == {"id", "role", "created_at"}


def test_teams_and_memberships(shared_sim: Simulator, http: requests.Session) -> None:
    teams = collect(http, shared_sim.url + "/teams")
    assert len(teams) >= 2
    for team in teams:
        assert set(team) == {"id", "name", "description", "role"}
        members = collect(http, f"{shared_sim.url}/teams/{team['id']}/users")
        assert members
        assert all(set(m) == {"user_id", "role", "created_at"} for m in members)
        collect(http, f"{shared_sim.url}/teams/{team['id']}/groups")
        collect(http, f"{shared_sim.url}/teams/{team['id']}/connections")


def test_roles_webhooks_connector_types(shared_sim: Simulator, http: requests.Session) -> None:
    roles = collect(http, shared_sim.url + "/roles")
    assert len(roles) >= 12
    assert any(r["is_custom"] for r in roles)
    deprecated = [r for r in roles if r["is_deprecated"]]
    assert deprecated
    assert all(r["replacement_role_name"] for r in deprecated)
    hooks = collect(http, shared_sim.url + "/webhooks")
    assert {h["type"] for h in hooks} == {"account", "group"}
    assert all(h["secret"] == "******" for h in hooks)
    assert all("group_id" in h for h in hooks if h["type"] == "group")
    types = collect(http, shared_sim.url + "/metadata/connector-types")
    used = {c.service for c in shared_sim.dataset.connections.values()}
    assert used < {t["id"] for t in types}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", t["service_status_updated_at"]) for t in types)


def test_transformations_and_projects(shared_sim: Simulator, http: requests.Session) -> None:
    items = collect(http, shared_sim.url + "/transformations")
    assert {t["type"] for t in items} == {"DBT_CORE", "QUICKSTART"}
    quick = collect(http, shared_sim.url + "/transformations", type="QUICKSTART")
    assert quick == [t for t in items if t["type"] == "QUICKSTART"]
    projects = collect(http, shared_sim.url + "/transformation-projects")
    assert projects
    assert set(projects[0]) == {"id", "type", "created_at", "created_by_id", "group_id"}
    details = get_data(http, f"{shared_sim.url}/transformation-projects/{projects[0]['id']}")
    assert "project_config" in details


# ---------------------------------------------------------------------- sync history
def history_url(sim: Simulator, conn_id: str) -> str:
    return f"{sim.url}/connections/{conn_id}/sync-history"


def healthy_id(sim: Simulator) -> str:
    return sim.dataset.by_scenario("healthy")[0].id


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (FIXED_NOW - timedelta(days=7, seconds=1), FIXED_NOW),
        # Whether exactly 7 days is allowed is not documented: refused by default.
        (FIXED_NOW - timedelta(days=7), FIXED_NOW),
        (FIXED_NOW, FIXED_NOW),
        (FIXED_NOW, FIXED_NOW - timedelta(hours=1)),
    ],
)
def test_sync_history_window_rules(
    shared_sim: Simulator, http: requests.Session, start: Any, end: Any
) -> None:
    response = http.get(
        history_url(shared_sim, healthy_id(shared_sim)),
        params={"start_time": iso(start), "end_time": iso(end)},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidInput"


def test_sync_history_exactly_seven_days_behind_a_switch(http: requests.Session) -> None:
    with Simulator(make_config(sync_window_inclusive=True)) as sim:
        response = http.get(
            history_url(sim, healthy_id(sim)),
            params={"start_time": iso(FIXED_NOW - timedelta(days=7)), "end_time": iso(FIXED_NOW)},
        )
    assert response.status_code == 200


def test_sync_history_bad_timestamp(shared_sim: Simulator, http: requests.Session) -> None:
    response = http.get(
        history_url(shared_sim, healthy_id(shared_sim)), params={"start_time": "yesterday"}
    )
    assert response.status_code == 400


DOCUMENTED_STATUSES = {
    "COMPLETED",
    "SUCCESS_WITH_TASK",
    "FAILURE_WITH_TASK",
    "CANCELED",
    "TRUNCATED",
    "RESCHEDULED",
    None,  # a running sync
}


def test_sync_history_items_have_the_documented_shape(
    shared_sim: Simulator, http: requests.Session
) -> None:
    items = collect(
        http,
        history_url(shared_sim, healthy_id(shared_sim)),
        limit=2,
        start_time=iso(FIXED_NOW - timedelta(days=6)),
        end_time=iso(FIXED_NOW),
    )
    assert items
    for item in items:
        assert set(item) == {"start", "end", "status"}
        assert item["status"] in DOCUMENTED_STATUSES
    starts = [item["start"] for item in items]
    assert starts == sorted(starts)


def test_every_documented_status_is_served(shared_sim: Simulator) -> None:
    seen = {
        item["status"]
        for conn_id in shared_sim.dataset.connections
        if not shared_sim.dataset.connections[conn_id].vanished
        for item in shared_sim.sync_history(conn_id, start=FIXED_NOW - timedelta(days=21))
    }
    assert seen == DOCUMENTED_STATUSES


def test_a_queued_first_sync_is_listed_with_a_null_start(
    shared_sim: Simulator, http: requests.Session
) -> None:
    new = shared_sim.dataset.by_scenario("never_synced")[0]
    items = collect(
        http,
        history_url(shared_sim, new.id),
        start_time=iso(FIXED_NOW - timedelta(days=1)),
        end_time=iso(FIXED_NOW),
    )
    assert items == [{"start": None, "end": None, "status": None}]
    details = get_data(http, f"{shared_sim.url}/connections/{new.id}")
    assert details["status"]["is_historical_sync"] is True
    assert details["succeeded_at"] is None
    assert details["failed_at"] is None


def test_undocumented_sync_fields_only_behind_a_switch(http: requests.Session) -> None:
    with Simulator(make_config(sync_item_extras=True)) as sim:
        items = collect(
            http,
            history_url(sim, healthy_id(sim)),
            start_time=iso(FIXED_NOW - timedelta(days=6)),
            end_time=iso(FIXED_NOW),
        )
    assert items
    extras = {"sync_id", "reason", "extract_records", "process_records", "load_records"}
    assert all(set(item) == {"start", "end", "status"} | extras for item in items)
    assert len({item["sync_id"] for item in items}) == len(items)


def test_sync_history_default_window_is_last_hour(
    shared_sim: Simulator, http: requests.Session
) -> None:
    syncing = shared_sim.dataset.by_scenario("historical_sync")[0]
    default = get_data(http, history_url(shared_sim, syncing.id))["items"]
    explicit = collect(
        http,
        history_url(shared_sim, syncing.id),
        start_time=iso(FIXED_NOW - timedelta(hours=1)),
        end_time=iso(FIXED_NOW),
    )
    assert default == explicit
