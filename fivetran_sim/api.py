"""Handlers for the ``/v1`` endpoints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fivetran_sim import catalog as cat
from fivetran_sim import errors
from fivetran_sim.errors import ApiError, invalid
from fivetran_sim.history import QUEUED_ITEM
from fivetran_sim.model import Connection, JsonDict
from fivetran_sim.pagination import paginate
from fivetran_sim.routes import Route
from fivetran_sim.schemas import columns_json, config_json
from fivetran_sim.state import State
from fivetran_sim.timefmt import DAY, HOUR, parse

Query = Mapping[str, str]
Params = Mapping[str, str]
Reply = tuple[Any, str | None]

_DESTINATION_DETAIL_KEYS = ("config", "setup_tests")
_PROJECT_DETAIL_KEYS = ("status", "errors", "setup_tests", "project_config")
#: In the list item's definition but not in the details' (which add a service-specific
#: ``config`` of their own).
_CONNECTION_LIST_ONLY_KEYS = ("external_secrets_keys_config",)


def _bool_filter(query: Query, name: str) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise invalid(f"Invalid value '{raw}' for '{name}': expected true or false")


def _without(item: JsonDict, keys: tuple[str, ...]) -> JsonDict:
    return {k: v for k, v in item.items() if k not in keys}


def not_found(state: State, entity: str, entity_id: str) -> ApiError:
    """The 404 for an unknown id, in the code style the simulator is configured for."""
    return errors.not_found(entity, entity_id, prefixed=state.config.prefixed_not_found_codes)


def _lookup(state: State, table: Mapping[str, JsonDict], entity: str, entity_id: str) -> JsonDict:
    """The entity with this id, or a ``NotFound`` 404."""
    found = table.get(entity_id)
    if found is None:
        raise not_found(state, entity, entity_id)
    return found


def _sorted_page(
    items: Mapping[str, JsonDict],
    query: Query,
    render: Callable[[JsonDict], JsonDict] | None = None,
) -> JsonDict:
    keys = sorted(items)
    if render is None:
        return paginate(keys, items.__getitem__, query)
    return paginate(keys, lambda key: render(items[key]), query)


def _live_connection(state: State, conn_id: str) -> Connection:
    conn = state.connection(conn_id)
    if conn is None:
        raise not_found(state, "Connection", conn_id)
    return conn


# ------------------------------------------------------------------ account, groups
def account_info(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/account/info``."""
    return dict(state.dataset.account), "Account information retrieved successfully"


def list_groups(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/groups``."""
    return _sorted_page(state.dataset.groups, query), "Groups retrieved successfully"


def group_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/groups/{id}``."""
    return _lookup(state, state.dataset.groups, "Group", params["id"]), None


def _connection_page(state: State, ids: list[str], query: Query) -> JsonDict:
    schema = query.get("schema")
    if schema:
        ids = [cid for cid in ids if state.dataset.connections[cid].schema == schema]
    connections = state.dataset.connections
    return paginate(ids, lambda cid: state.render_connection(connections[cid]), query)


def group_connections(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/groups/{id}/connections`` (filter ``schema``)."""
    if params["id"] not in state.dataset.groups:
        raise not_found(state, "Group", params["id"])
    ids = state.group_connections.get(params["id"], [])
    return _connection_page(state, ids, query), "Connections list retrieved successfully"


def group_users(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/groups/{id}/users`` (filter ``active``)."""
    group_id = params["id"]
    if group_id not in state.dataset.groups:
        raise not_found(state, "Group", group_id)
    ds = state.dataset
    members = {
        uid: ds.users[uid]
        for uid, memberships in ds.user_groups.items()
        if any(m["id"] == group_id for m in memberships)
    }
    return _sorted_page(_active_users(members, query), query), None


def _active_users(users: Mapping[str, JsonDict], query: Query) -> Mapping[str, JsonDict]:
    active = _bool_filter(query, "active")
    if active is None:
        return users
    return {uid: user for uid, user in users.items() if user["active"] is active}


# ---------------------------------------------------------------------- destinations
def list_destinations(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/destinations``."""
    page = _sorted_page(
        state.dataset.destinations, query, lambda d: _without(d, _DESTINATION_DETAIL_KEYS)
    )
    return page, "Destinations list retrieved successfully"


def destination_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/destinations/{id}``."""
    return _lookup(state, state.dataset.destinations, "Destination", params["id"]), None


# ----------------------------------------------------------------------- connections
def list_connections(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/connections`` (filters ``group_id``, ``schema``)."""
    group_id = query.get("group_id")
    ids = state.group_connections.get(group_id, []) if group_id else state.connection_ids
    return _connection_page(state, ids, query), "Connections list retrieved successfully"


def connection_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/connections/{id}`` (list item plus masked ``config``)."""
    conn = _live_connection(state, params["id"])
    details = _without(state.render_connection(conn), _CONNECTION_LIST_ONLY_KEYS)
    details["config"] = conn.config
    return details, None


def _schema_config_of(state: State, conn_id: str) -> Connection:
    conn = _live_connection(state, conn_id)
    if not conn.has_schema_config:
        raise ApiError(
            404,
            "NotFound_SchemaConfig",
            f"Schema config for connection with id '{conn_id}' does not exist.",
        )
    return conn


def connection_schemas(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/connections/{id}/schemas`` (only user-modified columns)."""
    conn = _schema_config_of(state, params["id"])
    return config_json(conn, state.shape(conn)), None


def table_columns(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/connections/{id}/schemas/{schema}/tables/{table}/columns`` (all columns)."""
    conn = _schema_config_of(state, params["id"])
    table = state.shape(conn).table(params["schema"], params["table"])
    if table is None:
        raise ApiError(
            404,
            "NotFound",
            f"Table '{params['schema']}.{params['table']}' not found in the schema config.",
        )
    camel = conn.service in cat.CAMEL_CASE_SERVICES
    columns = columns_json(table, camel, only_modified=False)
    return {"columns": columns}, "Column configuration retrieved successfully"


def _time_param(query: Query, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse(raw)
    except ValueError:
        raise invalid(f"Invalid '{name}': '{raw}' is not an ISO 8601 timestamp") from None


def sync_window(query: Query, now_us: int, *, inclusive: bool = False) -> tuple[int, int]:
    """Resolve ``start_time``/``end_time`` with the documented defaults and limits.

    Args:
        query: Query parameters.
        now_us: Simulator clock.
        inclusive: Accept a window of exactly 7 days (by default only shorter ones:
            Fivetran does not say, so the simulator takes the strict reading).

    Returns:
        ``(start, end)`` in epoch microseconds.

    Raises:
        ApiError: 400 when end <= start or the window exceeds the maximum.
    """
    start = _time_param(query, "start_time")
    end = _time_param(query, "end_time")
    if start is None and end is None:
        end = now_us
    if start is None:
        start = end - HOUR  # type: ignore[operator]
    if end is None:
        end = start + HOUR
    if end <= start:
        raise invalid("'end_time' must be after 'start_time'")
    span = end - start
    if span > 7 * DAY or (span == 7 * DAY and not inclusive):
        raise invalid("Invalid time range: maximum allowed range is 7 days")
    return start, end


def sync_history(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/connections/{id}/sync-history`` (oldest first, paginated).

    Items are ``{start, end, status}``; a queued first sync is listed last with a null
    ``start`` in windows that reach the instant it was queued.
    """
    conn = _live_connection(state, params["id"])
    start, end = sync_window(query, state.now_us, inclusive=state.config.sync_window_inclusive)
    extras = state.config.sync_item_extras
    items = [sync.to_json(extras=extras) for sync in state.syncs(conn, start, end)]
    queued = conn.plan.queued_since
    if queued is not None and start <= state.now_us and end >= queued:
        items.append(dict(QUEUED_ITEM))
    page = paginate(list(range(len(items))), items.__getitem__, query)
    return page, "Sync history retrieved successfully"


# ------------------------------------------------------------------- users and teams
def list_users(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/users`` (filter ``active``)."""
    return _sorted_page(_active_users(state.dataset.users, query), query), None


def user_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/users/{id}``."""
    return _lookup(state, state.dataset.users, "User", params["id"]), None


def _membership_page(
    state: State,
    table: Mapping[str, list[JsonDict]],
    owner: str,
    entity: str,
    key: str,
    *,
    query: Query,
) -> JsonDict:
    memberships = table.get(owner)
    if memberships is None:
        raise not_found(state, entity, owner)
    by_key = {m[key]: m for m in memberships}
    return paginate(sorted(by_key), by_key.__getitem__, query)


def user_groups(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/users/{id}/groups``."""
    return _membership_page(
        state, state.dataset.user_groups, params["id"], "User", "id", query=query
    ), None


def user_connections(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/users/{id}/connections``."""
    table = state.dataset.user_connections
    return _membership_page(state, table, params["id"], "User", "id", query=query), None


def list_teams(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/teams``."""
    return _sorted_page(state.dataset.teams, query), None


def team_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/teams/{id}``."""
    return _lookup(state, state.dataset.teams, "Team", params["id"]), None


def team_users(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/teams/{id}/users`` (filter ``active`` on the user)."""
    ds = state.dataset
    members = ds.team_users.get(params["id"])
    if members is None:
        raise not_found(state, "Team", params["id"])
    active = _bool_filter(query, "active")
    if active is not None:
        members = [m for m in members if ds.users[m["user_id"]]["active"] is active]
    return _membership_page(
        state, {params["id"]: members}, params["id"], "Team", "user_id", query=query
    ), None


def team_groups(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/teams/{id}/groups``."""
    return _membership_page(
        state, state.dataset.team_groups, params["id"], "Team", "id", query=query
    ), None


def team_connections(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/teams/{id}/connections``."""
    table = state.dataset.team_connections
    return _membership_page(state, table, params["id"], "Team", "id", query=query), None


# ------------------------------------------------------------------- everything else
def list_roles(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/roles`` (keyed by name)."""
    return _sorted_page({role["name"]: role for role in state.dataset.roles}, query), None


def list_webhooks(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/webhooks``."""
    return _sorted_page(state.dataset.webhooks, query), None


def webhook_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/webhooks/{id}``."""
    return _lookup(state, state.dataset.webhooks, "Webhook", params["id"]), None


def list_connector_types(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/metadata/connector-types``."""
    return _sorted_page(state.dataset.connector_types, query), None


def connector_type_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/metadata/connector-types/{id}``."""
    return _lookup(state, state.dataset.connector_types, "ConnectorType", params["id"]), None


def _transformation_group(state: State, item: JsonDict) -> str | None:
    config = item["transformation_config"]
    project = state.dataset.projects.get(config.get("project_id") or "")
    if project is not None:
        return str(project["group_id"])
    for conn_id in config.get("connection_ids") or []:
        conn = state.dataset.connections.get(conn_id)
        if conn is not None:
            return conn.group_id
    return None


def list_transformations(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/transformations`` (filters ``group_id``, ``project_id``, ``type``)."""
    items: Mapping[str, JsonDict] = state.dataset.transformations
    if query.get("type"):
        items = {k: v for k, v in items.items() if v["type"] == query["type"]}
    if query.get("project_id"):
        items = {
            k: v
            for k, v in items.items()
            if v["transformation_config"].get("project_id") == query["project_id"]
        }
    if query.get("group_id"):
        items = {
            k: v for k, v in items.items() if _transformation_group(state, v) == query["group_id"]
        }
    return _sorted_page(items, query), None


def transformation_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/transformations/{id}``."""
    return _lookup(state, state.dataset.transformations, "Transformation", params["id"]), None


def list_projects(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/transformation-projects``."""
    page = _sorted_page(state.dataset.projects, query, lambda p: _without(p, _PROJECT_DETAIL_KEYS))
    return page, None


def project_details(state: State, params: Params, query: Query) -> Reply:
    """``GET /v1/transformation-projects/{id}``."""
    return _lookup(state, state.dataset.projects, "TransformationProject", params["id"]), None


ROUTES: list[Route] = [
    Route("/v1/account/info", account_info),
    Route("/v1/groups", list_groups, is_list=True),
    Route("/v1/groups/{id}", group_details),
    Route("/v1/groups/{id}/connections", group_connections, is_list=True),
    Route("/v1/groups/{id}/users", group_users, is_list=True),
    Route("/v1/destinations", list_destinations, is_list=True),
    Route("/v1/destinations/{id}", destination_details),
    Route("/v1/connections", list_connections, is_list=True),
    Route("/v1/connections/{id}", connection_details),
    Route("/v1/connections/{id}/schemas", connection_schemas),
    Route("/v1/connections/{id}/schemas/{schema}/tables/{table}/columns", table_columns),
    Route("/v1/connections/{id}/sync-history", sync_history, is_list=True),
    Route("/v1/users", list_users, is_list=True),
    Route("/v1/users/{id}", user_details),
    Route("/v1/users/{id}/groups", user_groups, is_list=True),
    Route("/v1/users/{id}/connections", user_connections, is_list=True),
    Route("/v1/teams", list_teams, is_list=True),
    Route("/v1/teams/{id}", team_details),
    Route("/v1/teams/{id}/users", team_users, is_list=True),
    Route("/v1/teams/{id}/groups", team_groups, is_list=True),
    Route("/v1/teams/{id}/connections", team_connections, is_list=True),
    Route("/v1/roles", list_roles, is_list=True),
    Route("/v1/webhooks", list_webhooks, is_list=True),
    Route("/v1/webhooks/{id}", webhook_details),
    Route("/v1/metadata/connector-types", list_connector_types, is_list=True),
    Route("/v1/metadata/connector-types/{id}", connector_type_details),
    Route("/v1/transformations", list_transformations, is_list=True),
    Route("/v1/transformations/{id}", transformation_details),
    Route("/v1/transformation-projects", list_projects, is_list=True),
    Route("/v1/transformation-projects/{id}", project_details),
]
