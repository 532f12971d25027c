"""Helpers shared by the simulator tests."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import requests

from fivetran_sim import SimConfig

FIXED_NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
AUTH = ("key", "secret")


def make_config(**overrides: Any) -> SimConfig:
    values: dict[str, Any] = {"connections": 50, "seed": 7, "now": FIXED_NOW}
    values.update(overrides)
    return SimConfig(**values)


def get_data(session: requests.Session, url: str, **params: Any) -> Any:
    response = session.get(url, params=params, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == "Success"
    return body["data"]


def collect(session: requests.Session, url: str, limit: int = 100, **params: Any) -> list[Any]:
    """Follow cursors to the end; fail on an endless loop."""
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(10_000):
        query = dict(params, limit=limit)
        if cursor:
            query["cursor"] = cursor
        data = get_data(session, url, **query)
        assert len(data["items"]) <= limit
        items.extend(data["items"])
        cursor = data["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not terminate")
