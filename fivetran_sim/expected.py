"""Expected record counts per tap stream, computed from the simulator state."""

from __future__ import annotations

from fivetran_sim.history import count_between
from fivetran_sim.state import State
from fivetran_sim.timefmt import DAY, MINUTE

#: The sync history a tap run reads by default: the tap's default ``start_date`` is one
#: window before the run, a minute less than the API's 7-day maximum.
DEFAULT_HISTORY_SPAN = 7 * DAY - MINUTE


def expected_counts(state: State, start_us: int | None, end_us: int | None) -> dict[str, int]:
    """Rows a complete tap run should emit for each stream.

    Children of connections whose detail endpoints answer 404 (vanished) are not
    counted; deleted connections are gone altogether.

    Args:
        state: Simulator state (lock held by the caller).
        start_us: Sync-history window start; default ``now - DEFAULT_HISTORY_SPAN``.
        end_us: Sync-history window end; default ``now``.

    Returns:
        Stream name -> expected number of records.
    """
    ds = state.dataset
    now = state.now_us
    lo = now - DEFAULT_HISTORY_SPAN if start_us is None else start_us
    hi = now if end_us is None else end_us
    readable = [c for c in ds.connections.values() if not c.vanished]
    shapes = [state.shape(c) for c in readable if c.has_schema_config]
    tables = sum(shape.table_count for shape in shapes)
    return {
        "account": 1,
        "groups": len(ds.groups),
        "destinations": len(ds.destinations),
        "connections": len(ds.connections),
        "connector_types": len(ds.connector_types),
        "users": len(ds.users),
        "teams": len(ds.teams),
        "roles": len(ds.roles),
        "webhooks": len(ds.webhooks),
        "transformations": len(ds.transformations),
        "transformation_projects": len(ds.projects),
        "team_memberships": sum(
            len(ds.team_users[t]) + len(ds.team_groups[t]) + len(ds.team_connections[t])
            for t in ds.teams
        ),
        "user_memberships": sum(
            len(ds.user_groups[u]) + len(ds.user_connections[u]) for u in ds.users
        ),
        "connection_schemas": sum(len(shape.schemas) for shape in shapes),
        "connection_tables": tables,
        "connection_columns": sum(shape.modified_column_count for shape in shapes),
        "connection_columns_full": sum(shape.column_count for shape in shapes),
        "table_lineage": tables,
        "sync_history": sum(count_between(c.plan, lo, hi, now) for c in readable),
        "hybrid_deployment_agents": len(ds.infra.agents),
        "proxy_agents": len(ds.infra.proxies),
        "private_links": len(ds.infra.private_links),
        "system_keys": len(ds.infra.system_keys),
        "external_logging": len(ds.infra.log_services),
    }
