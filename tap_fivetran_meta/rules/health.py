"""Connection health and freshness rules (pure functions, no I/O).

The rules are documented in the README ("Connection health"); keep both in step.
``health`` is one enum, evaluated in order, first match wins. ``deleted`` is not a rule:
it is the value of the ``connection_status_history`` row written when a connection the
state knows is gone from a complete, unfiltered listing (rules/status_history.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from tap_fivetran_meta.rules.timeutil import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime


class Health(str, Enum):
    """Health of one connection: ``deleted``, then the rules' verdicts in rule order."""

    DELETED = "deleted"
    PAUSED = "paused"
    INCOMPLETE = "incomplete"
    BROKEN = "broken"
    BLOCKED = "blocked"
    RESCHEDULED = "rescheduled"
    FIRST_SYNC = "first_sync"
    HISTORICAL_SYNC = "historical_sync"
    SYNCING = "syncing"
    FAILING = "failing"
    DELAYED = "delayed"
    STALE = "stale"
    HEALTHY = "healthy"


def last_sync_completed_at(
    succeeded_at: datetime | None, failed_at: datetime | None
) -> datetime | None:
    """Return the later of the last success and the last failure (None if neither)."""
    candidates = [ts for ts in (succeeded_at, failed_at) if ts is not None]
    return max(candidates) if candidates else None


def last_sync_succeeded(succeeded_at: datetime | None, failed_at: datetime | None) -> bool | None:
    """Whether the last completed sync succeeded; None when no sync ever completed.

    A missing timestamp counts as minus infinity. Equal timestamps count as success.
    """
    if succeeded_at is None and failed_at is None:
        return None
    if failed_at is None:
        return True
    if succeeded_at is None:
        return False
    return succeeded_at >= failed_at


def minutes_since(then: datetime | None, now: datetime) -> int | None:
    """Whole minutes from ``then`` to ``now`` (never negative), or None."""
    if then is None:
        return None
    return max(0, int((now - then).total_seconds() // 60))


def is_fresh(
    succeeded_at: datetime | None,
    sync_frequency_minutes: int | None,
    slack_minutes: int,
    now: datetime,
) -> bool:
    """Whether the last success lies within one sync interval plus slack of ``now``.

    A connection that never succeeded, or has no known frequency, is not fresh.
    """
    age = minutes_since(succeeded_at, now)
    if age is None or not sync_frequency_minutes:
        return False
    return age <= sync_frequency_minutes + slack_minutes


# --- the objects a connection goes through ---------------------------------------------

#: Private link states in which the link carries no traffic (UPDATING keeps serving).
DOWN_PRIVATE_LINK_STATES = frozenset({"FAIL", "CREATING", "DESTROYING"})
#: Proxy agent statuses in which the agent relays nothing.
DOWN_PROXY_STATUSES = frozenset({"NOT_CONNECTED", "NOT_FOUND"})


@dataclass(frozen=True)
class Infrastructure:
    """The listed hybrid deployment agents, proxy agents and private links, by id.

    Only an object listed *and* down blocks a connection. One not listed (the list is
    plan-gated, or the API key cannot see it) blocks nothing: its state is unknown.
    """

    hybrid_deployment_agents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    proxy_agents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    private_links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def agent_is_down(agent: Mapping[str, Any]) -> bool:
    """A hybrid deployment agent runs nothing when offline or disabled."""
    return agent.get("online") is False or agent.get("enabled") is False


def proxy_is_down(proxy: Mapping[str, Any]) -> bool:
    """A proxy agent relays nothing unless CONNECTED (an unknown status is not "down")."""
    return str(proxy.get("status") or "").upper() in DOWN_PROXY_STATUSES


def private_link_is_down(link: Mapping[str, Any]) -> bool:
    """A private link carries nothing while it fails, is being created or destroyed."""
    return str(link.get("state") or "").upper() in DOWN_PRIVATE_LINK_STATES


#: ``(kind, connection fields naming the object, Infrastructure attribute, is-down test)``,
#: in the order a connection's ``blocked_by`` names them.
BLOCKERS: tuple[tuple[str, tuple[str, ...], str, Callable[[Mapping[str, Any]], bool]], ...] = (
    (
        "hybrid_deployment_agent",
        ("hybrid_deployment_agent_id", "local_processing_agent_id"),
        "hybrid_deployment_agents",
        agent_is_down,
    ),
    ("proxy_agent", ("proxy_agent_id",), "proxy_agents", proxy_is_down),
    ("private_link", ("private_link_id",), "private_links", private_link_is_down),
)


def blocked_by(record: Mapping[str, Any], infra: Infrastructure | None) -> str | None:
    """The first object the connection goes through that is down, as ``kind:id``."""
    if infra is None:
        return None
    for kind, id_fields, attribute, is_down in BLOCKERS:
        listed: Mapping[str, Mapping[str, Any]] = getattr(infra, attribute)
        for object_id in dict.fromkeys(record.get(name) for name in id_fields):
            found = listed.get(object_id) if isinstance(object_id, str) else None
            if found is not None and is_down(found):
                return f"{kind}:{object_id}"
    return None


# --- health -------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionFacts:
    """The fields of a connection that the health rules read."""

    paused: bool
    setup_state: str | None
    sync_state: str | None
    update_state: str | None
    is_historical_sync: bool
    succeeded_at: datetime | None
    failed_at: datetime | None
    sync_frequency: int | None
    #: The object that keeps it from syncing (see :func:`blocked_by`), if any.
    blocked_by: str | None = None
    #: ``auto`` or ``manual`` (lower case); a manual connection syncs only when asked.
    schedule_type: str | None = None
    #: ``status.rescheduled_for``: when a rescheduled sync resumes.
    rescheduled_for: datetime | None = None

    @classmethod
    def from_record(
        cls, record: Mapping[str, Any], infra: Infrastructure | None = None
    ) -> ConnectionFacts:
        """Read the facts from a raw connection list item (and what it goes through)."""
        status = record.get("status") or {}
        return cls(
            paused=bool(record.get("paused")),
            setup_state=_lower(status.get("setup_state")),
            sync_state=_lower(status.get("sync_state")),
            update_state=_lower(status.get("update_state")),
            is_historical_sync=bool(status.get("is_historical_sync")),
            succeeded_at=parse_timestamp(record.get("succeeded_at")),
            failed_at=parse_timestamp(record.get("failed_at")),
            sync_frequency=_int_or_none(record.get("sync_frequency")),
            blocked_by=blocked_by(record, infra),
            schedule_type=_lower(record.get("schedule_type")),
            rescheduled_for=parse_timestamp(status.get("rescheduled_for")),
        )


def awaits_first_sync(facts: ConnectionFacts) -> bool:
    """A new connection waiting for (or running) its first sync.

    Fivetran reports ``is_historical_sync: true`` for a connection that never synced;
    with no sync ever completed it is neither stale (it has no data to be late with)
    nor failing.
    """
    return facts.is_historical_sync and facts.succeeded_at is None and facts.failed_at is None


def is_rescheduled(facts: ConnectionFacts, now: datetime) -> bool:
    """Waiting for a rescheduled sync: ``sync_state = rescheduled``, not resuming in the past.

    A ``rescheduled_for`` before ``now`` is a stale value, not a plan (Fivetran serves
    such values): the later rules judge the connection instead.
    """
    if facts.sync_state != "rescheduled":
        return False
    return facts.rescheduled_for is None or facts.rescheduled_for >= now


def judged_by_frequency(facts: ConnectionFacts) -> bool:
    """Whether ``sync_frequency`` says when the next sync is due (not on a manual schedule)."""
    return facts.schedule_type != "manual"


def health(facts: ConnectionFacts, *, now: datetime, slack_minutes: int) -> Health:
    """Classify a connection; the first matching rule wins (see README)."""
    rules: tuple[tuple[bool, Health], ...] = (
        (facts.paused or facts.sync_state == "paused", Health.PAUSED),
        (facts.setup_state == "incomplete", Health.INCOMPLETE),
        (facts.setup_state == "broken", Health.BROKEN),
        (facts.blocked_by is not None, Health.BLOCKED),
        (is_rescheduled(facts, now), Health.RESCHEDULED),
        (awaits_first_sync(facts), Health.FIRST_SYNC),
        (facts.is_historical_sync, Health.HISTORICAL_SYNC),
        (facts.sync_state == "syncing", Health.SYNCING),
        (last_sync_succeeded(facts.succeeded_at, facts.failed_at) is False, Health.FAILING),
        (facts.update_state == "delayed", Health.DELAYED),
        (
            judged_by_frequency(facts)
            and not is_fresh(facts.succeeded_at, facts.sync_frequency, slack_minutes, now),
            Health.STALE,
        ),
    )
    for matched, verdict in rules:
        if matched:
            return verdict
    return Health.HEALTHY


def derived_columns(
    record: Mapping[str, Any],
    *,
    now: datetime,
    slack_minutes: int,
    infra: Infrastructure | None = None,
) -> dict[str, Any]:
    """All derived connection columns for one raw connection list item."""
    facts = ConnectionFacts.from_record(record, infra)
    status = record.get("status") or {}
    completed = last_sync_completed_at(facts.succeeded_at, facts.failed_at)
    return {
        "last_sync_completed_at": None if completed is None else format_timestamp(completed),
        "last_sync_succeeded": last_sync_succeeded(facts.succeeded_at, facts.failed_at),
        "minutes_since_last_success": minutes_since(facts.succeeded_at, now),
        "is_fresh": (
            is_fresh(facts.succeeded_at, facts.sync_frequency, slack_minutes, now)
            if judged_by_frequency(facts)
            else None
        ),
        "health": health(facts, now=now, slack_minutes=slack_minutes).value,
        "blocked_by": facts.blocked_by,
        "task_count": len(status.get("tasks") or []),
        "warning_count": len(status.get("warnings") or []),
        "observed_at": format_timestamp(now),
    }


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    return None
