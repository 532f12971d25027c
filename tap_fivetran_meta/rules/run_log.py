"""The ``tap_runs`` row: what one run observed, and when (pure functions, no I/O).

A run that reaches its end writes one row. It tells the models which instant every
``connections`` and ``connection_status_history`` row of the run was observed at
(``started_at``), whether the connections listing was complete and unfiltered (so a
connection absent from it is deleted), and which streams read everything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_fivetran_meta.rules.filters import Filters

RUN_ID_LENGTH = 16


def run_id(account_id: str, started_at: str) -> str:
    """A key unique per run: the account and the run's start (to the microsecond)."""
    return hashlib.sha256(f"{account_id}\x1f{started_at}".encode()).hexdigest()[:RUN_ID_LENGTH]


def joined(values: Iterable[str]) -> str | None:
    """Values sorted and comma-joined; None when there are none."""
    ordered = sorted(values)
    return ",".join(ordered) if ordered else None


@dataclass(frozen=True)
class RunFacts:
    """What the tap knows about its run when the run log is written."""

    account_id: str
    started_at: str
    ended_at: str
    tap_version: str
    filters: Filters
    #: Connections the listing returned (None: the connections stream did not run to its end).
    connections_listed: int | None
    #: Every page read, nothing skipped, and no filter (see streams.core.Listing).
    listing_complete: bool
    streams_completed: frozenset[str]


def run_row(facts: RunFacts) -> dict[str, Any]:
    """The ``tap_runs`` row of one run."""
    filters = facts.filters
    return {
        "run_id": run_id(facts.account_id, facts.started_at),
        "started_at": facts.started_at,
        "ended_at": facts.ended_at,
        "tap_version": facts.tap_version,
        "connections_listing_complete": facts.listing_complete,
        "is_filtered": filters.filters_connections,
        "group_ids": joined(filters.group_ids),
        "connection_ids": joined(filters.connection_ids),
        "services": joined(filters.services),
        "connections_listed": facts.connections_listed,
        "streams_completed": joined(facts.streams_completed) or "",
    }
