"""Deterministic generator of a whole Fivetran account."""

from __future__ import annotations

import random

from fivetran_sim import gen_access, gen_extras, gen_infra
from fivetran_sim.config import SimConfig
from fivetran_sim.context import GenContext
from fivetran_sim.edge_cases import apply_edge_cases
from fivetran_sim.gen_connections import build_connections
from fivetran_sim.gen_groups import build_groups
from fivetran_sim.model import Dataset
from fivetran_sim.timefmt import MINUTE


def sizes(connections: int) -> dict[str, int]:
    """Entity counts that scale with the number of connections.

    Args:
        connections: Number of connections.

    Returns:
        Counts for groups, users, teams, webhooks and transformations.
    """
    return {
        "groups": max(2, connections // 25),
        "users": max(3, connections // 10),
        "teams": max(2, connections // 100),
        "webhooks": max(2, connections // 40),
        "transformations": max(1, connections // 20),
    }


def build_dataset(config: SimConfig, now_us: int) -> Dataset:
    """Generate the account for a configuration.

    Args:
        config: Simulator configuration (``connections``, ``seed``, ``history_days``...).
        now_us: Simulator clock at build time (epoch microseconds).

    Returns:
        The dataset.
    """
    ctx = GenContext(
        seed=config.seed,
        rng=random.Random(config.seed),
        t0=now_us,
        history_days=config.history_days,
        min_interval=config.min_sync_interval_minutes * MINUTE,
    )
    counts = sizes(config.connections)
    groups, destinations = build_groups(ctx, counts["groups"])
    group_ids = list(groups)
    users = gen_access.build_users(ctx, counts["users"])
    user_ids = list(users)
    connections = build_connections(ctx, config.connections, group_ids, user_ids)
    connection_ids = list(connections)
    teams = gen_access.build_teams(ctx, counts["teams"])
    user_groups, user_connections = gen_access.user_memberships(
        ctx, user_ids, group_ids, connection_ids
    )
    team_users, team_groups, team_connections = gen_access.team_memberships(
        ctx, list(teams), user_ids, group_ids, connection_ids
    )
    projects = gen_extras.build_projects(ctx, group_ids, user_ids)
    dataset = Dataset(
        account=gen_access.account_info(ctx, user_ids[0], config.system_key),
        groups=groups,
        destinations=destinations,
        connections=connections,
        users=users,
        teams=teams,
        roles=gen_access.build_roles(),
        webhooks=gen_extras.build_webhooks(ctx, counts["webhooks"], group_ids, user_ids),
        connector_types=gen_extras.build_connector_types(
            ctx, {c.service for c in connections.values()}
        ),
        transformations=gen_extras.build_transformations(
            ctx, counts["transformations"], projects, connections, user_ids
        ),
        projects=projects,
        user_groups=user_groups,
        user_connections=user_connections,
        team_users=team_users,
        team_groups=team_groups,
        team_connections=team_connections,
    )
    dataset.infra = gen_infra.build_infrastructure(ctx, dataset)
    apply_edge_cases(dataset, ctx)
    return dataset
