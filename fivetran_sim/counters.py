"""Thread-safe request counters keyed by templated path."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounter:
    """Counts API requests as ``"GET /v1/connections/{id}"``-style keys."""

    def __init__(self) -> None:
        """Start from zero."""
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        """Count one request.

        Args:
            key: ``"METHOD /templated/path"``.
        """
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        """Current counts.

        Returns:
            A copy, sorted by key.
        """
        with self._lock:
            return dict(sorted(self._counts.items()))

    def total(self) -> int:
        """Sum of all counts.

        Returns:
            Number of requests counted.
        """
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        """Set every count back to zero."""
        with self._lock:
            self._counts.clear()
