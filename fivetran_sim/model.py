"""Plain data structures describing a generated Fivetran account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fivetran_sim.history import SyncPlan

JsonDict = dict[str, Any]

#: Health scenarios every account of 20+ connections contains at least once.
HEALTHY = "healthy"
PAUSED = "paused"
BROKEN = "broken"
INCOMPLETE = "incomplete"
RESCHEDULED = "rescheduled"
HISTORICAL_SYNC = "historical_sync"
SYNCING = "syncing"
FAILING = "failing"
DELAYED = "delayed"
STALE = "stale"
NEVER_SYNCED = "never_synced"
SPECIAL_SCENARIOS = (
    PAUSED,
    BROKEN,
    INCOMPLETE,
    RESCHEDULED,
    HISTORICAL_SYNC,
    SYNCING,
    FAILING,
    DELAYED,
    STALE,
    NEVER_SYNCED,
)
#: Connections that cannot sync because an object they go through is down (gen_infra.py).
AGENT_OFFLINE = "agent_offline"
PROXY_DOWN = "proxy_down"
PRIVATE_LINK_DOWN = "private_link_down"
INFRA_SCENARIOS = (AGENT_OFFLINE, PROXY_DOWN, PRIVATE_LINK_DOWN)
SCENARIOS = (HEALTHY, *SPECIAL_SCENARIOS, *INFRA_SCENARIOS)
#: Cases real accounts serve, given to a few healthy connections of accounts large enough
#: to keep plenty of healthy ones (edge_cases.py): a manual schedule whose last sync is
#: days old; a rescheduled_for left in the past by a reschedule that never resumed; a sync
#: running for 10 hours where this connection's syncs take minutes.
MANUAL_SCHEDULE = "manual_schedule"
STALE_RESCHEDULE = "stale_reschedule"
LONG_RUNNING_SYNC = "long_running_sync"
EDGE_SCENARIOS = (MANUAL_SCHEDULE, STALE_RESCHEDULE, LONG_RUNNING_SYNC)


@dataclass
class Connection:
    """One connection.

    Attributes:
        id: Connection id.
        scenario: Health scenario (see :data:`SCENARIOS`, :data:`EDGE_SCENARIOS`).
        item: Static fields of the list item (``succeeded_at``/``failed_at`` are filled
            in from the sync history when rendering).
        config: Service config returned by the details endpoint (secrets masked).
        plan: Sync history plan.
        has_schema_config: Whether ``/schemas`` answers 200.
        kind: Source kind (database, app, file, ...), drives the schema config.
        precision: Timestamp precision used for ``succeeded_at``/``failed_at``.
        overrides: Top-level fields forced by :meth:`Simulator.mutate_connection`.
        status_overrides: ``status`` fields forced by mutation.
        vanished: Listed, but detail and child endpoints answer 404.
        version: Bumped on every mutation (render cache key).
        fixed_rescheduled_for: See the attribute.
    """

    id: str
    scenario: str
    item: JsonDict
    config: JsonDict
    plan: SyncPlan
    has_schema_config: bool
    kind: str
    precision: str
    overrides: JsonDict = field(default_factory=dict)
    status_overrides: JsonDict = field(default_factory=dict)
    vanished: bool = False
    version: int = 0
    #: A ``status.rescheduled_for`` that stays put (a stale one), instead of "soon".
    fixed_rescheduled_for: int | None = None

    @property
    def group_id(self) -> str:
        """Group (= destination) the connection belongs to."""
        return str(self.overrides.get("group_id", self.item["group_id"]))

    @property
    def schema(self) -> str:
        """Destination schema name (the connection's display name)."""
        return str(self.overrides.get("schema", self.item["schema"]))

    @property
    def service(self) -> str:
        """Connector type id."""
        return str(self.item["service"])


@dataclass
class Infrastructure:
    """Account-level objects connections go through, and the account's keys and log services.

    Dict values are served as-is, except the fields computed from the live connections
    when rendering (agent ``usage``, proxy ``connector_count``/``destination_count``).

    Attributes:
        agents: Hybrid deployment agent id -> agent JSON.
        proxies: Proxy agent id -> proxy agent JSON.
        private_links: Private link id -> private link JSON.
        system_keys: System key id -> system key JSON (``secret`` masked).
        log_services: External logging service id (a group id) -> JSON including the
            details-only ``config`` and ``setup_tests``.
    """

    agents: dict[str, JsonDict] = field(default_factory=dict)
    proxies: dict[str, JsonDict] = field(default_factory=dict)
    private_links: dict[str, JsonDict] = field(default_factory=dict)
    system_keys: dict[str, JsonDict] = field(default_factory=dict)
    log_services: dict[str, JsonDict] = field(default_factory=dict)


@dataclass
class Dataset:
    """The whole generated account. Dict values are the JSON objects served as-is.

    Attributes:
        account: ``/account/info`` payload.
        groups: Group id -> group JSON.
        destinations: Destination id -> destination JSON including details-only fields
            ``config`` and ``setup_tests``.
        connections: Connection id -> :class:`Connection`.
        users: User id -> user JSON.
        teams: Team id -> team JSON.
        roles: Role JSON objects (name is the key).
        webhooks: Webhook id -> webhook JSON.
        connector_types: Service id -> connector-type JSON.
        transformations: Transformation id -> transformation JSON.
        projects: Project id -> transformation-project JSON (with details fields).
        user_groups: User id -> group memberships ``{id, role, created_at}``.
        user_connections: User id -> connection memberships.
        team_users: Team id -> ``{user_id, role, created_at}``.
        team_groups: Team id -> group memberships.
        team_connections: Team id -> connection memberships.
        infra: Agents, proxies, private links, system keys and log services.
    """

    account: JsonDict
    groups: dict[str, JsonDict]
    destinations: dict[str, JsonDict]
    connections: dict[str, Connection]
    users: dict[str, JsonDict]
    teams: dict[str, JsonDict]
    roles: list[JsonDict]
    webhooks: dict[str, JsonDict]
    connector_types: dict[str, JsonDict]
    transformations: dict[str, JsonDict]
    projects: dict[str, JsonDict]
    user_groups: dict[str, list[JsonDict]]
    user_connections: dict[str, list[JsonDict]]
    team_users: dict[str, list[JsonDict]]
    team_groups: dict[str, list[JsonDict]]
    team_connections: dict[str, list[JsonDict]]
    infra: Infrastructure = field(default_factory=Infrastructure)

    def by_scenario(self, scenario: str) -> list[Connection]:
        """Connections generated for a health scenario.

        Args:
            scenario: One of :data:`SCENARIOS`.

        Returns:
            Matching connections in id order.
        """
        return [c for _, c in sorted(self.connections.items()) if c.scenario == scenario]
