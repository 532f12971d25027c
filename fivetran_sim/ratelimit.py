"""Rolling one-hour request quota, like Fivetran's account-level limit."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 3600.0


class RateLimiter:
    """Counts requests in a rolling hour of real (monotonic) time."""

    def __init__(self, per_hour: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        """Create a limiter.

        Args:
            per_hour: Quota; ``None`` disables limiting (headers still sent).
            clock: Monotonic time source (seconds).
        """
        self.per_hour = per_hour
        self._clock = clock
        self._lock = threading.Lock()
        self._stamps: deque[float] = deque()

    @property
    def limit(self) -> int:
        """Value of the ``X-Rate-Limit`` header."""
        return self.per_hour if self.per_hour is not None else 1_000_000_000

    def _expire(self, now: float) -> None:
        while self._stamps and now - self._stamps[0] >= WINDOW_S:
            self._stamps.popleft()

    def remaining(self) -> int:
        """Requests left in the current window (without consuming one).

        Returns:
            The number of requests still allowed.
        """
        with self._lock:
            self._expire(self._clock())
            return max(0, self.limit - len(self._stamps))

    def acquire(self) -> tuple[bool, int, int]:
        """Try to consume one request.

        Returns:
            ``(allowed, remaining, retry_after_seconds)``.
        """
        with self._lock:
            now = self._clock()
            self._expire(now)
            if self.per_hour is not None and len(self._stamps) >= self.per_hour:
                wait = WINDOW_S - (now - self._stamps[0])
                return False, 0, max(1, math.ceil(wait))
            self._stamps.append(now)
            if self.per_hour is None and len(self._stamps) > 100_000:
                self._stamps.popleft()
            return True, max(0, self.limit - len(self._stamps)), 0

    def reset(self) -> None:
        """Forget all recorded requests."""
        with self._lock:
            self._stamps.clear()
