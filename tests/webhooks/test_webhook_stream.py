"""The webhook_events Singer stream, run through a throwaway tap."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from singer_sdk import Tap
from singer_sdk import typing as th
from webhook_helpers import LIVE_SYNC_END, fill_inbox, signed_payload

from tap_fivetran_meta.streams.webhooks import WebhookEventsStream
from tap_fivetran_meta.webhooks.events import event_id_for

if TYPE_CHECKING:
    from pathlib import Path

    from singer_sdk.streams import Stream


class _WebhookTap(Tap):
    name = "tap-webhook-test"
    account_id = "acct_webhook_test"  # what TapFivetranMeta reads from /account/info
    config_jsonschema: ClassVar[dict] = th.PropertiesList(
        th.Property("webhook_inbox_path", th.StringType),
        th.Property("start_date", th.DateTimeType),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        return [WebhookEventsStream(self)]


def _sync(config: dict[str, Any], state: dict | None = None) -> list[dict[str, Any]]:
    tap = _WebhookTap(config=config, state=state or {}, validate_config=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _records(messages: list[dict]) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD"]


def _final_state(messages: list[dict]) -> dict:
    return [m["value"] for m in messages if m["type"] == "STATE"][-1]


def _bookmark(state: dict) -> Any:
    return state["bookmarks"]["webhook_events"].get("replication_key_value")


def test_first_run_emits_everything_then_only_new_rows(inbox_path: Path) -> None:
    first_bodies = [LIVE_SYNC_END, signed_payload(), signed_payload()]
    fill_inbox(inbox_path, first_bodies)
    config = {"webhook_inbox_path": str(inbox_path)}

    first = _sync(config)
    records = _records(first)
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert [r["event_id"] for r in records] == [event_id_for(b) for b in first_bodies]
    state = _final_state(first)
    assert _bookmark(state) == 3
    assert state["bookmarks"]["webhook_events"]["replication_key"] == "seq"

    new_bodies = [signed_payload(), signed_payload()]
    fill_inbox(inbox_path, new_bodies)
    second = _sync(config, state)
    assert [r["event_id"] for r in _records(second)] == [event_id_for(b) for b in new_bodies]
    assert _bookmark(_final_state(second)) == 5

    third = _sync(config, _final_state(second))
    assert _records(third) == []
    assert _bookmark(_final_state(third)) == 5


def test_start_date_does_not_apply_to_seq(inbox_path: Path) -> None:
    # The SDK offers start_date as the starting value when there is no bookmark.
    fill_inbox(inbox_path, [signed_payload(), signed_payload()])
    config = {"webhook_inbox_path": str(inbox_path), "start_date": "2030-01-01T00:00:00Z"}
    first = _sync(config)
    assert [r["seq"] for r in _records(first)] == [1, 2]
    fill_inbox(inbox_path, [signed_payload()])
    second = _sync(config, _final_state(first))
    assert [r["seq"] for r in _records(second)] == [3]


def test_record_shape(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [LIVE_SYNC_END], verified=False)
    messages = _sync({"webhook_inbox_path": str(inbox_path)})
    [record] = _records(messages)
    assert record["payload"] == json.loads(LIVE_SYNC_END)
    assert record["signature_verified"] is False
    assert record["created"] == "2026-05-22T00:06:08.638000Z"
    assert record["connection_id"] == "assimilate_seem"
    assert record["connection_name"] == "ftar_pg"
    assert record["status"] == "SUCCESSFUL"
    assert record["reason"] is None
    assert record["account_id"] == "acct_webhook_test"
    assert "raw_body" not in record
    [schema] = [m for m in messages if m["type"] == "SCHEMA"]
    assert schema["key_properties"] == ["event_id"]
    assert schema["bookmark_properties"] == ["seq"]
    assert set(record) <= set(schema["schema"]["properties"])


def test_schema_has_descriptions_everywhere() -> None:
    properties = WebhookEventsStream.schema["properties"]
    assert set(properties) == {
        "seq",
        "event_id",
        "received_at",
        "event",
        "created",
        "connector_type",
        "connection_id",
        "connection_name",
        "sync_id",
        "group_id",
        "status",
        "reason",
        "signature_verified",
        "payload",
        "account_id",
    }
    assert all(prop.get("description") for prop in properties.values())
    assert properties["received_at"]["format"] == "date-time"
    assert properties["created"]["format"] == "date-time"


def test_unset_path_emits_nothing_and_logs_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        messages = _sync({})
    assert _records(messages) == []
    lines = [r for r in caplog.records if "webhook_inbox_path is not set" in r.getMessage()]
    assert [r.levelno for r in lines] == [logging.INFO]


def test_missing_file_emits_nothing_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "nope.sqlite"
    with caplog.at_level(logging.INFO):
        messages = _sync({"webhook_inbox_path": str(missing)})
    assert _records(messages) == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not exist" in warnings[0].getMessage()
    assert not missing.exists()  # reading never creates the file


def test_stream_does_not_modify_the_inbox(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload()])
    before = inbox_path.read_bytes()
    _sync({"webhook_inbox_path": str(inbox_path)})
    assert inbox_path.read_bytes() == before
