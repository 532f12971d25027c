"""Parsing delivery bodies into inbox columns."""

from __future__ import annotations

import hashlib
import json

import pytest
from webhook_helpers import LIVE_SYNC_END

from tap_fivetran_meta.webhooks.events import PayloadError, event_id_for, parse_event


def test_live_capture() -> None:
    event = parse_event(LIVE_SYNC_END)
    assert event.event_id == hashlib.sha256(LIVE_SYNC_END).hexdigest()
    assert event.raw_body == LIVE_SYNC_END.decode()
    assert event.event == "sync_end"
    assert event.created == "2026-05-22T00:06:08.638000Z"
    assert event.connector_type == "google_cloud_postgresql"
    assert event.connection_id == "assimilate_seem"
    assert event.connection_name == "ftar_pg"
    assert event.sync_id == "b4703f73-6315-4e22-8d7a-3bfb18b2fed2"
    assert event.group_id == "inappropriate_implode"
    assert event.status == "SUCCESSFUL"
    assert event.reason is None


def test_new_names_win_over_legacy_names() -> None:
    body = json.dumps(
        {
            "event": "sync_end",
            "connection_id": "new_id",
            "connector_id": "old_id",
            "connection_name": "new_name",
            "connector_name": "old_name",
            "destination_group_id": "dest",
            "group_id": "legacy_group",
        }
    ).encode()
    event = parse_event(body)
    assert (event.connection_id, event.connection_name, event.group_id) == (
        "new_id",
        "new_name",
        "dest",
    )


def test_legacy_group_id_and_failure_reason() -> None:
    body = json.dumps(
        {
            "event": "sync_end",
            "created": "2022-04-09T02:08:12.294+02:00",
            "connector_id": "abc",
            "group_id": "legacy_group",
            "connection_id": "",
            "data": {"status": "FAILURE_WITH_TASK", "reason": "boom", "taskType": "reconnect"},
        }
    ).encode()
    event = parse_event(body)
    assert event.connection_id == "abc"  # empty connection_id falls back
    assert event.group_id == "legacy_group"
    assert (event.status, event.reason) == ("FAILURE_WITH_TASK", "boom")
    assert event.created == "2022-04-09T00:08:12.294000Z"  # converted to UTC


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"event": 5, "created": "yesterday", "data": "SUCCESSFUL", "sync_id": {"a": 1}},
        {"event": True, "data": {"status": ["x"], "reason": None}},
    ],
)
def test_odd_types_become_null_not_errors(payload: dict) -> None:
    event = parse_event(json.dumps(payload).encode())
    assert event.created is None
    assert event.status is None
    assert event.sync_id is None
    assert event.event in {None, "5"}


def test_lone_surrogate_does_not_break_storage_columns() -> None:
    event = parse_event(b'{"event": "sync_end", "reason": "x", "sync_id": "a\\ud800b"}')
    assert event.sync_id is not None
    event.sync_id.encode("utf-8")  # must be encodable for SQLite


@pytest.mark.parametrize(
    "body", [b"", b"[]", b"1", b"nul", b'{"a": Infinity}', b"\xc3\x28", b'{"a":1}{"b":2}']
)
def test_payload_errors(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_event(body)


def test_event_id_depends_on_every_byte() -> None:
    assert event_id_for(b'{"a":1}') != event_id_for(b'{"a": 1}')
    assert len(event_id_for(b"")) == 64
