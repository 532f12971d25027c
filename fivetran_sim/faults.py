"""Fault injection rules."""

from __future__ import annotations

import dataclasses
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

LATENCY = "latency"
HTTP_ERROR = "http_error"
TIMEOUT = "timeout"
DROP = "drop"
MALFORMED_JSON = "malformed_json"
TRUNCATED_JSON = "truncated_json"
ENVELOPE_ERROR = "envelope_error"
REPEAT_CURSOR = "repeat_cursor"
EMPTY_PAGE_WITH_CURSOR = "empty_page_with_cursor"
PLAN_GATED = "plan_gated"
ABSENT = "absent"
#: Hostile answers (the adversarial pass of issue 14):
#: ``body`` served as is with ``status`` (default 200): ``data: null``, ``items`` an
#: object, items without ids, future dates, a 200k-deep document...
ANSWER = "answer"
#: Every page of the list is empty and names a new cursor: the list never ends.
ENDLESS_EMPTY_PAGES = "endless_empty_pages"
#: The real answer, gzip-encoded behind ``size`` bytes of whitespace (a small download
#: that inflates to ``size`` bytes).
GZIP_BOMB = "gzip_bomb"
#: The real answer, sent one byte every ``delay_s`` seconds.
DRIP = "drip"

KINDS = frozenset(
    {
        LATENCY,
        HTTP_ERROR,
        TIMEOUT,
        DROP,
        MALFORMED_JSON,
        TRUNCATED_JSON,
        ENVELOPE_ERROR,
        REPEAT_CURSOR,
        EMPTY_PAGE_WITH_CURSOR,
        PLAN_GATED,
        ABSENT,
        ANSWER,
        ENDLESS_EMPTY_PAGES,
        GZIP_BOMB,
        DRIP,
    }
)
#: Kinds that only make sense on paginated list endpoints.
LIST_KINDS = frozenset({REPEAT_CURSOR, EMPTY_PAGE_WITH_CURSOR, ENDLESS_EMPTY_PAGES})


@dataclass
class FaultRule:
    """One fault to inject into matching requests.

    Attributes:
        path: Regular expression searched in the request path (which includes ``/v1``).
        kind: One of :data:`KINDS`.
        count: Apply to the next N matching requests only; ``None`` means always.
        probability: Fire with this probability (seeded RNG); ``None`` means always.
        status: HTTP status for ``http_error`` (default 500).
        retry_after: ``Retry-After`` header value (seconds) for ``http_error``.
        delay_s: Sleep for ``latency`` and ``timeout``; seconds per byte for ``drip``.
        body: Replacement body: a dict is sent as JSON, a string as ``text/html``
            (for ``answer``: a string is sent as JSON text, e.g. a pre-built document).
        size: Inflated size in bytes for ``gzip_bomb``.
    """

    path: str
    kind: str
    count: int | None = None
    probability: float | None = None
    status: int | None = None
    retry_after: float | None = None
    delay_s: float | None = None
    body: Any = None
    size: int | None = None
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate the rule and compile its pattern.

        Raises:
            ValueError: For an unknown kind or a negative count.
        """
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0")
        self._pattern = re.compile(self.path)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        """Build a rule from a JSON object (admin API).

        Args:
            data: Rule fields.

        Returns:
            The rule.

        Raises:
            ValueError: For unknown fields or invalid values.
        """
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Serialise the rule (without its compiled pattern).

        Returns:
            The rule fields.
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def matches(self, path: str) -> bool:
        """Whether the rule's pattern occurs in the path.

        Args:
            path: Request path.

        Returns:
            True on a match.
        """
        return self._pattern.search(path) is not None


@dataclass
class _Active:
    rule: FaultRule
    remaining: int | None
    fired: int = 0


class FaultSet:
    """The active rules; thread-safe; first applicable rule wins."""

    def __init__(self, seed: int) -> None:
        """Create an empty set.

        Args:
            seed: Seed for probabilistic rules.
        """
        self._rng = random.Random(seed * 7919 + 17)
        self._lock = threading.Lock()
        self._rules: list[_Active] = []

    def add(self, rule: FaultRule) -> None:
        """Activate a rule (after those already active).

        Args:
            rule: The rule.
        """
        with self._lock:
            self._rules.append(_Active(rule, rule.count))

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        """Active rules with how often they fired and how many firings remain.

        Returns:
            One dict per rule.
        """
        with self._lock:
            return [
                {**a.rule.to_dict(), "fired": a.fired, "remaining": a.remaining}
                for a in self._rules
            ]

    def take(self, path: str, is_list: bool, has_cursor: bool) -> FaultRule | None:
        """Pick the rule to apply to a request, consuming one of its firings.

        Args:
            path: Request path.
            is_list: The endpoint is paginated.
            has_cursor: The request asks for a later page.

        Returns:
            The rule, or ``None`` when no rule applies.
        """
        with self._lock:
            for active in self._rules:
                rule = active.rule
                if active.remaining == 0 or not rule.matches(path):
                    continue
                if rule.kind in LIST_KINDS and not is_list:
                    continue
                if rule.kind == EMPTY_PAGE_WITH_CURSOR and has_cursor:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                if active.remaining is not None:
                    active.remaining -= 1
                active.fired += 1
                return rule
        return None
