"""Connections: ids, services, schema names, scenarios and list-item fields."""

from __future__ import annotations

from fivetran_sim import catalog as cat
from fivetran_sim import model as m
from fivetran_sim.context import GenContext
from fivetran_sim.gen_groups import MASKED
from fivetran_sim.ids import text_key
from fivetran_sim.model import Connection, JsonDict
from fivetran_sim.scenarios import Setup, build_setup
from fivetran_sim.timefmt import MILLI, MINUTE, fmt
from fivetran_sim.words import ADJECTIVES, NOUNS

_SERVICE_WEIGHTS = tuple((service, service.weight) for service in cat.SOURCE_SERVICES)


def assign_scenarios(ctx: GenContext, count: int) -> list[str]:
    """Give each connection a scenario; every special one appears once when possible.

    Args:
        ctx: Generator context.
        count: Number of connections.

    Returns:
        Scenario per connection index.
    """
    # Small accounts get exactly one of each special scenario so healthy ones still
    # dominate; larger ones get ~12% more, spread at random.
    extra = 0.12 if count >= 40 else 0.0
    scenarios = [
        ctx.rng.choice(m.SPECIAL_SCENARIOS) if ctx.rng.random() < extra else m.HEALTHY
        for _ in range(count)
    ]
    positions = ctx.rng.sample(range(count), min(count, len(m.SPECIAL_SCENARIOS)))
    for position, scenario in zip(positions, m.SPECIAL_SCENARIOS, strict=False):
        scenarios[position] = scenario
    return scenarios


class SchemaNamer:
    """Hands out destination schema names that are unique within each group."""

    def __init__(self, ctx: GenContext) -> None:
        """Create a namer.

        Args:
            ctx: Generator context.
        """
        self._ctx = ctx
        self._used: dict[str, set[str]] = {}

    def name(self, group_id: str, service: cat.SourceService) -> str:
        """Pick an unused schema name for a connection.

        Args:
            group_id: The connection's group.
            service: Its source service.

        Returns:
            The schema name (``prefix.table`` for single-table connectors).
        """
        used = self._used.setdefault(group_id, set())
        rng = self._ctx.rng
        for attempt in range(1000):
            if service.kind == cat.FILE:
                table = rng.choice(cat.FILE_TABLE_WORDS)
                middle = "" if attempt == 0 else f"_{rng.choice(NOUNS)}"
                candidate = f"{service.prefix}{middle}.{table}"
            elif service.kind == cat.DATABASE or attempt > 0:
                candidate = f"{service.prefix}_{rng.choice(ADJECTIVES)}"
            else:
                candidate = service.prefix
            if attempt > 50:
                candidate = f"{candidate}_{attempt}"
            if candidate not in used:
                used.add(candidate)
                return candidate
        raise RuntimeError("could not find a free schema name")  # pragma: no cover


def build_connections(
    ctx: GenContext, count: int, group_ids: list[str], user_ids: list[str]
) -> dict[str, Connection]:
    """Generate the connections.

    Args:
        ctx: Generator context.
        count: Number of connections.
        group_ids: Groups to spread them over (each gets at least one when possible).
        user_ids: Candidate values for ``connected_by``.

    Returns:
        Connection id -> connection, in generation order.
    """
    scenarios = assign_scenarios(ctx, count)
    namer = SchemaNamer(ctx)
    connections: dict[str, Connection] = {}
    for index, scenario in enumerate(scenarios):
        group_id = group_ids[index] if index < len(group_ids) else ctx.rng.choice(group_ids)
        connection = _connection(ctx, scenario, group_id, namer, user_ids)
        connections[connection.id] = connection
    return connections


def _no_tighter_than(frequency: int, floor_minutes: int) -> int:
    """The smallest offered sync frequency at least ``floor_minutes`` (or the largest)."""
    if frequency >= floor_minutes:
        return frequency
    offered = sorted(f for f, _ in cat.SYNC_FREQUENCIES)
    return next((f for f in offered if f >= floor_minutes), offered[-1])


def _connection(
    ctx: GenContext, scenario: str, group_id: str, namer: SchemaNamer, user_ids: list[str]
) -> Connection:
    rng = ctx.rng
    conn_id = ctx.ids.new()
    key = text_key(f"{ctx.seed}/{conn_id}")
    service = ctx.weighted(_SERVICE_WEIGHTS)
    frequency = ctx.weighted(cat.SYNC_FREQUENCIES)
    if scenario == m.STALE:
        frequency = min(frequency, 360)
    else:
        # Syncs are generated no closer than min_sync_interval_minutes apart; a schedule
        # tighter than that would make every connection look stale to a freshness check.
        frequency = _no_tighter_than(frequency, ctx.min_interval // MINUTE)
    setup = build_setup(ctx, key, scenario, ctx.interval_for(frequency))
    item: JsonDict = {
        "id": conn_id,
        "group_id": group_id,
        "service": service.id,
        "service_version": rng.choice((0, 1, 1)),
        "schema": namer.name(group_id, service),
        "connected_by": rng.choice(user_ids) if rng.random() < 0.9 else None,
        "created_at": fmt(setup.created_at, ctx.precision()),
        "succeeded_at": None,
        "failed_at": None,
        "paused": setup.paused,
        "pause_after_trial": rng.random() < 0.05,
        "sync_frequency": frequency,
        "schedule_type": setup.schedule_type,
    }
    if frequency == 1440:
        item["daily_sync_time"] = f"{rng.randrange(24):02d}:00"
    item.update(_delay_fields(ctx))
    item.update(_networking(ctx))
    _naming(ctx, item)
    item["status"] = _status_object(ctx, setup, service)
    item["setup_tests"] = _setup_tests(setup.setup_state, rng.random())
    item["source_sync_details"] = _source_sync_details(service, setup)
    _connect_card(ctx, item)
    return Connection(
        id=conn_id,
        scenario=scenario,
        item=item,
        config=_config(ctx, service),
        plan=setup.plan,
        has_schema_config=setup.has_schema_config,
        kind=service.kind,
        precision=ctx.precision(),
    )


def _delay_fields(ctx: GenContext) -> JsonDict:
    sensitivity = ctx.weighted(
        (("NORMAL", 10), ("LOW", 2), ("HIGH", 2), ("CUSTOM", 1), ("SYNC_FREQUENCY", 1))
    )
    threshold = ctx.rng.choice((60, 180, 720)) if sensitivity == "CUSTOM" else 0
    return {"data_delay_sensitivity": sensitivity, "data_delay_threshold": threshold}


def _networking(ctx: GenContext) -> JsonDict:
    method = ctx.weighted(
        (("Directly", 40), ("SshTunnel", 4), ("PrivateLink", 3), ("ProxyAgent", 2), ("HDA", 2))
    )
    fields: JsonDict = {
        "networking_method": "Directly" if method == "HDA" else method,
        "private_link_id": ctx.ids.new() if method == "PrivateLink" else None,
        "proxy_agent_id": ctx.ids.new() if method == "ProxyAgent" else None,
        "hybrid_deployment_agent_id": None,
    }
    if method == "HDA":
        agent = ctx.ids.new()
        fields["hybrid_deployment_agent_id"] = agent
    return fields


def _naming(ctx: GenContext, item: JsonDict) -> None:
    roll = ctx.rng.random()
    if roll < 0.3:
        item["destination_schema_names"] = "SOURCE_NAMING" if roll < 0.05 else "FIVETRAN_NAMING"
    if ctx.rng.random() < 0.1:
        item["destination_configuration"] = {"virtual_warehouse": "FIVETRAN_WH"}


def _status_object(ctx: GenContext, setup: Setup, service: cat.SourceService) -> JsonDict:
    status = dict(setup.status)
    if service.kind == cat.DATABASE and ctx.rng.random() < 0.7:
        status["schema_status"] = "ready"
    return status


def _setup_tests(setup_state: str, roll: float) -> list[JsonDict]:
    tests: list[JsonDict] = [{"title": "Validate Login", "status": "PASSED", "message": ""}]
    if setup_state == "incomplete":
        tests = [
            {
                "title": "Validate Login",
                "status": "FAILED",
                "message": "Invalid credentials",
                "details": "Authentication failed for user 'fivetran'",
            }
        ]
    elif setup_state == "broken":
        tests.append(
            {
                "title": "Connecting to host",
                "status": "FAILED",
                "message": "Connection timed out",
                "details": {"host": "db.internal", "timeout_s": 30},
            }
        )
    elif roll < 0.2:
        tests.append(
            {
                "title": "Validate Permissions",
                "status": "WARNING",
                "message": "Some tables are not readable",
                "details": {"tables": ["audit_log"]},
            }
        )
    return tests


def _source_sync_details(service: cat.SourceService, setup: Setup) -> JsonDict:
    if service.id == "google_sheets" and setup.plan.interval > 0:
        return {"last_synced": fmt(setup.created_at + 3_600_000_000, MILLI)}
    return {}


def _connect_card(ctx: GenContext, item: JsonDict) -> None:
    if ctx.rng.random() >= 0.04:
        return
    token = f"{ctx.rng.getrandbits(64):016x}"
    item["connect_card"] = {
        "token": token,
        "uri": f"https://fivetran.com/connect-card/setup?auth={token}",
    }
    item["connect_card_config"] = {
        "redirect_uri": "https://app.example.com/fivetran/done",
        "hide_setup_guide": ctx.rng.random() < 0.5,
    }


def _config(ctx: GenContext, service: cat.SourceService) -> JsonDict:
    rng = ctx.rng
    word = rng.choice(NOUNS)
    if service.kind == cat.DATABASE:
        return {
            "host": f"{word}.db.example.com",
            "port": rng.choice((5432, "5432", 3306, 1433)),
            "database": word,
            "user": "fivetran",
            "password": MASKED,
            "update_method": rng.choice(("XMIN", "WAL", "TELEPORT")),
            "connection_type": "Directly",
        }
    if service.id == "google_sheets":
        return {
            "auth_type": "ServiceAccount",
            "sheet_id": f"https://docs.google.com/spreadsheets/d/{rng.getrandbits(80):020x}/edit",
            "named_range": f"Fivetran_{word.capitalize()}_Range",
        }
    if service.kind == cat.FILE:
        return {
            "bucket": f"{word}-exports",
            "prefix": f"{rng.choice(NOUNS)}/",
            "file_type": rng.choice(("csv", "json", "parquet")),
            "role_arn": f"arn:aws:iam::{rng.randrange(10**12):012d}:role/fivetran",
            "secret_key": MASKED,
        }
    if service.kind in (cat.EVENTS, cat.FUNCTION):
        return {"secret": MASKED, "function": f"{word}_handler"}
    return {"auth_type": "OAuth", "access_token": MASKED, "refresh_token": MASKED}
