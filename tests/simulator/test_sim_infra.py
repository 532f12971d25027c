"""Agents, proxies, private links, system keys and external logging, and what they block."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sim_helpers import collect, get_data, make_config

from fivetran_sim import Simulator
from fivetran_sim.timefmt import parse

# Item fields of each list, as ../shared/docs/fivetran-api-fields.md lists them.
AGENT_FIELDS = {
    "id",
    "version",
    "enabled",
    "online",
    "usage",
    "display_name",
    "group_id",
    "registered_at",
    "created_by",
    "deployment_type",
    "updated_at",
    "last_used_at",
}
PROXY_FIELDS = {
    "id",
    "account_id",
    "registered_at",
    "region",
    "created_by",
    "display_name",
    "version",
    "status",
    "connector_count",
    "destination_count",
}
PRIVATE_LINK_FIELDS = {
    "id",
    "name",
    "region",
    "service",
    "state",
    "host",
    "account_id",
    "cloud_provider",
    "created_at",
    "created_by",
    "state_summary",
    "resource_upstream_status",
}
SYSTEM_KEY_FIELDS = {
    "id",
    "name",
    "key",
    "secret",
    "permissions",
    "created_at",
    "updated_at",
    "expired_at",
    "last_used_at",
}
LOG_FIELDS = {"id", "service", "enabled", "status"}


def listed(sim: Simulator, http: requests.Session, path: str, **params: str) -> list[dict]:
    return collect(http, sim.url + path, limit=1000, **params)


def connections(sim: Simulator, http: requests.Session) -> list[dict]:
    return listed(sim, http, "/connections")


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/hybrid-deployment-agents", AGENT_FIELDS),
        ("/proxy", PROXY_FIELDS),
        ("/private-links", PRIVATE_LINK_FIELDS),
        ("/system-keys", SYSTEM_KEY_FIELDS),
        ("/external-logging", LOG_FIELDS),
    ],
)
def test_list_items_have_exactly_the_documented_fields(
    shared_sim: Simulator, http: requests.Session, path: str, fields: set[str]
) -> None:
    items = listed(shared_sim, http, path)
    assert items
    for item in items:
        assert set(item) == fields, path


def test_agents_group_filter_is_camel_case(shared_sim: Simulator, http: requests.Session) -> None:
    agents = listed(shared_sim, http, "/hybrid-deployment-agents")
    group_id = agents[0]["group_id"]
    in_group = listed(shared_sim, http, "/hybrid-deployment-agents", groupId=group_id)
    assert in_group == [a for a in agents if a["group_id"] == group_id]
    assert len(in_group) < len(agents) or len({a["group_id"] for a in agents}) == 1
    # The snake_case name is not a filter: it is ignored, as unknown parameters are.
    assert listed(shared_sim, http, "/hybrid-deployment-agents", group_id=group_id) == agents
    assert listed(shared_sim, http, "/hybrid-deployment-agents", groupId="nope_nope") == []


def test_every_reference_names_a_listed_object(
    shared_sim: Simulator, http: requests.Session
) -> None:
    agents = {a["id"]: a for a in listed(shared_sim, http, "/hybrid-deployment-agents")}
    proxies = {p["id"] for p in listed(shared_sim, http, "/proxy")}
    links = {link["id"] for link in listed(shared_sim, http, "/private-links")}
    for item in connections(shared_sim, http):
        if item["hybrid_deployment_agent_id"]:
            agent = agents[item["hybrid_deployment_agent_id"]]
            assert agent["group_id"] == item["group_id"]
            assert item.get("local_processing_agent_id") in (None, agent["id"])
        if item["proxy_agent_id"]:
            assert item["proxy_agent_id"] in proxies
            assert item["networking_method"] == "ProxyAgent"
        if item["private_link_id"]:
            assert item["private_link_id"] in links
            assert item["networking_method"] == "PrivateLink"
    for destination in listed(shared_sim, http, "/destinations"):
        if destination["hybrid_deployment_agent_id"]:
            assert destination["hybrid_deployment_agent_id"] in agents
        if destination["private_link_id"]:
            assert destination["private_link_id"] in links


def test_usage_and_counts_follow_the_connections(sim: Simulator, http: requests.Session) -> None:
    items = connections(sim, http)
    for agent in listed(sim, http, "/hybrid-deployment-agents"):
        users = [i for i in items if i["hybrid_deployment_agent_id"] == agent["id"]]
        assert agent["usage"] == [
            {"schema": i["schema"], "service": i["service"], "connection_id": i["id"]}
            for i in users
        ]
    proxy = next(p for p in listed(sim, http, "/proxy") if p["connector_count"])
    served = listed(sim, http, f"/proxy/{proxy['id']}/connections")
    assert served == [
        {"connection_id": i["id"]} for i in items if i["proxy_agent_id"] == proxy["id"]
    ]
    assert len(served) == proxy["connector_count"]
    sim.delete_connection(served[0]["connection_id"])
    after = next(p for p in listed(sim, http, "/proxy") if p["id"] == proxy["id"])
    assert after["connector_count"] == proxy["connector_count"] - 1
    assert len(listed(sim, http, f"/proxy/{proxy['id']}/connections")) == len(served) - 1


def test_blocked_scenarios_go_through_an_object_that_is_down(
    shared_sim: Simulator, http: requests.Session
) -> None:
    sim = shared_sim
    agents = {a["id"]: a for a in listed(sim, http, "/hybrid-deployment-agents")}
    proxies = {p["id"]: p for p in listed(sim, http, "/proxy")}
    links = {link["id"]: link for link in listed(sim, http, "/private-links")}
    by_id = {i["id"]: i for i in connections(sim, http)}
    offline = by_id[sim.dataset.by_scenario("agent_offline")[0].id]
    assert agents[offline["hybrid_deployment_agent_id"]]["online"] is False
    proxy_down = by_id[sim.dataset.by_scenario("proxy_down")[0].id]
    assert proxies[proxy_down["proxy_agent_id"]]["status"] == "NOT_CONNECTED"
    link_down = by_id[sim.dataset.by_scenario("private_link_down")[0].id]
    assert links[link_down["private_link_id"]]["state"] == "FAIL"
    # Nothing else is down, so only these three connections are blocked.
    down_agents = {a for a, agent in agents.items() if not agent["online"]}
    down_proxies = {p for p, proxy in proxies.items() if proxy["status"] != "CONNECTED"}
    failed_links = {link for link, value in links.items() if value["state"] == "FAIL"}
    blocked = {
        i["id"]
        for i in by_id.values()
        if i["hybrid_deployment_agent_id"] in down_agents
        or i["proxy_agent_id"] in down_proxies
        or i["private_link_id"] in failed_links
    }
    assert blocked == {offline["id"], proxy_down["id"], link_down["id"]}
    for conn_id in blocked:
        conn = sim.dataset.connections[conn_id]
        assert conn.plan.stop is not None
        assert parse(by_id[conn_id]["succeeded_at"]) < conn.plan.stop
        failed = by_id[conn_id]["failed_at"]
        assert failed is None or parse(failed) < parse(by_id[conn_id]["succeeded_at"])
        history = sim.sync_history(conn_id, start=sim.now - timedelta(days=7))
        assert history
        assert all(parse(s["start"]) < conn.plan.stop for s in history)


def test_blocked_connections_stay_blocked_as_time_passes(sim: Simulator) -> None:
    conn = sim.dataset.by_scenario("agent_offline")[0]
    before = sim.sync_history(conn.id)
    sim.advance(minutes=3 * 24 * 60)
    assert sim.sync_history(conn.id, start=sim.now - timedelta(days=10)) == before


def test_system_keys_mask_the_secret_and_include_the_key_in_use(http: requests.Session) -> None:
    with Simulator(make_config(system_key=True)) as sim:
        keys = listed(sim, http, "/system-keys")
        key_in_use = sim.dataset.account["system_key_id"]
        assert key_in_use in {k["id"] for k in keys}
        for key in keys:
            assert key["secret"] == "******"
            assert key["permissions"]
            for permission in key["permissions"]:
                assert permission["access_level"] in {"NONE", "READ", "MANAGE"}
                assert set(permission) <= {"resource_type", "access_level", "resource_filter"}
        detail = get_data(http, f"{sim.url}/system-keys/{key_in_use}")
        assert detail == next(k for k in keys if k["id"] == key_in_use)


def test_external_logging_config_only_in_details(
    shared_sim: Simulator, http: requests.Session
) -> None:
    logs = listed(shared_sim, http, "/external-logging")
    assert {log["id"] for log in logs} <= set(shared_sim.dataset.groups)
    assert {log["status"]["setup_state"] for log in logs} == {"connected", "broken"}
    for log in logs:
        detail = get_data(http, f"{shared_sim.url}/external-logging/{log['id']}")
        assert {k: v for k, v in detail.items() if k not in ("config", "setup_tests")} == log
        assert detail["config"]
        assert "******" in detail["config"].values() or log["service"] == "cloudwatch"


@pytest.mark.parametrize(
    "path",
    [
        "/hybrid-deployment-agents/nope_nope",
        "/proxy/nope_nope/connections",
        "/private-links/nope_nope",
        "/system-keys/nope_nope",
        "/external-logging/nope_nope",
    ],
)
def test_unknown_ids_are_404(shared_sim: Simulator, http: requests.Session, path: str) -> None:
    response = http.get(shared_sim.url + path)
    assert response.status_code == 404
    assert response.json()["code"].startswith("NotFound")  # bare or NotFound_<Entity>
    assert "nope_nope" in response.json()["message"]


def test_infrastructure_is_deterministic() -> None:
    first = Simulator(make_config(connections=60, seed=5)).dataset
    second = Simulator(make_config(connections=60, seed=5)).dataset
    assert first.infra == second.infra
    assert {c.id: c.item for c in first.connections.values()} == {
        c.id: c.item for c in second.connections.values()
    }
