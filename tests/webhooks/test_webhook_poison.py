"""Poison values in deliveries (issue 22 items 6 and 9, webhook side).

A lone UTF-16 surrogate or a NUL in a delivery is stored (the body byte for byte, the
indexed columns cleaned) and reaches the tap's output cleaned, with one warning
naming the event, on every run. A ``created`` that overflows when converted to UTC
is stored with ``created`` null (the raw value stays in the body): an HTTP answer,
never a traceback.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import pytest
import requests_mock
from webhook_helpers import signed_payload

from tap_fivetran_meta.webhooks.events import event_id_for, parse_event

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

if TYPE_CHECKING:
    from pathlib import Path

    from webhook_helpers import RunningReceiver

# As Fivetran's JSON would carry them: escapes, so the body itself is valid UTF-8.
POISON = (
    b'{"event":"sync_end","created":"2026-05-22T00:06:08.638Z","connector_type":"pg",'
    b'"connector_id":"conn_\\ud800_1","connector_name":"name\\u0000x",'
    b'"sync_id":"s1","data":{"status":"FAILURE","reason":"bad \\udfff\\u0000 value",'
    b'"tables":["a\\ud83d","b"]}}'
)


def _utf8_clean(value: object) -> bool:
    text = json.dumps(value, ensure_ascii=False)
    text.encode("utf-8")  # raises on a lone surrogate
    return "\x00" not in text and "\\u0000" not in text


def test_parsed_columns_are_storable() -> None:
    event = parse_event(POISON)
    assert event.connection_id == "conn_\ufffd_1"
    assert event.connection_name == "namex"
    assert event.reason == "bad \ufffd value"
    assert event.raw_body == POISON.decode()  # kept as received


def test_the_receiver_stores_a_poison_delivery(receiver: RunningReceiver) -> None:
    response = receiver.post(POISON)
    assert response.status == 200
    [row] = receiver.stored()
    assert row["event_id"] == event_id_for(POISON)
    assert row["raw_body"] == POISON.decode()
    assert row["connection_id"] == "conn_\ufffd_1"


def test_the_stream_cleans_a_poison_event_on_every_run_with_one_warning_naming_it(
    receiver: RunningReceiver,
    api: requests_mock.Mocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert receiver.post(signed_payload()).status == 200
    assert receiver.post(POISON).status == 200
    config = {**fx.CONFIG, "webhook_inbox_path": str(receiver.inbox_path)}
    catalog = catalog_selecting({"webhook_events"})
    for _ in range(2):  # a state-less rerun reads the event again: no crash either time
        with caplog.at_level(logging.WARNING):
            caplog.clear()
            run = run_tap(config, catalog=catalog)
        records = run.records["webhook_events"]
        assert len(records) == 2
        poisoned = records[1]
        assert poisoned["event_id"] == event_id_for(POISON)
        assert all(_utf8_clean(record) for record in records)
        assert poisoned["connection_name"] == "namex"
        assert poisoned["payload"]["connector_id"] == "conn_\ufffd_1"
        assert poisoned["payload"]["data"]["tables"] == ["a\ufffd", "b"]
        warnings = [r.getMessage() for r in caplog.records if "lone" in r.getMessage()]
        assert len(warnings) == 1
        assert event_id_for(POISON) in warnings[0]
        assert "seq 2" in warnings[0]


@pytest.mark.parametrize("created", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_created_that_overflows_is_stored_with_created_null(
    receiver: RunningReceiver,
    api: requests_mock.Mocker,
    created: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = signed_payload(created=created)
    with caplog.at_level(logging.DEBUG):
        response = receiver.post(body)
    assert response.status == 200
    assert all(r.exc_info is None for r in caplog.records)  # no traceback
    [row] = receiver.stored()
    assert row["created"] is None
    config = {**fx.CONFIG, "webhook_inbox_path": str(receiver.inbox_path)}
    run = run_tap(config, catalog=catalog_selecting({"webhook_events"}))
    [record] = run.records["webhook_events"]
    assert record["created"] is None
    assert record["payload"]["created"] == created  # the raw value, as received


def test_inbox_rows_are_clean_for_a_target(inbox_path: Path) -> None:
    # What the receiver writes into the indexed columns needs no cleaning downstream.
    event = parse_event(POISON)
    for value in (event.connection_id, event.connection_name, event.reason):
        assert _utf8_clean(value)
