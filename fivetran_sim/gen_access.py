"""Users, teams, roles and memberships."""

from __future__ import annotations

from fivetran_sim import catalog as cat
from fivetran_sim.context import GenContext
from fivetran_sim.model import JsonDict
from fivetran_sim.timefmt import fmt
from fivetran_sim.words import FAMILY_NAMES, GIVEN_NAMES


def build_roles() -> list[JsonDict]:
    """Standard, custom and deprecated roles.

    Returns:
        Role JSON objects.
    """
    return [
        {
            "name": name,
            "description": description,
            "scope": list(scope),
            "is_custom": custom,
            "is_deprecated": replacement is not None,
            "replacement_role_name": replacement,
        }
        for name, description, scope, custom, replacement in cat.ROLES
    ]


def build_users(ctx: GenContext, count: int) -> dict[str, JsonDict]:
    """Generate users; the first one is an active Account Administrator.

    Args:
        ctx: Generator context.
        count: Number of users.

    Returns:
        User id -> user JSON.
    """
    users: dict[str, JsonDict] = {}
    for index in range(count):
        user = _user(ctx, index)
        users[user["id"]] = user
    return users


def _user(ctx: GenContext, index: int) -> JsonDict:
    rng = ctx.rng
    given = rng.choice(GIVEN_NAMES)
    family = rng.choice(FAMILY_NAMES)
    created = ctx.ago(ctx.history_days, ctx.history_days + 1200)
    invited = index > 0 and rng.random() < 0.08
    active = index == 0 or (not invited and rng.random() < 0.9)
    logged_in = None if invited or rng.random() < 0.05 else ctx.between(created, ctx.t0)
    role: str | None = "Account Administrator" if index == 0 else rng.choice(cat.ACCOUNT_ROLES)
    if index > 0 and rng.random() < 0.05:
        role = None
    return {
        "id": ctx.ids.new(),
        "email": f"{given}.{family}.{index}@example.com".lower(),
        "given_name": given,
        "family_name": family,
        "verified": not invited,
        "invited": invited,
        "picture": (f"https://cdn.example.com/avatars/{index}.png" if rng.random() < 0.3 else None),
        "phone": f"+1 555 01{index % 100:02d}" if rng.random() < 0.2 else None,
        "role": role,
        "active": active,
        "logged_in_at": None if logged_in is None else fmt(logged_in, ctx.precision()),
        "created_at": fmt(created, ctx.precision()),
    }


def build_teams(ctx: GenContext, count: int) -> dict[str, JsonDict]:
    """Generate teams.

    Args:
        ctx: Generator context.
        count: Number of teams.

    Returns:
        Team id -> team JSON.
    """
    teams: dict[str, JsonDict] = {}
    for index in range(count):
        base = cat.TEAM_NAMES[index % len(cat.TEAM_NAMES)]
        name = base if index < len(cat.TEAM_NAMES) else f"{base} {index // len(cat.TEAM_NAMES)}"
        team_id = ctx.ids.new()
        teams[team_id] = {
            "id": team_id,
            "name": name,
            "description": f"{name} description",
            "role": ctx.rng.choice(
                ("Account Reviewer", "Account Analyst", "Account Administrator")
            ),
        }
    return teams


def _membership(ctx: GenContext, target: str, role: str, id_key: str = "id") -> JsonDict:
    created = ctx.ago(1, ctx.history_days + 600)
    return {id_key: target, "role": role, "created_at": fmt(created, ctx.precision())}


def _pick(ctx: GenContext, pool: list[str], most: int) -> list[str]:
    """Between 0 and ``most`` distinct ids from the pool, sorted."""
    size = min(len(pool), ctx.rng.randint(0, most))
    return sorted(ctx.rng.sample(pool, size))


def user_memberships(
    ctx: GenContext, user_ids: list[str], group_ids: list[str], connection_ids: list[str]
) -> tuple[dict[str, list[JsonDict]], dict[str, list[JsonDict]]]:
    """Group and connection memberships of each user.

    Args:
        ctx: Generator context.
        user_ids: Users.
        group_ids: Groups.
        connection_ids: Connections.

    Returns:
        ``(user_groups, user_connections)``, lists sorted by target id.
    """
    groups: dict[str, list[JsonDict]] = {}
    connections: dict[str, list[JsonDict]] = {}
    for user_id in user_ids:
        groups[user_id] = [
            _membership(ctx, gid, ctx.rng.choice(cat.DESTINATION_ROLES))
            for gid in _pick(ctx, group_ids, 3)
        ]
        connections[user_id] = [
            _membership(ctx, cid, ctx.rng.choice(cat.CONNECTION_ROLES))
            for cid in _pick(ctx, connection_ids, 3)
        ]
    return groups, connections


def team_memberships(
    ctx: GenContext,
    team_ids: list[str],
    user_ids: list[str],
    group_ids: list[str],
    connection_ids: list[str],
) -> tuple[dict[str, list[JsonDict]], dict[str, list[JsonDict]], dict[str, list[JsonDict]]]:
    """User, group and connection memberships of each team.

    Args:
        ctx: Generator context.
        team_ids: Teams.
        user_ids: Users.
        group_ids: Groups.
        connection_ids: Connections.

    Returns:
        ``(team_users, team_groups, team_connections)``, lists sorted by target id.
    """
    users: dict[str, list[JsonDict]] = {}
    groups: dict[str, list[JsonDict]] = {}
    connections: dict[str, list[JsonDict]] = {}
    for team_id in team_ids:
        members = sorted(ctx.rng.sample(user_ids, min(len(user_ids), ctx.rng.randint(1, 5))))
        users[team_id] = [
            _membership(ctx, uid, ctx.rng.choice(cat.TEAM_MEMBER_ROLES), id_key="user_id")
            for uid in members
        ]
        groups[team_id] = [
            _membership(ctx, gid, ctx.rng.choice(cat.DESTINATION_ROLES))
            for gid in _pick(ctx, group_ids, 3)
        ]
        connections[team_id] = [
            _membership(ctx, cid, ctx.rng.choice(cat.CONNECTION_ROLES))
            for cid in _pick(ctx, connection_ids, 3)
        ]
    return users, groups, connections


def account_info(ctx: GenContext, first_user: str, system_key: bool) -> JsonDict:
    """The ``/account/info`` payload.

    Args:
        ctx: Generator context.
        first_user: User the API key belongs to.
        system_key: Report a system key instead of a user key.

    Returns:
        The payload.
    """
    info: JsonDict = {"account_id": ctx.ids.new(), "account_name": "Acme Analytics Inc"}
    key_id = ctx.ids.new()  # drawn either way so the rest of the account does not change
    if system_key:
        info["system_key_id"] = key_id
    else:
        info["user_id"] = first_user
    return info
