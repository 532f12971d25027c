"""Groups and their destinations (destination id == group id)."""

from __future__ import annotations

from fivetran_sim.catalog import DESTINATION_SERVICES, GROUP_NAMES, REGIONS
from fivetran_sim.context import GenContext
from fivetran_sim.model import JsonDict
from fivetran_sim.timefmt import fmt
from fivetran_sim.words import NOUNS

MASKED = "******"


def group_names(count: int) -> list[str]:
    """Unique group names: the base list first, then numbered variants.

    Args:
        count: How many names.

    Returns:
        The names.
    """
    names: list[str] = []
    round_no = 1
    while len(names) < count:
        for base in GROUP_NAMES:
            names.append(base if round_no == 1 else f"{base} {round_no}")
            if len(names) == count:
                break
        round_no += 1
    return names


def build_groups(ctx: GenContext, count: int) -> tuple[dict[str, JsonDict], dict[str, JsonDict]]:
    """Generate groups and one destination per group.

    Args:
        ctx: Generator context.
        count: Number of groups.

    Returns:
        ``(groups, destinations)`` keyed by id.
    """
    groups: dict[str, JsonDict] = {}
    destinations: dict[str, JsonDict] = {}
    for name in group_names(count):
        group_id = ctx.ids.new()
        created = ctx.ago(ctx.history_days + 400, ctx.history_days + 1500)
        groups[group_id] = {"id": group_id, "name": name, "created_at": fmt(created)}
        destinations[group_id] = _destination(ctx, group_id)
    return groups, destinations


def _destination(ctx: GenContext, group_id: str) -> JsonDict:
    rng = ctx.rng
    service = ctx.weighted(DESTINATION_SERVICES)
    status = ctx.weighted((("connected", 20), ("incomplete", 3), ("broken", 1)))
    networking = ctx.weighted((("Directly", 12), ("PrivateLink", 2), ("SshTunnel", 1)))
    offset = rng.choice(("-8", "-7", "-6", "-5", "-4", "0", "+1", "+2", "+3", "+5", "+9"))
    hybrid = ctx.ids.new() if rng.random() < 0.05 else None
    item: JsonDict = {
        "id": group_id,
        "group_id": group_id,
        "service": service,
        "region": rng.choice(REGIONS),
        "time_zone_offset": offset,
        "setup_status": status,
        "daylight_saving_time_enabled": rng.random() < 0.6,
        "networking_method": networking,
        "private_link_id": ctx.ids.new() if networking == "PrivateLink" else None,
        "proxy_agent_id": None,
        "hybrid_deployment_agent_id": hybrid,
        "local_processing_agent_id": hybrid,
        "external_secrets_manager_id": None,
    }
    item["setup_tests"] = _setup_tests(status)
    item["config"] = _config(ctx, service)
    return item


def _setup_tests(status: str) -> list[JsonDict]:
    tests: list[JsonDict] = [
        {"title": "Host Connection", "status": "PASSED", "message": ""},
        {"title": "Database Connection", "status": "PASSED", "message": ""},
        {"title": "Permission Test", "status": "PASSED", "message": ""},
    ]
    if status == "incomplete":
        tests[2] = {
            "title": "Permission Test",
            "status": "FAILED",
            "message": "The user does not have CREATE SCHEMA privilege",
            "details": {"missing_privileges": ["CREATE SCHEMA"]},
        }
    elif status == "broken":
        tests[0] = {
            "title": "Host Connection",
            "status": "FAILED",
            "message": "Connection refused",
            "details": "java.net.ConnectException: Connection refused",
        }
    return tests


def _config(ctx: GenContext, service: str) -> JsonDict:
    rng = ctx.rng
    word = rng.choice(NOUNS)
    config: JsonDict = {
        "host": f"{word}.{service.replace('_', '-')}.example.com",
        "port": rng.choice((443, "443", 5432, "5432")),
        "database": f"{word}_warehouse",
        "user": "fivetran_user",
    }
    if rng.random() < 0.5:
        config["auth"] = "PASSWORD"
        config["password"] = MASKED
    else:
        config["auth"] = "KEY_PAIR"
        config["private_key"] = MASKED
    if service.startswith("snowflake"):
        config["role"] = "FIVETRAN_ROLE"
    return config
