"""``/__admin`` endpoints (no auth): counters, faults, clock and data mutations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

from fivetran_sim.faults import FaultRule
from fivetran_sim.timefmt import from_us, parse


class SimControls(Protocol):
    """What the admin API drives (implemented by :class:`fivetran_sim.Simulator`).

    A protocol rather than the Simulator class: the simulator builds its admin API, so
    this module must not import the simulator back.
    """

    @property
    def now(self) -> datetime:
        """The simulator clock."""

    def request_counts(self) -> dict[str, int]:
        """Requests served per endpoint."""

    def total_requests(self) -> int:
        """All requests served."""

    def reset_counts(self) -> None:
        """Zero the request counters."""

    def reset_rate_limit(self) -> None:
        """Refill the simulated hourly quota."""

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules in force."""

    def add_fault(self, rule: FaultRule) -> None:
        """Add a fault rule."""

    def clear_faults(self) -> None:
        """Remove every fault rule."""

    def advance(self, minutes: float) -> None:
        """Move the clock forward."""

    def delete_connection(self, connection_id: str) -> None:
        """Delete a connection."""

    def vanish_after_list(self, connection_id: str) -> None:
        """Let a connection show in the list but answer 404 afterwards."""

    def mutate_connection(self, connection_id: str, **changes: Any) -> None:
        """Change a connection's status fields."""

    def edit_table(self, connection_id: str, schema: str, table: str, **changes: Any) -> None:
        """Change, add or remove a table in a connection's schema config."""

    def expected_counts(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, int]:
        """Records a complete tap run should emit per stream."""


class AdminError(Exception):
    """Admin request error answered as ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        """Create the error.

        Args:
            status: HTTP status.
            message: Explanation.
        """
        super().__init__(message)
        self.status = status


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError:
        raise AdminError(400, "body is not valid JSON") from None


def _object(body: bytes) -> dict[str, Any]:
    payload = _json_body(body)
    if not isinstance(payload, dict):
        raise AdminError(400, "body must be a JSON object")
    return payload


def _connection_id(payload: dict[str, Any]) -> str:
    conn_id = payload.pop("id", None)
    if not isinstance(conn_id, str):
        raise AdminError(400, "'id' (string) is required")
    return conn_id


def _time(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return parse(raw)
    except ValueError:
        raise AdminError(400, f"invalid timestamp for {name!r}") from None


def _wall_clock_note(now: datetime) -> dict[str, Any]:
    """Say when the simulated clock has passed the real one.

    A tap reads sync history up to its own (real) clock, so syncs the simulator dates
    after it stay invisible until real time catches up. Start the simulator in the
    past (``serve --now``) to advance it without getting ahead.
    """
    ahead = (now - datetime.now(timezone.utc)).total_seconds() / 60
    if ahead <= 1:
        return {}
    return {
        "ahead_of_wall_clock_minutes": round(ahead),
        "warning": (
            "the simulated clock is ahead of the real one: a tap reads sync history only "
            "up to its own clock, so later syncs stay invisible until then; start the "
            "simulator with an earlier --now to advance it safely"
        ),
    }


class AdminApi:
    """Dispatches admin requests to the simulator's controls."""

    def __init__(self, sim: SimControls) -> None:
        """Bind to a simulator.

        Args:
            sim: The simulator to control.
        """
        self._sim = sim

    def __call__(
        self, method: str, path: str, query: Mapping[str, str], body: bytes
    ) -> tuple[int, Any]:
        """Handle one admin request.

        Args:
            method: HTTP method.
            path: Path starting with ``/__admin``.
            query: Query parameters.
            body: Request body.

        Returns:
            ``(status, JSON payload)``.
        """
        action = path[len("/__admin") :].strip("/")
        handler = getattr(self, f"_{method.lower()}_{action.replace('-', '_')}", None)
        if handler is None:
            return 404, {"error": f"no admin endpoint {method} {path}"}
        try:
            return 200, handler(query, body)
        except AdminError as error:
            return error.status, {"error": str(error)}
        except KeyError as error:
            return 404, {"error": f"unknown connection {error}"}
        except (ValueError, TypeError) as error:
            return 400, {"error": str(error)}

    def _get_counts(self, query: Mapping[str, str], body: bytes) -> Any:
        return {"counts": self._sim.request_counts(), "total": self._sim.total_requests()}

    def _post_reset_counts(self, query: Mapping[str, str], body: bytes) -> Any:
        self._sim.reset_counts()
        return {"ok": True}

    def _get_faults(self, query: Mapping[str, str], body: bytes) -> Any:
        return {"faults": self._sim.faults()}

    def _post_faults(self, query: Mapping[str, str], body: bytes) -> Any:
        payload = _json_body(body)
        rules = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(rule, dict) for rule in rules):
            raise AdminError(400, "expected a JSON list of fault objects")
        parsed = [FaultRule.from_dict(rule) for rule in rules]
        for rule in parsed:
            self._sim.add_fault(rule)
        return {"ok": True, "faults": self._sim.faults()}

    def _delete_faults(self, query: Mapping[str, str], body: bytes) -> Any:
        self._sim.clear_faults()
        return {"ok": True}

    def _get_now(self, query: Mapping[str, str], body: bytes) -> Any:
        return {"now": self._sim.now.isoformat()}

    def _post_advance(self, query: Mapping[str, str], body: bytes) -> Any:
        minutes = _object(body).get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            raise AdminError(400, "'minutes' (number) is required")
        self._sim.advance(minutes=minutes)
        return {"now": self._sim.now.isoformat(), **_wall_clock_note(self._sim.now)}

    def _post_delete_connection(self, query: Mapping[str, str], body: bytes) -> Any:
        self._sim.delete_connection(_connection_id(_object(body)))
        return {"ok": True}

    def _post_vanish_connection(self, query: Mapping[str, str], body: bytes) -> Any:
        self._sim.vanish_after_list(_connection_id(_object(body)))
        return {"ok": True}

    def _post_mutate_connection(self, query: Mapping[str, str], body: bytes) -> Any:
        payload = _object(body)
        conn_id = _connection_id(payload)
        self._sim.mutate_connection(conn_id, **payload)
        return {"ok": True}

    def _post_edit_table(self, query: Mapping[str, str], body: bytes) -> Any:
        payload = _object(body)
        conn_id = _connection_id(payload)
        schema, table = payload.pop("schema", None), payload.pop("table", None)
        if not isinstance(schema, str) or not isinstance(table, str):
            raise AdminError(400, "'schema' and 'table' (strings) are required")
        self._sim.edit_table(conn_id, schema, table, **payload)
        return {"ok": True}

    def _post_reset_rate_limit(self, query: Mapping[str, str], body: bytes) -> Any:
        self._sim.reset_rate_limit()
        return {"ok": True}

    def _get_expected_counts(self, query: Mapping[str, str], body: bytes) -> Any:
        start, end = _time(query, "start"), _time(query, "end")
        return self._sim.expected_counts(
            start=None if start is None else from_us(start),
            end=None if end is None else from_us(end),
        )
