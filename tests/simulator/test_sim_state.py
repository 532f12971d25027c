"""Deletion, vanishing, mutation, the clock, scenarios and expected counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from sim_helpers import collect, get_data, make_config

from fivetran_sim import SCENARIOS, Simulator
from fivetran_sim.expected import DEFAULT_HISTORY_SPAN
from fivetran_sim.timefmt import parse

SUCCESS_STATUSES = {"COMPLETED", "SUCCESS_WITH_TASK"}
DEFAULT_HISTORY_WINDOW = timedelta(microseconds=DEFAULT_HISTORY_SPAN)


def ts(text: str | None) -> int | None:
    return None if text is None else parse(text)


def same_second(left: str | None, right: str | None) -> bool:
    """Timestamps agree up to the precision the API printed (some have no fraction)."""
    assert left is not None
    assert right is not None
    return parse(left) // 1_000_000 == parse(right) // 1_000_000


def details(sim: Simulator, http: requests.Session, conn_id: str) -> Any:
    return get_data(http, f"{sim.url}/connections/{conn_id}")


def history(sim: Simulator, http: requests.Session, conn_id: str) -> list[Any]:
    end = sim.now
    start = end - timedelta(days=6)
    return collect(
        http,
        f"{sim.url}/connections/{conn_id}/sync-history",
        limit=1000,
        start_time=start.isoformat(),
        end_time=end.isoformat(),
    )


def test_delete_connection(sim: Simulator, http: requests.Session) -> None:
    ds = sim.dataset
    member = next(uid for uid, items in ds.user_connections.items() if items)
    conn_id = ds.user_connections[member][0]["id"]
    before = sim.expected_counts()
    sim.delete_connection(conn_id)
    assert conn_id not in {c["id"] for c in collect(http, sim.url + "/connections")}
    response = http.get(f"{sim.url}/connections/{conn_id}")
    assert response.json()["code"] == "NotFound"
    memberships = collect(http, f"{sim.url}/users/{member}/connections")
    assert conn_id not in {m["id"] for m in memberships}
    after = sim.expected_counts()
    assert after["connections"] == before["connections"] - 1
    assert after["user_memberships"] < before["user_memberships"]
    with pytest.raises(KeyError):
        sim.delete_connection(conn_id)


def test_delete_via_admin(sim: Simulator, http: requests.Session) -> None:
    conn_id = next(iter(sim.dataset.connections))
    response = requests.post(sim.admin_url + "/delete-connection", json={"id": conn_id}, timeout=5)
    assert response.status_code == 200
    assert conn_id not in sim.dataset.connections
    again = requests.post(sim.admin_url + "/delete-connection", json={"id": conn_id}, timeout=5)
    assert again.status_code == 404


def test_vanish_after_list(sim: Simulator, http: requests.Session) -> None:
    conn = next(c for c in sim.dataset.connections.values() if c.has_schema_config)
    before = sim.expected_counts()
    sim.vanish_after_list(conn.id)
    assert conn.id in {c["id"] for c in collect(http, sim.url + "/connections")}
    for suffix in ("", "/schemas", "/sync-history"):
        response = http.get(f"{sim.url}/connections/{conn.id}{suffix}")
        assert response.status_code == 404
        assert response.json()["code"] == "NotFound"
    after = sim.expected_counts()
    assert after["connections"] == before["connections"]
    assert after["connection_schemas"] < before["connection_schemas"]


def test_mutate_connection(sim: Simulator, http: requests.Session) -> None:
    conn = sim.dataset.by_scenario("healthy")[0]
    moment = datetime(2026, 3, 9, 1, 2, 3, tzinfo=timezone.utc)
    task = {"code": "reconnect", "message": "Reconnect", "details": "x"}
    sim.mutate_connection(conn.id, setup_state="broken", tasks=[task], succeeded_at=moment)
    item = details(sim, http, conn.id)
    assert item["status"]["setup_state"] == "broken"
    assert item["status"]["tasks"] == [task]
    assert item["succeeded_at"] == "2026-03-09T01:02:03.000000Z"
    listed = {c["id"]: c for c in collect(http, sim.url + "/connections", limit=1000)}
    assert listed[conn.id]["status"]["setup_state"] == "broken"
    sim.mutate_connection(conn.id, status={"update_state": "delayed"}, sync_frequency=60)
    item = details(sim, http, conn.id)
    assert item["status"]["update_state"] == "delayed"
    assert item["sync_frequency"] == 60
    with pytest.raises(KeyError):
        sim.mutate_connection("no_such_connection", paused=True)


def test_mutate_via_admin(sim: Simulator, http: requests.Session) -> None:
    conn_id = next(iter(sim.dataset.connections))
    response = requests.post(
        sim.admin_url + "/mutate-connection",
        json={"id": conn_id, "paused": True, "warnings": []},
        timeout=5,
    )
    assert response.status_code == 200
    item = details(sim, http, conn_id)
    assert item["paused"] is True
    assert item["status"]["sync_state"] == "paused"


def test_pause_stops_new_syncs_and_resume_restarts_them(
    sim: Simulator, http: requests.Session
) -> None:
    conn = sim.dataset.by_scenario("healthy")[0]
    sim.mutate_connection(conn.id, paused=True)
    before = history(sim, http, conn.id)
    sim.advance(minutes=3 * 24 * 60)
    paused = history(sim, http, conn.id)
    assert {s["start"] for s in paused} <= {s["start"] for s in before}
    sim.mutate_connection(conn.id, paused=False)
    assert details(sim, http, conn.id)["status"]["sync_state"] == "scheduled"
    sim.advance(minutes=2 * 24 * 60)
    resumed = history(sim, http, conn.id)
    assert resumed[-1]["start"] > paused[-1]["start"]


def test_advance_creates_syncs_and_moves_succeeded_at(
    sim: Simulator, http: requests.Session
) -> None:
    conn = sim.dataset.by_scenario("healthy")[0]
    start_clock = sim.now
    first = details(sim, http, conn.id)
    counts = sim.expected_counts()["sync_history"]
    sim.advance(minutes=2 * 24 * 60)
    assert sim.now == start_clock + timedelta(days=2)
    later = details(sim, http, conn.id)
    assert ts(later["succeeded_at"]) > ts(first["succeeded_at"])  # type: ignore[operator]
    syncs = history(sim, http, conn.id)
    done = [s for s in syncs if s["status"] in SUCCESS_STATUSES]
    assert same_second(later["succeeded_at"], done[-1]["end"])
    assert sim.expected_counts()["sync_history"] != counts or counts == 0
    response = requests.post(sim.admin_url + "/advance", json={"minutes": 30}, timeout=5)
    assert response.status_code == 200
    assert sim.now == start_clock + timedelta(days=2, minutes=30)
    with pytest.raises(ValueError, match="forward"):
        sim.advance(minutes=-1)


def test_scenarios_exist_at_twenty_connections(http: requests.Session) -> None:
    with Simulator(make_config(connections=20, seed=3)) as sim:
        present = {c.scenario for c in sim.dataset.connections.values()}
        assert present == set(SCENARIOS)
        # Healthy connections stay the largest group even with 13 special scenarios.
        healthy = len(sim.dataset.by_scenario("healthy"))
        assert healthy >= 7
        assert all(len(sim.dataset.by_scenario(s)) < healthy for s in SCENARIOS[1:])


def _one(sim: Simulator, http: requests.Session, scenario: str) -> tuple[Any, list[Any]]:
    conn = sim.dataset.by_scenario(scenario)[0]
    return details(sim, http, conn.id), history(sim, http, conn.id)


def test_scenario_shapes(shared_sim: Simulator, http: requests.Session) -> None:
    sim = shared_sim
    item, syncs = _one(sim, http, "paused")
    assert item["paused"] is True
    assert item["status"]["sync_state"] == "paused"
    item, syncs = _one(sim, http, "broken")
    assert item["status"]["setup_state"] == "broken"
    assert item["status"]["tasks"]
    item, syncs = _one(sim, http, "incomplete")
    assert item["status"]["setup_state"] == "incomplete"
    assert item["succeeded_at"] is None
    assert item["failed_at"] is None
    assert syncs == []
    item, syncs = _one(sim, http, "rescheduled")
    assert item["status"]["sync_state"] == "rescheduled"
    assert ts(item["status"]["rescheduled_for"]) > ts(sim.now.isoformat())  # type: ignore[operator]
    assert syncs[-1]["status"] == "RESCHEDULED"
    item, syncs = _one(sim, http, "historical_sync")
    assert item["status"]["is_historical_sync"] is True
    assert item["status"]["sync_state"] == "syncing"
    assert syncs[-1]["end"] is None
    assert syncs[-1]["status"] is None  # a running sync has no status yet
    item, syncs = _one(sim, http, "syncing")
    assert item["status"]["sync_state"] == "syncing"
    assert syncs[-1]["end"] is None
    assert all(s["end"] is not None for s in syncs[:-1])
    item, syncs = _one(sim, http, "failing")
    assert ts(item["failed_at"]) > ts(item["succeeded_at"])  # type: ignore[operator]
    assert syncs[-1]["status"] == "FAILURE_WITH_TASK"
    assert same_second(item["failed_at"], syncs[-1]["end"])
    item, syncs = _one(sim, http, "delayed")
    assert item["status"]["update_state"] == "delayed"
    item, syncs = _one(sim, http, "stale")
    age = ts(sim.now.isoformat()) - ts(item["succeeded_at"])  # type: ignore[operator]
    assert age > 3 * item["sync_frequency"] * 60 * 1_000_000
    item, syncs = _one(sim, http, "never_synced")
    assert item["status"]["setup_state"] == "connected"
    assert item["status"]["is_historical_sync"] is True
    assert item["succeeded_at"] is None
    assert item["failed_at"] is None
    assert syncs == [{"start": None, "end": None, "status": None}]  # queued, not started


def test_healthy_timestamps_match_history(shared_sim: Simulator, http: requests.Session) -> None:
    for conn in shared_sim.dataset.by_scenario("healthy")[:10]:
        item = details(shared_sim, http, conn.id)
        syncs = history(shared_sim, http, conn.id)
        done = [s for s in syncs if s["status"] in SUCCESS_STATUSES]
        assert done
        assert same_second(item["succeeded_at"], done[-1]["end"])


def crawl(sim: Simulator, http: requests.Session) -> dict[str, int]:
    """Count what a complete client would read, the way the tap does."""
    url = sim.url
    counts: dict[str, int] = {"account": 1}
    for stream, path in [
        ("groups", "/groups"),
        ("destinations", "/destinations"),
        ("connector_types", "/metadata/connector-types"),
        ("users", "/users"),
        ("teams", "/teams"),
        ("roles", "/roles"),
        ("webhooks", "/webhooks"),
        ("transformations", "/transformations"),
        ("transformation_projects", "/transformation-projects"),
        ("hybrid_deployment_agents", "/hybrid-deployment-agents"),
        ("proxy_agents", "/proxy"),
        ("private_links", "/private-links"),
        ("system_keys", "/system-keys"),
        ("external_logging", "/external-logging"),
    ]:
        counts[stream] = len(collect(http, url + path, limit=1000))
    connections = collect(http, url + "/connections", limit=1000)
    counts["connections"] = len(connections)
    counts["team_memberships"] = sum(
        len(collect(http, f"{url}/teams/{team['id']}/{kind}"))
        for team in collect(http, url + "/teams")
        for kind in ("users", "groups", "connections")
    )
    counts["user_memberships"] = sum(
        len(collect(http, f"{url}/users/{user['id']}/{kind}"))
        for user in collect(http, url + "/users")
        for kind in ("groups", "connections")
    )
    for key in ("connection_schemas", "connection_tables", "connection_columns"):
        counts[key] = 0
    counts["connection_columns_full"] = 0
    counts["sync_history"] = 0
    for conn in connections:
        response = http.get(f"{url}/connections/{conn['id']}/schemas")
        if response.status_code == 200:
            schemas = response.json()["data"]["schemas"]
            counts["connection_schemas"] += len(schemas)
            for schema_name, schema in schemas.items():
                counts["connection_tables"] += len(schema["tables"])
                for table_name, table in schema["tables"].items():
                    counts["connection_columns"] += len(table["columns"])
                    columns = get_data(
                        http,
                        f"{url}/connections/{conn['id']}/schemas/{schema_name}"
                        f"/tables/{table_name}/columns",
                    )["columns"]
                    counts["connection_columns_full"] += len(columns)
        history_response = http.get(
            f"{url}/connections/{conn['id']}/sync-history",
            params={
                "start_time": (sim.now - DEFAULT_HISTORY_WINDOW).isoformat(),
                "end_time": sim.now.isoformat(),
                "limit": 1000,
            },
        )
        if history_response.status_code == 200:
            items = history_response.json()["data"]["items"]
            # A queued sync (null start) has no row in the tap's output.
            counts["sync_history"] += sum(1 for item in items if item["start"] is not None)
    counts["table_lineage"] = counts["connection_tables"]
    return counts


def test_expected_counts_match_a_full_crawl(http: requests.Session) -> None:
    with Simulator(make_config(connections=30, seed=11)) as sim:
        assert crawl(sim, http) == sim.expected_counts()
        ids = list(sim.dataset.connections)
        sim.delete_connection(ids[0])
        sim.vanish_after_list(ids[1])
        sim.mutate_connection(ids[2], paused=True)
        sim.advance(minutes=600)
        assert crawl(sim, http) == sim.expected_counts()
        admin = requests.get(sim.admin_url + "/expected-counts", timeout=5).json()
        assert admin == sim.expected_counts()


def test_expected_sync_history_window(shared_sim: Simulator) -> None:
    now = shared_sim.now
    whole = shared_sim.expected_counts(start=now - timedelta(days=14), end=now)["sync_history"]
    halves = (
        shared_sim.expected_counts(start=now - timedelta(days=14), end=now - timedelta(days=7))[
            "sync_history"
        ]
        + shared_sim.expected_counts(start=now - timedelta(days=7), end=now)["sync_history"]
    )
    assert halves >= whole > shared_sim.expected_counts()["sync_history"]


def test_counts_endpoint(sim: Simulator, http: requests.Session) -> None:
    conn_id = next(iter(sim.dataset.connections))
    http.get(sim.url + "/connections")
    http.get(sim.url + "/connections")
    http.get(f"{sim.url}/connections/{conn_id}/schemas")
    http.get(f"{sim.url}/connections/{conn_id}")
    http.get(sim.url + "/does-not-exist")
    requests.get(sim.admin_url + "/counts", timeout=5)
    counts = sim.request_counts()
    assert counts["GET /v1/connections"] == 2
    assert counts["GET /v1/connections/{id}/schemas"] == 1
    assert counts["GET /v1/connections/{id}"] == 1
    assert sim.total_requests() == 5
    admin = requests.get(sim.admin_url + "/counts", timeout=5).json()
    assert admin == {"counts": counts, "total": 5}
    assert requests.post(sim.admin_url + "/reset-counts", timeout=5).status_code == 200
    assert sim.total_requests() == 0
    sim.reset_counts()
    assert sim.request_counts() == {}
