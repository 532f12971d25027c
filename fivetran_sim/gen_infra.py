"""Infrastructure: hybrid deployment agents, proxy agents, private links, keys, log services.

Built last, from the generator's last draws, so everything generated before keeps its
values. Connections (and destinations) already name an agent, proxy or private link by id
when their networking goes through one: ``gen_connections`` draws a fresh id for each.
Here those ids become real objects, shared the way accounts share them: one agent per
group, a couple of proxies, a couple of source private links, one private link per
destination that uses one.

Then up to three healthy connections are moved onto an object that is down (an offline
agent, a ``NOT_CONNECTED`` proxy, a ``FAIL``ed private link) and stop syncing when it
went down: the scenarios ``agent_offline``, ``proxy_down`` and ``private_link_down``.
"""

from __future__ import annotations

from fivetran_sim import model as m
from fivetran_sim.catalog import REGIONS
from fivetran_sim.context import GenContext
from fivetran_sim.gen_groups import MASKED
from fivetran_sim.model import Connection, Dataset, Infrastructure, JsonDict
from fivetran_sim.timefmt import DAY, HOUR, MINUTE, floor_ms, fmt
from fivetran_sim.words import NOUNS

AGENT_VERSIONS = ("1.0.3", "1.1.0", "1.2.4")
PROXY_VERSIONS = ("1.0.0", "1.1.2")
DEPLOYMENT_TYPES = (("DOCKER", 6), ("KUBERNETES", 3), ("PODMAN", 1), ("SNOWPARK", 1))
PROXY_REGIONS = ("GCP_US_EAST4", "AWS_US_EAST_1", "AWS_EU_CENTRAL_1", "AZURE_EASTUS2")
#: Connections going through a proxy or a source private link share this many of them.
SHARED_PROXIES = 2
SHARED_SOURCE_LINKS = 2
#: Private-link service of a destination type, by cloud (others use the SOURCE_ one).
WAREHOUSE_LINK_SERVICES = {
    ("snowflake", "AWS"): "SNOWFLAKE_AWS",
    ("snowflake", "AZURE"): "SNOWFLAKE_AZURE",
    ("snowflake", "GCP"): "SNOWFLAKE_GCP",
    ("databricks", "AWS"): "DATABRICKS_AWS",
    ("databricks", "AZURE"): "DATABRICKS_AZURE",
    ("databricks", "GCP"): "DATABRICKS_GCP",
    ("redshift", "AWS"): "REDSHIFT_AWS",
    ("postgres_warehouse", "AZURE"): "POSTGRES_WAREHOUSE_AZURE",
}
#: Only connections syncing at least this often are blocked: their syncs after the
#: history's last incident day (see history.plan_incidents) then all succeeded.
MAX_BLOCKED_INTERVAL = 12 * HOUR
MAX_LOG_SERVICES = 6
LOG_SERVICES = ("datadog_log", "cloudwatch", "splunkLog", "azure_monitor_log", "new_relic_log")
RECONNECT_LOG_TASK: JsonDict = {
    "code": "reconnect_log",
    "message": "Reconnect Logging Service",
    "details": "Please provide required permissions",
}
READ_EVERYTHING = (
    "ACCOUNT",
    "USER",
    "TEAM",
    "ROLES",
    "DESTINATION",
    "CONNECTOR",
    "WEBHOOK",
    "TRANSFORMATION",
    "REMOTE_EXECUTION_AGENT",
)


def build_infrastructure(ctx: GenContext, ds: Dataset) -> Infrastructure:
    """Create the account's infrastructure and point connections at it.

    Args:
        ctx: Generator context (its draws continue after the rest of the account).
        ds: The account; connection and destination references are rewritten, and up
            to three healthy connections become the blocked scenarios.

    Returns:
        The infrastructure.
    """
    users = list(ds.users)
    account_id = str(ds.account["account_id"])
    infra = Infrastructure(
        agents=_shared_agents(ctx, ds, users),
        proxies=_shared_proxies(ctx, ds, account_id, users),
        private_links=_shared_private_links(ctx, ds, account_id, users),
    )
    _block_connections(ctx, ds, infra, account_id, users)
    infra.system_keys = _system_keys(ctx, ds, users)
    infra.log_services = _log_services(ctx, ds)
    return infra


# ----------------------------------------------------------------- agents, proxies
def _shared_agents(ctx: GenContext, ds: Dataset, users: list[str]) -> dict[str, JsonDict]:
    """One agent per group whose destination or connections use one, plus an idle one."""
    by_group: dict[str, str] = {}
    for group_id, destination in ds.destinations.items():
        if destination.get("hybrid_deployment_agent_id"):
            by_group[group_id] = str(destination["hybrid_deployment_agent_id"])
    for conn in ds.connections.values():
        if conn.item.get("hybrid_deployment_agent_id"):
            agent_id = str(conn.item["hybrid_deployment_agent_id"])
            _use_agent(conn, by_group.setdefault(conn.item["group_id"], agent_id))
    agents = {
        agent_id: _agent(ctx, agent_id, group_id, users, last_used=ctx.t0 - 5 * MINUTE)
        for group_id, agent_id in by_group.items()
    }
    if ds.groups:
        idle_id = ctx.ids.new()
        idle = _agent(ctx, idle_id, next(iter(ds.groups)), users, last_used=ctx.t0 - 40 * DAY)
        idle["enabled"] = False
        agents[idle_id] = idle
    return agents


def _use_agent(conn: Connection, agent_id: str) -> None:
    conn.item["hybrid_deployment_agent_id"] = agent_id
    if "local_processing_agent_id" in conn.item:  # the deprecated alias, where served
        conn.item["local_processing_agent_id"] = agent_id


def _agent(
    ctx: GenContext, agent_id: str, group_id: str, users: list[str], *, last_used: int
) -> JsonDict:
    """Agent JSON without ``usage`` (computed from the connections when served)."""
    registered = ctx.ago(30, 700)
    return {
        "id": agent_id,
        "display_name": f"{ctx.rng.choice(NOUNS)}-agent",
        "group_id": group_id,
        "registered_at": fmt(registered, ctx.precision()),
        "version": ctx.rng.choice(AGENT_VERSIONS),
        "enabled": True,
        "online": True,
        "created_by": ctx.rng.choice(users),
        "deployment_type": ctx.weighted(DEPLOYMENT_TYPES),
        "updated_at": fmt(ctx.between(registered, last_used)),
        "last_used_at": fmt(last_used),
    }


def _shared_proxies(
    ctx: GenContext, ds: Dataset, account_id: str, users: list[str]
) -> dict[str, JsonDict]:
    """The first proxy ids connections name become the proxies all of them share."""
    kept = _share(ds, "proxy_agent_id", SHARED_PROXIES)
    return {proxy_id: _proxy(ctx, proxy_id, account_id, users) for proxy_id in kept}


def _share(ds: Dataset, field: str, limit: int) -> list[str]:
    """Keep the first ``limit`` ids connections name in ``field``; point the others at them.

    Returns:
        The ids kept, in order.
    """
    using = [c for c in ds.connections.values() if c.item.get(field)]
    kept: list[str] = []
    for conn in using:
        if len(kept) < limit and conn.item[field] not in kept:
            kept.append(str(conn.item[field]))
    for index, conn in enumerate(using):
        if conn.item[field] not in kept:
            conn.item[field] = kept[index % len(kept)]
    return kept


def _proxy(ctx: GenContext, proxy_id: str, account_id: str, users: list[str]) -> JsonDict:
    """Proxy JSON without the counts (computed from the connections when served)."""
    return {
        "id": proxy_id,
        "account_id": account_id,
        "registered_at": fmt(ctx.ago(20, 600), ctx.precision()),
        "region": ctx.rng.choice(PROXY_REGIONS),
        "created_by": ctx.rng.choice(users),
        "display_name": f"{ctx.rng.choice(NOUNS)}-proxy",
        "version": ctx.rng.choice(PROXY_VERSIONS),
        "status": "CONNECTED",
    }


# ------------------------------------------------------------------- private links
def _cloud(region: str) -> str:
    return region.split("_", 1)[0]


def _shared_private_links(
    ctx: GenContext, ds: Dataset, account_id: str, users: list[str]
) -> dict[str, JsonDict]:
    """Source links shared by connections, one link per destination using one, one new."""
    links: dict[str, JsonDict] = {}
    for link_id in _share(ds, "private_link_id", SHARED_SOURCE_LINKS):
        region = ctx.rng.choice(REGIONS)
        links[link_id] = _link(
            ctx, link_id, region, f"SOURCE_{_cloud(region)}", account_id=account_id, users=users
        )
    for destination in ds.destinations.values():
        if destination.get("private_link_id"):
            own_id = str(destination["private_link_id"])
            region = str(destination["region"])
            family = str(destination["service"])
            service = WAREHOUSE_LINK_SERVICES.get((family, _cloud(region)))
            links[own_id] = _link(
                ctx,
                own_id,
                region,
                service or f"SOURCE_{_cloud(region)}",
                account_id=account_id,
                users=users,
            )
    if ds.groups:
        new_id = ctx.ids.new()
        region = ctx.rng.choice(REGIONS)
        new = _link(
            ctx, new_id, region, f"SOURCE_{_cloud(region)}", account_id=account_id, users=users
        )
        new.update(
            state="CREATING",
            state_summary="The private link is being created.",
            resource_upstream_status="PendingAcceptance",
        )
        links[new_id] = new
    return links


def _link(
    ctx: GenContext, link_id: str, region: str, service: str, *, account_id: str, users: list[str]
) -> JsonDict:
    word = ctx.rng.choice(NOUNS)
    return {
        "id": link_id,
        "name": f"{word}-{service.lower().replace('_', '-')}",
        "region": region,
        "service": service,
        "state": "OK",
        "state_summary": "The private link is ready.",
        "host": f"{word}.privatelink.example.com",
        "account_id": account_id,
        "cloud_provider": _cloud(region),
        "created_at": fmt(ctx.ago(10, 500), ctx.precision()),
        "created_by": ctx.rng.choice(users),
        "resource_upstream_status": "Available",
    }


# ---------------------------------------------------------------- blocked scenarios
def _block_connections(
    ctx: GenContext, ds: Dataset, infra: Infrastructure, account_id: str, users: list[str]
) -> None:
    """Move up to three healthy, direct connections onto an object that is down."""
    candidates = [
        conn
        for conn in ds.connections.values()
        if conn.scenario == m.HEALTHY
        and conn.item.get("networking_method") == "Directly"
        and not conn.item.get("hybrid_deployment_agent_id")
        and 0 < conn.plan.interval <= MAX_BLOCKED_INTERVAL
    ]
    chosen = ctx.rng.sample(candidates, min(len(candidates), len(m.INFRA_SCENARIOS)))
    for conn, scenario in zip(chosen, m.INFRA_SCENARIOS, strict=False):
        down_since = floor_ms(ctx.between(ctx.t0 - 3 * HOUR, ctx.t0 - HOUR))
        object_id = ctx.ids.new()
        if scenario == m.AGENT_OFFLINE:
            agent = _agent(ctx, object_id, conn.item["group_id"], users, last_used=down_since)
            agent["online"] = False
            infra.agents[object_id] = agent
            _use_agent(conn, object_id)
        elif scenario == m.PROXY_DOWN:
            proxy = _proxy(ctx, object_id, account_id, users)
            proxy["status"] = "NOT_CONNECTED"
            infra.proxies[object_id] = proxy
            conn.item.update(networking_method="ProxyAgent", proxy_agent_id=object_id)
        else:
            region = ctx.rng.choice(REGIONS)
            link = _link(
                ctx,
                object_id,
                region,
                f"SOURCE_{_cloud(region)}",
                account_id=account_id,
                users=users,
            )
            link.update(
                state="FAIL",
                state_summary="The endpoint service rejected the connection request.",
                resource_upstream_status="Rejected",
            )
            infra.private_links[object_id] = link
            conn.item.update(networking_method="PrivateLink", private_link_id=object_id)
        conn.scenario = scenario
        conn.plan.stop = down_since
        if conn.plan.prior_success is not None:
            conn.plan.prior_success = min(conn.plan.prior_success, down_since - HOUR)


# ------------------------------------------------------------- keys and log services
def _permission(resource_type: str, level: str, **resource_filter: list[str]) -> JsonDict:
    permission: JsonDict = {"resource_type": resource_type, "access_level": level}
    if resource_filter:
        permission["resource_filter"] = resource_filter
    return permission


def _system_keys(ctx: GenContext, ds: Dataset, users: list[str]) -> dict[str, JsonDict]:
    """A few keys for audits: one expiring soon, one expired and unused, one never used.

    The key the account info names (``system_key_id``) is the read-only one.
    """
    group_ids = list(ds.groups)
    reader_id = str(ds.account.get("system_key_id") or ctx.ids.new())
    specs: list[tuple[str, str, list[JsonDict], int, int | None]] = [
        (
            reader_id,
            "metadata-reader",
            [_permission(kind, "READ") for kind in READ_EVERYTHING],
            ctx.t0 + 300 * DAY,
            ctx.t0 - 2 * MINUTE,
        ),
        (
            ctx.ids.new(),
            "terraform-ci",
            [_permission("DESTINATION", "MANAGE"), _permission("CONNECTOR", "MANAGE")],
            ctx.t0 + 12 * DAY,
            ctx.t0 - 3 * HOUR,
        ),
        (
            ctx.ids.new(),
            "legacy-airflow",
            [_permission("CONNECTOR", "READ", group_ids=group_ids[:1])],
            ctx.t0 - 20 * DAY,
            ctx.t0 - 130 * DAY,
        ),
        (
            ctx.ids.new(),
            "dbt-trigger",
            [_permission("TRANSFORMATION", "MANAGE", group_ids=group_ids[:2])],
            ctx.t0 + 90 * DAY,
            None,
        ),
    ]
    keys: dict[str, JsonDict] = {}
    for key_id, name, permissions, expires, last_used in specs:
        created = ctx.ago(100, 400)
        keys[key_id] = {
            "id": key_id,
            "name": name,
            "key": f"ft_{ctx.rng.getrandbits(64):016x}",
            "secret": MASKED,
            "permissions": permissions,
            "created_at": fmt(created, ctx.precision()),
            "updated_at": fmt(ctx.between(created, ctx.t0 - DAY), ctx.precision()),
            "expired_at": fmt(expires),
            "last_used_at": None if last_used is None else fmt(last_used),
        }
    return keys


def _log_services(ctx: GenContext, ds: Dataset) -> dict[str, JsonDict]:
    """A few groups stream their logs out (a third, 2 to 6); the second one is broken."""
    group_ids = list(ds.groups)
    count = min(MAX_LOG_SERVICES, max(2, len(group_ids) // 3))
    services: dict[str, JsonDict] = {}
    for index, group_id in enumerate(group_ids[:count]):
        service = LOG_SERVICES[index % len(LOG_SERVICES)]
        broken = index == 1
        status: JsonDict = {"setup_state": "broken" if broken else "connected", "tasks": []}
        if broken:
            status["tasks"] = [dict(RECONNECT_LOG_TASK)]
        services[group_id] = {
            "id": group_id,
            "service": service,
            "enabled": not broken or ctx.rng.random() < 0.5,
            "status": status,
            "setup_tests": [
                {
                    "title": "Log delivery",
                    "status": "FAILED" if broken else "PASSED",
                    "message": "Access denied" if broken else "",
                }
            ],
            "config": _log_config(ctx, service),
        }
    return services


def _log_config(ctx: GenContext, service: str) -> JsonDict:
    word = ctx.rng.choice(NOUNS)
    if service == "datadog_log":
        return {"hostname": f"{word}.example.com", "region": "US1", "api_key": MASKED}
    if service == "cloudwatch":
        return {
            "region": "us-east-1",
            "log_group_name": f"/fivetran/{word}",
            "role_arn": f"arn:aws:iam::{ctx.rng.randrange(10**12):012d}:role/fivetran-logs",
            "external_id": f"{word}_{ctx.rng.randrange(10**6):06d}",
        }
    if service == "splunkLog":
        return {
            "host": f"splunk.{word}.example.com",
            "port": 8088,
            "channel": f"{word}-channel",
            "enable_ssl": True,
            "token": MASKED,
        }
    if service == "azure_monitor_log":
        return {"workspace_id": f"{ctx.rng.getrandbits(64):016x}", "primary_key": MASKED}
    return {"sub_domain": "US", "api_key": MASKED}
