"""Helpers for the sync-history and status-history tests.

``FakeHistory`` serves ``/connections/{id}/sync-history`` on requests-mock like the
documented API, strictly: ``start_time``/``end_time`` windows of less than 7 days
(400 for exactly 7 days or more: the docs do not say whether 7 days is allowed),
items whose start lies in the window, oldest first, cursor pages.
``run_capture`` runs the tap in-process with a fixed clock and keeps every message
written before a failure, like a killed process leaves its stdout behind.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from tap_fivetran_meta.rules.timeutil import parse_timestamp
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures

if TYPE_CHECKING:
    from collections.abc import Iterable

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
HISTORY_STREAMS = {"connections", "sync_history", "connection_status_history"}
SYNC_HISTORY_PATH = re.compile(r"/connections/([^/]+)/sync-history$")


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sync(start: datetime, minutes: float | None = 10, **extra: Any) -> dict:
    """A sync-history item as documented: start, end (null while running), status."""
    item: dict[str, Any] = {
        "start": iso(start),
        "end": None if minutes is None else iso(start + timedelta(minutes=minutes)),
        "status": None if minutes is None else "COMPLETED",
    }
    item.update(extra)
    return item


def started(value: datetime) -> str:
    """A ``started_at`` as the tap emits it."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class HistoryRequest:
    connection_id: str
    start_time: str | None
    end_time: str | None
    cursor: str | None
    accept: str | None


@dataclass
class FakeHistory:
    """In-memory sync history per connection, served with windows and cursor pages."""

    syncs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    fail_all: tuple[int, dict[str, Any]] | None = None
    ignore_window: bool = False
    requests: list[HistoryRequest] = field(default_factory=list)

    def register(self, mocker: Any, api: str = api_fixtures.API) -> None:
        mocker.get(re.compile(rf"{re.escape(api)}/connections/[^/]+/sync-history"), json=self)

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        url = urlparse(request.url)
        match = SYNC_HISTORY_PATH.search(url.path)
        assert match
        connection_id = match.group(1)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append(
            HistoryRequest(
                connection_id,
                query.get("start_time"),
                query.get("end_time"),
                query.get("cursor"),
                request.headers.get("Accept"),
            )
        )
        error = self.fail_all or self.errors.get(connection_id)
        if error is not None:
            context.status_code = error[0]
            return error[1]
        lo, hi = parse_timestamp(query["start_time"]), parse_timestamp(query["end_time"])
        assert lo is not None
        assert hi is not None
        if hi <= lo or hi - lo >= timedelta(days=7):
            context.status_code = 400
            return {"code": "InvalidInput", "message": "maximum allowed range is 7 days"}
        items = sorted(
            (
                item
                for item in self.syncs.get(connection_id, [])
                if self.ignore_window or lo <= _start(item) <= hi
            ),
            key=_start,
        )
        offset = int(query.get("cursor") or 0)
        limit = int(query.get("limit") or 100)
        more = offset + limit < len(items)
        return api_fixtures.page(
            items[offset : offset + limit], str(offset + limit) if more else None
        )

    def windows(self, connection_id: str) -> list[tuple[str | None, str | None]]:
        """The ``(start_time, end_time)`` of each first-page request for a connection."""
        return [
            (r.start_time, r.end_time)
            for r in self.requests
            if r.connection_id == connection_id and r.cursor is None
        ]


def _start(item: dict[str, Any]) -> datetime:
    """An item's start; a queued item (null start) sorts after every started one."""
    parsed = parse_timestamp(item.get("start"))
    return datetime.max.replace(tzinfo=timezone.utc) if parsed is None else parsed


@dataclass
class Capture:
    """Messages of one run (complete or not) and the error that ended it, if any."""

    messages: list[dict[str, Any]]
    error: BaseException | None
    tap: TapFivetranMeta | None = None

    def history_reads(self) -> int:
        """Connections whose sync history the run asked for (the re-check rule's yes)."""
        assert self.tap is not None
        reasons = self.tap.streams["sync_history"].read_reasons  # type: ignore[attr-defined]
        return sum(count for reason, count in reasons.items() if reason is not None)

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, Any]:
        states = self.states
        return states[-1] if states else {}


def catalog_for(names: Iterable[str]) -> dict[str, Any]:
    """The discovered catalog with only ``names`` selected."""
    wanted = set(names)
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def run_capture(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    streams: Iterable[str] = HISTORY_STREAMS,
) -> Capture:
    """Run the tap in-process; keep the messages even when the run fails."""
    tap = TapFivetranMeta(
        config=config,
        state=copy.deepcopy(state),  # the SDK keeps (and mutates) parts of the given state
        catalog=catalog_for(streams),
        parse_env_config=False,
    )
    out = io.StringIO()
    error: BaseException | None = None
    with contextlib.redirect_stdout(out):
        try:
            tap.sync_all()
        except Exception as exc:
            error = exc
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return Capture(messages, error, tap)


def partitions(state: dict[str, Any], stream: str) -> dict[str, dict[str, Any]]:
    """Partition states of a stream by connection id."""
    entries = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    return {entry["context"]["connection_id"]: entry for entry in entries}


def bookmarks(state: dict[str, Any], stream: str = "sync_history") -> dict[str, str]:
    """Committed bookmark value per connection id."""
    return {
        cid: entry["replication_key_value"]
        for cid, entry in partitions(state, stream).items()
        if "replication_key_value" in entry
    }


def sync_history_state(values: dict[str, datetime]) -> dict[str, Any]:
    """A state holding sync_history bookmarks for the given connections."""
    return {
        "bookmarks": {
            "sync_history": {
                "partitions": [
                    {
                        "context": {"connection_id": cid},
                        "replication_key": "started_at",
                        "replication_key_value": value.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    }
                    for cid, value in values.items()
                ]
            }
        }
    }


class Clock:
    """The tap's clock (``run_started_at``, config checks), frozen and movable."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def freeze_tap_clock(monkeypatch: Any, now: datetime = NOW) -> Clock:
    """Make every tap run of the test start at ``now`` (movable with ``advance``)."""
    clock = Clock(now)
    monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", clock)
    return clock
