"""Tiny path router with templated paths (``/v1/connections/{id}``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fivetran_sim.state import State

#: A handler returns ``(data, message)``; message ``None`` means "omit it".
Handler = Callable[[State, Mapping[str, str], Mapping[str, str]], tuple[Any, str | None]]


@dataclass(frozen=True)
class Route:
    """One endpoint.

    Attributes:
        template: Path with ``{name}`` placeholders.
        handler: Function answering the request.
        is_list: Whether the endpoint is paginated.
    """

    template: str
    handler: Handler
    is_list: bool = False

    @property
    def segments(self) -> tuple[str, ...]:
        """Path segments of the template."""
        return tuple(self.template.strip("/").split("/"))


class Router:
    """Matches request paths to routes."""

    def __init__(self, routes: list[Route]) -> None:
        """Index the routes by segment count.

        Args:
            routes: All routes.
        """
        self._by_length: dict[int, list[Route]] = {}
        for route in routes:
            self._by_length.setdefault(len(route.segments), []).append(route)

    def match(self, segments: list[str]) -> tuple[Route, dict[str, str]] | None:
        """Find the route for already-decoded path segments.

        Args:
            segments: Decoded path segments (``["v1", "connections", "abc"]``).

        Returns:
            The route and its path parameters, or ``None``.
        """
        for route in self._by_length.get(len(segments), []):
            params: dict[str, str] = {}
            for pattern, actual in zip(route.segments, segments, strict=True):
                if pattern.startswith("{"):
                    params[pattern[1:-1]] = actual
                elif pattern != actual:
                    break
            else:
                return route, params
        return None
