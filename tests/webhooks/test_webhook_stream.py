"""The webhook_events Singer stream, run through a throwaway tap."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
import requests_mock
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from webhook_helpers import LIVE_SYNC_END, fill_inbox, run_unprivileged, signed_payload

from tap_fivetran_meta.runtime.activation import ActivationTracker
from tap_fivetran_meta.streams.webhooks import WebhookEventsStream, resume_after
from tap_fivetran_meta.webhooks.events import event_id_for
from tap_fivetran_meta.webhooks.store import InboxIdentity, open_snapshot

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

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

    #: Which streams completed (the run log's source), as TapFivetranMeta keeps it.
    activation = ActivationTracker(enabled=False, version=0)

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


def _inbox_id(path: Path) -> str | None:
    with open_snapshot(path) as snapshot:
        return snapshot.identity.inbox_id


def _recreate(path: Path, bodies: list[bytes]) -> None:
    """Delete the inbox (and its -wal/-shm) and start a new one, as a reinstall would."""
    for file in path.parent.glob(path.name + "*"):
        file.unlink()
    fill_inbox(path, bodies)


def test_bookmark_keeps_the_inbox_id(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload(), signed_payload()])
    state = _final_state(_sync({"webhook_inbox_path": str(inbox_path)}))
    assert state["bookmarks"]["webhook_events"] == {
        "replication_key": "seq",
        "replication_key_value": 2,
        "inbox_id": _inbox_id(inbox_path),
    }


def test_recreated_inbox_is_read_from_its_first_event(
    inbox_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"webhook_inbox_path": str(inbox_path)}
    fill_inbox(inbox_path, [signed_payload() for _ in range(5)])
    old_state = _final_state(_sync(config))
    assert _bookmark(old_state) == 5

    new_bodies = [signed_payload() for _ in range(3)]
    _recreate(inbox_path, new_bodies)  # seq restarts at 1
    with caplog.at_level(logging.INFO):
        messages = _sync(config, old_state)
    assert [r["event_id"] for r in _records(messages)] == [event_id_for(b) for b in new_bodies]
    state = _final_state(messages)["bookmarks"]["webhook_events"]
    assert (state["replication_key_value"], state["inbox_id"]) == (3, _inbox_id(inbox_path))
    assert state["inbox_id"] != old_state["bookmarks"]["webhook_events"]["inbox_id"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "belongs to another inbox" in warnings[0]
    assert "read from its first event" in warnings[0]


def test_recreated_inbox_with_more_events_than_the_bookmark(inbox_path: Path) -> None:
    # The seq check alone would not notice this one: only the id does.
    config = {"webhook_inbox_path": str(inbox_path)}
    fill_inbox(inbox_path, [signed_payload() for _ in range(2)])
    old_state = _final_state(_sync(config))
    _recreate(inbox_path, [signed_payload() for _ in range(4)])
    assert [r["seq"] for r in _records(_sync(config, old_state))] == [1, 2, 3, 4]


def test_recreated_empty_inbox_forgets_the_old_seq(inbox_path: Path) -> None:
    config = {"webhook_inbox_path": str(inbox_path)}
    fill_inbox(inbox_path, [signed_payload() for _ in range(5)])
    old_state = _final_state(_sync(config))
    _recreate(inbox_path, [])
    empty_run = _sync(config, old_state)
    assert _records(empty_run) == []
    state = _final_state(empty_run)
    # Never the new inbox's id with the old inbox's seq: that would skip seq 1..5 later.
    assert "replication_key_value" not in state["bookmarks"]["webhook_events"]
    assert state["bookmarks"]["webhook_events"]["inbox_id"] == _inbox_id(inbox_path)
    fill_inbox(inbox_path, [signed_payload(), signed_payload()])
    assert [r["seq"] for r in _records(_sync(config, state))] == [1, 2]


def test_bookmark_from_before_inbox_ids(inbox_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = {"webhook_inbox_path": str(inbox_path)}
    fill_inbox(inbox_path, [signed_payload() for _ in range(3)])
    legacy = {
        "bookmarks": {"webhook_events": {"replication_key": "seq", "replication_key_value": 2}}
    }
    with caplog.at_level(logging.WARNING):
        resumed = _sync(config, legacy)
    assert [r["seq"] for r in _records(resumed)] == [3]  # same inbox: the bookmark holds
    assert _final_state(resumed)["bookmarks"]["webhook_events"]["inbox_id"] == _inbox_id(inbox_path)
    assert not caplog.records

    beyond = {
        "bookmarks": {"webhook_events": {"replication_key": "seq", "replication_key_value": 9}}
    }
    with caplog.at_level(logging.WARNING):
        reread = _sync(config, beyond)
    assert [r["seq"] for r in _records(reread)] == [1, 2, 3]
    assert "beyond anything this inbox ever held (highest seq 3)" in caplog.text


@pytest.mark.parametrize(
    ("bookmark", "stored_id", "identity", "expected"),
    [
        (0, None, InboxIdentity("a", 0), (0, None)),
        (5, "a", InboxIdentity("a", 7), (5, None)),
        (5, None, InboxIdentity("a", 7), (5, None)),
        (5, "a", InboxIdentity(None, 7), (5, None)),
        (5, "old", InboxIdentity("a", 7), (0, "the bookmark belongs to another inbox (id old)")),
        (
            8,
            "a",
            InboxIdentity("a", 7),
            (0, "the bookmark (seq 8) is beyond anything this inbox ever held (highest seq 7)"),
        ),
    ],
    ids=["no-bookmark", "same-inbox", "legacy-state", "legacy-inbox", "other-inbox", "beyond"],
)
def test_resume_after(
    bookmark: int, stored_id: str | None, identity: InboxIdentity, expected: tuple
) -> None:
    assert resume_after(bookmark, stored_id, identity) == expected


def test_the_real_tap_keeps_the_inbox_id_in_its_state(
    inbox_path: Path, api: requests_mock.Mocker
) -> None:
    # The offline fixture account answers /account/info (account_id on every row).
    config = {**fx.CONFIG, "webhook_inbox_path": str(inbox_path)}
    catalog = catalog_selecting({"webhook_events"})
    fill_inbox(inbox_path, [signed_payload() for _ in range(4)])
    first = run_tap(config, catalog=catalog)
    assert first.count("webhook_events") == 4
    assert first.final_state["bookmarks"]["webhook_events"]["inbox_id"] == _inbox_id(inbox_path)
    _recreate(inbox_path, [signed_payload(), signed_payload()])
    second = run_tap(config, catalog=catalog, state=first.final_state)
    assert [r["seq"] for r in second.records["webhook_events"]] == [1, 2]


# --- problems with the configured path ----------------------------------------------------


def _sync_error(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigValidationError) as caught:
        _sync(config)
    [line] = caught.value.errors
    assert str(caught.value) == line
    return line


def test_a_directory_is_named_as_such(tmp_path: Path) -> None:
    line = _sync_error({"webhook_inbox_path": str(tmp_path)})
    assert line == (
        f"webhook_inbox_path: {tmp_path} is a directory, not an inbox file "
        f"(give the file's path, e.g. {tmp_path / 'webhooks.sqlite'})"
    )


def test_a_missing_directory_is_named_as_such(tmp_path: Path) -> None:
    line = _sync_error({"webhook_inbox_path": str(tmp_path / "gone" / "inbox.sqlite")})
    assert (
        line
        == f"webhook_inbox_path: the directory {tmp_path / 'gone'} does not exist (create it first)"
    )


def test_a_file_that_is_not_an_inbox(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello" * 1000)
    line = _sync_error({"webhook_inbox_path": str(junk)})
    assert line.startswith(f"webhook_inbox_path: {junk} is not an SQLite database")


def _tap_cli(tmp: Path, inbox: Path) -> list[str]:
    config = tmp / "config.json"
    config.write_text(json.dumps({**fx.CONFIG, "webhook_inbox_path": str(inbox)}))
    catalog = tmp / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting({"webhook_events"})))
    for path in (config, catalog):
        os.chmod(path, 0o644)
    return [
        sys.executable,
        "-m",
        "tap_fivetran_meta",
        "--config",
        str(config),
        "--catalog",
        str(catalog),
    ]


def test_cli_read_only_inbox_is_one_line_not_a_bad_inbox(shared_dir: Path) -> None:
    # The tap runs as another user than the receiver, in a directory it cannot write.
    inbox = shared_dir / "inbox.sqlite"
    fill_inbox(inbox, [signed_payload()])
    os.chmod(inbox, 0o644)
    result = run_unprivileged(_tap_cli(shared_dir, inbox), cwd=shared_dir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "not a webhook inbox" not in result.stderr
    assert (
        f"Invalid configuration: webhook_inbox_path: cannot read {inbox}: its directory "
        f"{shared_dir} is not writable by this user" in result.stderr
    )
    assert '"type":"RECORD"' not in result.stdout.replace(" ", "")


def test_a_read_inbox_counts_as_a_completed_stream(inbox_path: Path) -> None:
    fill_inbox(inbox_path, [signed_payload()])
    tap = _WebhookTap(config={"webhook_inbox_path": str(inbox_path)}, validate_config=True)
    tap.activation = ActivationTracker(enabled=False, version=0)
    with contextlib.redirect_stdout(io.StringIO()):
        tap.sync_all()
    assert tap.activation.completed == {"webhook_events"}
    unset = _WebhookTap(config={}, validate_config=True)
    unset.activation = ActivationTracker(enabled=False, version=0)
    with contextlib.redirect_stdout(io.StringIO()):
        unset.sync_all()
    assert unset.activation.completed == frozenset()  # no inbox: nothing was read
