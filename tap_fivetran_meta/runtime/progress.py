"""The per-connection phase planned against the request budget, and progress lines.

Before the first connection's children sync, the tap lists the connections once more
(one request per 1,000) and counts, with the same rules the streams apply, the
requests the phase needs: sync-history windows where :mod:`recheck` says a read is due,
schema configs that are due. If that does not fit what the budget has left, it says so
up front, with how long the run will take; the budget then logs each wait itself
(:mod:`ratelimit`).

While connections are processed, one INFO line every :data:`PROGRESS_SECONDS` (or every
:data:`PROGRESS_CONNECTIONS` connections) says how far the run is.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from tap_fivetran_meta.api.ratelimit import RateBudget

LOG = logging.getLogger("tap-fivetran-meta")
PROGRESS_SECONDS = 30.0
PROGRESS_CONNECTIONS = 1000


@dataclass
class RequestPlan:
    """Requests the per-connection phase needs (pages of sync history counted as one)."""

    connections: int = 0
    list_requests: int = 0
    history_connections: int = 0
    history_requests: int = 0
    schema_requests: int = 0

    @property
    def total(self) -> int:
        """The requests still to send (the connection list was read for the plan)."""
        return self.history_requests + self.schema_requests


def duration_text(seconds: float) -> str:
    """``1 h 05 min``, ``4 min 10 s`` or ``12 s``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def budget_left(budget: RateBudget) -> int:
    """Requests that can still be sent now without waiting (ours and Fivetran's count)."""
    left = budget.max_per_hour - budget.sent_last_hour
    remaining = budget.server_remaining
    if remaining is not None:
        left = min(left, max(0, remaining - budget.reserve))
    return max(0, left)


def budget_wait_seconds(needed: int, budget: RateBudget) -> float:
    """At least how long the budget makes ``needed`` requests wait, in total."""
    beyond = needed - budget_left(budget)
    if beyond <= 0:
        return 0.0
    return beyond / budget.max_per_hour * 3600.0


def announce_plan(plan: RequestPlan, budget: RateBudget) -> None:
    """Log the plan; a warning with the expected duration when it does not fit."""
    left = budget_left(budget)
    parts = (
        f"{plan.connections} connections; the per-connection phase needs about {plan.total} "
        f"requests (sync history: {plan.history_requests} for {plan.history_connections} "
        f"connections, schema configs: {plan.schema_requests}; the connection list took "
        f"{plan.list_requests}); {left} can be sent now (max_requests_per_hour="
        f"{budget.max_per_hour}, Fivetran: "
        f"{'?' if budget.server_remaining is None else budget.server_remaining} left)"
    )
    if plan.total <= left:
        LOG.info("Plan: %s.", parts)
        return
    wait = budget_wait_seconds(plan.total, budget)
    LOG.warning(
        "Plan: %s. That does not fit: the run will pause when the budget is spent and "
        "take at least %s; each pause is logged. Later incremental runs need far fewer "
        "requests. To finish sooner: raise max_requests_per_hour (up to what the account "
        "allows), or split the account with group_ids, connection_ids or services.",
        parts,
        duration_text(wait),
    )


class RunProgress:
    """Counts processed connections and logs a progress line now and then."""

    def __init__(
        self,
        budget: RateBudget,
        *,
        clock: Callable[[], float] = time.monotonic,
        every_seconds: float = PROGRESS_SECONDS,
        every_connections: int = PROGRESS_CONNECTIONS,
    ) -> None:
        self._budget = budget
        self._clock = clock
        self._every_seconds = every_seconds
        self._every_connections = every_connections
        self.plan: RequestPlan | None = None
        self.done = 0
        self._started = clock()
        self._last_line = self._started
        self._requests_at_start = budget.requests

    def start(self, plan: RequestPlan | None) -> None:
        """Begin the per-connection phase (with its plan, when one was made)."""
        self.plan = plan
        self.done = 0
        self._started = self._last_line = self._clock()
        self._requests_at_start = self._budget.requests

    def connection_done(self) -> None:
        """Count one connection whose children have synced; log when a line is due."""
        self.done += 1
        now = self._clock()
        if now - self._last_line >= self._every_seconds or self.done % self._every_connections == 0:
            self._last_line = now
            LOG.info("Progress: %s.", self.line(now))

    def line(self, now: float) -> str:
        """``2000 of 10000 connections, 4521 requests (...), 1 min 12 s elapsed, ...``."""
        elapsed = now - self._started
        total = self.plan.connections if self.plan else None
        requests = self._budget.requests - self._requests_at_start
        remaining = self._budget.server_remaining
        text = (
            f"{self.done} of {total if total is not None else '?'} connections, {requests} "
            f"requests (Fivetran: {'?' if remaining is None else remaining} left this hour), "
            f"{duration_text(elapsed)} elapsed"
        )
        if total and self.done:
            rest = elapsed / self.done * max(0, total - self.done)
            if self.plan is not None:
                rest = max(rest, budget_wait_seconds(self.plan.total - requests, self._budget))
            text += f", about {duration_text(rest)} left"
        return text
