"""Handlers for agents, proxies, private links, system keys and external logging.

Agent ``usage`` and proxy counts and connections are computed from the connections as
served now (deletions and mutations included), like Fivetran computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fivetran_sim.errors import not_found
from fivetran_sim.model import JsonDict
from fivetran_sim.pagination import paginate
from fivetran_sim.routes import Route
from fivetran_sim.state import State

Query = Mapping[str, str]
Params = Mapping[str, str]
Reply = tuple[Any, str | None]

_LOG_DETAIL_KEYS = ("config", "setup_tests")


def _page(
    items: Mapping[str, JsonDict], query: Query, render: Callable[[JsonDict], JsonDict]
) -> JsonDict:
    keys = sorted(items)
    return paginate(keys, lambda key: render(items[key]), query)


def _served_connections(state: State) -> Iterator[JsonDict]:
    """Every connection as listed now (mutations applied, deleted ones gone)."""
    connections = state.dataset.connections
    for conn_id in state.connection_ids:
        yield state.render_connection(connections[conn_id])


# ---------------------------------------------------------- hybrid deployment agents
def _agent_usage(state: State) -> dict[str, list[JsonDict]]:
    usage: dict[str, list[JsonDict]] = {}
    for item in _served_connections(state):
        agent_id = item.get("hybrid_deployment_agent_id")
        if agent_id:
            usage.setdefault(agent_id, []).append(
                {"schema": item["schema"], "service": item["service"], "connection_id": item["id"]}
            )
    return usage


def list_agents(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/hybrid-deployment-agents`` (filter ``groupId``, camelCase)."""
    agents: Mapping[str, JsonDict] = state.dataset.infra.agents
    group_id = query.get("groupId")
    if group_id:
        agents = {k: v for k, v in agents.items() if v["group_id"] == group_id}
    usage = _agent_usage(state)
    page = _page(agents, query, lambda agent: {**agent, "usage": usage.get(agent["id"], [])})
    return page, "Hybrid deployment agents retrieved successfully"


def agent_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/hybrid-deployment-agents/{id}``."""
    agent = state.dataset.infra.agents.get(params["id"])
    if agent is None:
        raise not_found("RemoteExecutionAgent", params["id"], prefixed=True)  # a known code
    usage = _agent_usage(state).get(agent["id"], [])
    return {**agent, "usage": usage}, "Hybrid deployment agent details retrieved successfully"


# ----------------------------------------------------------------------- proxy agents
def _proxy_users(state: State, proxy_id: str) -> list[str]:
    return [i["id"] for i in _served_connections(state) if i.get("proxy_agent_id") == proxy_id]


def list_proxies(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/proxy`` (with the number of connections and destinations using each)."""
    connector_counts: dict[str, int] = {}
    for item in _served_connections(state):
        if item.get("proxy_agent_id"):
            proxy_id = item["proxy_agent_id"]
            connector_counts[proxy_id] = connector_counts.get(proxy_id, 0) + 1
    destination_counts: dict[str, int] = {}
    for destination in state.dataset.destinations.values():
        if destination.get("proxy_agent_id"):
            proxy_id = destination["proxy_agent_id"]
            destination_counts[proxy_id] = destination_counts.get(proxy_id, 0) + 1

    def render(proxy: JsonDict) -> JsonDict:
        return {
            **proxy,
            "connector_count": connector_counts.get(proxy["id"], 0),
            "destination_count": destination_counts.get(proxy["id"], 0),
        }

    return _page(state.dataset.infra.proxies, query, render), "Proxy agent retrieved successfully"


def proxy_connections(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/proxy/{id}/connections``: ``{connection_id}`` items."""
    if params["id"] not in state.dataset.infra.proxies:
        raise not_found("Proxy Agent", params["id"])
    ids = sorted(_proxy_users(state, params["id"]))
    page = paginate(ids, lambda conn_id: {"connection_id": conn_id}, query)
    return page, "Proxy agent connections retrieved successfully"


# ---------------------------------------------------------------------- private links
def list_private_links(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/private-links``."""
    page = _page(state.dataset.infra.private_links, query, dict)
    return page, "Private links retrieved successfully"


def private_link_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/private-links/{id}``."""
    link = state.dataset.infra.private_links.get(params["id"])
    if link is None:
        raise not_found("Private link", params["id"])
    return dict(link), "Private link details retrieved successfully"


# ------------------------------------------------------------------------ system keys
def list_system_keys(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/system-keys`` (``secret`` masked, as on every read)."""
    page = _page(state.dataset.infra.system_keys, query, dict)
    return page, "System keys retrieved successfully"


def system_key_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/system-keys/{id}``."""
    key = state.dataset.infra.system_keys.get(params["id"])
    if key is None:
        raise not_found("System key", params["id"])
    return dict(key), "System key details retrieved successfully"


# ------------------------------------------------------------------- external logging
def list_log_services(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/external-logging`` (no ``config`` in the list)."""

    def render(log: JsonDict) -> JsonDict:
        return {k: v for k, v in log.items() if k not in _LOG_DETAIL_KEYS}

    page = _page(state.dataset.infra.log_services, query, render)
    return page, "External logging services retrieved successfully"


def log_service_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/external-logging/{id}`` (with ``config`` and ``setup_tests``)."""
    log = state.dataset.infra.log_services.get(params["id"])
    if log is None:
        raise not_found("LogService", params["id"], prefixed=True)  # a known code
    return dict(log), "External logging service details retrieved successfully"


INFRA_ROUTES: list[Route] = [
    Route("/v1/hybrid-deployment-agents", list_agents, is_list=True),
    Route("/v1/hybrid-deployment-agents/{id}", agent_details),
    Route("/v1/proxy", list_proxies, is_list=True),
    Route("/v1/proxy/{id}/connections", proxy_connections, is_list=True),
    Route("/v1/private-links", list_private_links, is_list=True),
    Route("/v1/private-links/{id}", private_link_details),
    Route("/v1/system-keys", list_system_keys, is_list=True),
    Route("/v1/system-keys/{id}", system_key_details),
    Route("/v1/external-logging", list_log_services, is_list=True),
    Route("/v1/external-logging/{id}", log_service_details),
]
