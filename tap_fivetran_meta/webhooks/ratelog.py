"""Log repeated problems as one line per kind, not one line per occurrence.

A full disk fails every delivery, and an attack opens thousands of connections: a
line (or a traceback) for each would bury the one message that matters. The first
occurrence of a kind is logged at once; later ones at most once per interval, saying
how many happened since the last line.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable


@dataclass
class _Kind:
    logged_at: float
    suppressed: int = 0


class RateLimitedLog:
    """Per-kind rate limiting in front of a logger; thread-safe."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create the limiter.

        Args:
            logger: Where lines go.
            interval_s: At most one line per kind per this many seconds.
            clock: Monotonic seconds (injectable for tests).
        """
        self._log = logger
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._kinds: dict[str, _Kind] = {}

    def log(self, kind: str, level: int, message: str) -> bool:
        """Log ``message`` unless a line of this kind went out less than an interval ago.

        Args:
            kind: What went wrong, e.g. ``disk_full``; each kind is limited separately.
            level: The logging level.
            message: The complete line (already formatted).

        Returns:
            Whether the line was logged.
        """
        now = self._clock()
        with self._lock:
            state = self._kinds.get(kind)
            if state is not None and now - state.logged_at < self._interval_s:
                state.suppressed += 1
                return False
            suppressed = state.suppressed if state is not None else 0
            self._kinds[kind] = _Kind(logged_at=now)
        if suppressed:
            message = f"{message} ({suppressed} more like this since the last such line)"
        self._log.log(level, message)
        return True

    def reset(self, kind: str) -> int:
        """Forget a kind (the problem is over); returns how many went unlogged."""
        with self._lock:
            state = self._kinds.pop(kind, None)
        return state.suppressed if state is not None else 0
