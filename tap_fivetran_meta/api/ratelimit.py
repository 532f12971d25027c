"""Client-side request budget, so a run never trips Fivetran's hourly limit on purpose.

Two rules, both thread-safe:

* a rolling window: at most ``max_per_hour`` requests in any 3,600 s (Fivetran's own
  limit is per account and rolling; the default budget leaves room for the
  customer's other API users);
* back-pressure from the server: once ``X-Rate-Limit-Remaining`` falls below the
  reserve, requests are paced out, more slowly the closer it gets to zero. The
  reserve is a share (:data:`RESERVE_SHARE`) of the account's own hourly limit
  (``X-Rate-Limit``: 20,000 on paid plans, 500 on trial accounts), unless a fixed
  number is configured: a fixed 1,000 would pace every request of a trial account.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests

WINDOW_SECONDS = 3600.0
MAX_PACING_SECONDS = 60.0
#: Waits at least this long are logged, with their reason and their end.
LOGGED_WAIT_SECONDS = 5.0
#: Share of the account's hourly limit kept in reserve for other API users.
RESERVE_SHARE = 0.05
LOG = logging.getLogger("tap-fivetran-meta")


class RateBudget:
    """Rolling-window request budget plus pacing on ``X-Rate-Limit-Remaining``."""

    def __init__(
        self,
        max_per_hour: int,
        *,
        reserve: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_per_hour = max_per_hour
        self.fixed_reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._limit: int | None = None
        self.waited_seconds = 0.0
        self.requests = 0
        self._announced_until = 0.0

    def acquire(self) -> None:
        """Block until one more request fits the budget, then count it."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= WINDOW_SECONDS:
                    self._sent.popleft()
                wait = self._window_wait(now)
                if wait <= 0:
                    self._sent.append(now)
                    self.requests += 1
                    pacing = self.pacing_seconds()
                    break
            self._pause(wait, "budget")
        if pacing > 0:
            self._pause(pacing, "pacing")

    def _window_wait(self, now: float) -> float:
        if len(self._sent) < self.max_per_hour:
            return 0.0
        return self._sent[0] + WINDOW_SECONDS - now

    def _pause(self, seconds: float, reason: str = "budget") -> None:
        self.waited_seconds += seconds
        announced = seconds >= LOGGED_WAIT_SECONDS and self._announce(seconds, reason)
        self._sleep(seconds)
        if announced:
            LOG.info("Request budget: waited %.0f s; requests resume.", seconds)

    def _announce(self, seconds: float, reason: str) -> bool:
        """Log a long wait, unless one already logged covers it (several threads wait)."""
        with self._lock:
            end = self._clock() + seconds
            if end <= self._announced_until + LOGGED_WAIT_SECONDS:
                return False
            self._announced_until = end
            sent = len(self._sent)
            remaining, reserve = self._remaining, self.reserve
        until = time.strftime("%H:%M:%S", time.gmtime(time.time() + seconds))
        if reason == "pacing":
            why = (
                f"Fivetran says {remaining} requests are left this hour, fewer than the "
                f"reserve of {reserve} kept for other API users, so requests are paced out"
            )
        else:
            why = (
                f"max_requests_per_hour={self.max_per_hour} is spent ({sent} requests in the "
                "last rolling hour)"
            )
        level = logging.INFO if reason == "pacing" else logging.WARNING
        LOG.log(level, "Request budget: waiting %.0f s, until %s UTC: %s.", seconds, until, why)
        return True

    @property
    def sent_last_hour(self) -> int:
        """Requests counted in the current rolling hour."""
        with self._lock:
            now = self._clock()
            return sum(1 for sent in self._sent if now - sent < WINDOW_SECONDS)

    @property
    def server_remaining(self) -> int | None:
        """The last ``X-Rate-Limit-Remaining`` Fivetran sent (None before any)."""
        return self._remaining

    @property
    def server_limit(self) -> int | None:
        """The account's ``X-Rate-Limit`` (None before any response said it)."""
        return self._limit

    @property
    def reserve(self) -> int:
        """Remaining quota below which requests are paced out.

        The configured number, else :data:`RESERVE_SHARE` of the account's
        ``X-Rate-Limit`` (of ``max_per_hour`` until a response has told it).
        """
        if self.fixed_reserve is not None:
            return self.fixed_reserve
        return max(1, int((self._limit or self.max_per_hour) * RESERVE_SHARE))

    def pacing_seconds(self) -> float:
        """Delay per request while the server-side remaining quota is below the reserve."""
        remaining, limit, reserve = self._remaining, self._limit, self.reserve
        if remaining is None or remaining >= reserve or remaining == 0:
            # None left: pacing cannot help; the server's 429 says how long to wait.
            return 0.0
        per_request = WINDOW_SECONDS / max(limit or self.max_per_hour, 1)
        return min(MAX_PACING_SECONDS, per_request * reserve / remaining)

    def observe(self, response: requests.Response) -> None:
        """Read ``X-Rate-Limit`` / ``X-Rate-Limit-Remaining`` from a response."""
        remaining = _int_header(response, "X-Rate-Limit-Remaining")
        limit = _int_header(response, "X-Rate-Limit")
        with self._lock:
            first_limit = limit is not None and self._limit is None
            if remaining is not None:
                self._remaining = remaining
            if limit is not None:
                self._limit = limit
        if first_limit:
            LOG.info(
                "Fivetran allows this account %d requests per hour (%s left now); the tap "
                "paces its requests once fewer than %d are left.",
                limit,
                "?" if remaining is None else remaining,
                self.reserve,
            )

    def wrap(self, func: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
        """Wrap a request function so each call (retries included) spends budget."""

        def budgeted(*args: Any, **kwargs: Any) -> requests.Response:
            self.acquire()
            try:
                response = func(*args, **kwargs)
            except Exception as exc:
                failed = getattr(exc, "response", None)
                if failed is not None:
                    self.observe(failed)
                raise
            self.observe(response)
            return response

        return budgeted


def _int_header(response: requests.Response, name: str) -> int | None:
    raw = response.headers.get(name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
