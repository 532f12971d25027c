"""Leaner Singer output: the SDK writer's JSON, fewer messages and copies."""

from __future__ import annotations

import contextlib
import decimal
import io
import json
from datetime import datetime, timezone
from typing import Any

from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage

from tap_fivetran_meta.runtime.message_volume import StateFlushingWriter, writes_rows_unchanged
from tap_fivetran_meta.runtime.sdk_hooks import CompactStateWriter
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures
from tap_runner import catalog_selecting

STATE = {"bookmarks": {"s": {"partitions": [{"context": {"connection_id": "a"}, "v": None}]}}}
MESSAGES = [
    SchemaMessage(stream="s", schema={"type": "object"}, key_properties=["id"]),
    RecordMessage(stream="s", record={"id": 1, "x": None}),
    StateMessage(value=STATE),
]


def test_serialisation_equals_the_sdk_writer() -> None:
    ours, sdk = StateFlushingWriter(), SingerWriter()
    for message in MESSAGES:
        assert ours.format_message(message) == sdk.format_message(message)


def test_odd_values_are_written_as_the_sdk_writes_them() -> None:
    # Same JSON value; only non-ASCII text differs in bytes (UTF-8, not \u escapes).
    # (Records reach the writer conformed, datetimes already text: msgspec would
    # write a raw datetime with "Z", the SDK with "+00:00".)
    record = {
        "price": decimal.Decimal("1.10"),
        "name": "Zürich ✓",
        "huge": 2**70,
        "nan": float("nan"),
    }
    message = RecordMessage(
        stream="s", record=record, time_extracted=datetime(2026, 1, 1, tzinfo=timezone.utc)
    )
    ours = StateFlushingWriter().format_message(message)
    sdk = SingerWriter().format_message(message)
    assert json.loads(ours) == json.loads(sdk)
    assert '"price":1.10' in ours
    assert '"time_extracted":"2026-01-01T00:00:00+00:00"' in ours


def test_trusted_rows_fall_back_to_the_sdk_path_when_the_catalog_deselects_a_column(
    api: Any,
) -> None:
    catalog = catalog_selecting({"connections", "sync_history", "connection_schemas"})
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] == "sync_history":
            for meta in entry["metadata"]:
                if meta["breadcrumb"] == ["properties", "extra_fields"]:
                    meta["metadata"]["selected"] = False
    tap = TapFivetranMeta(config=api_fixtures.CONFIG, catalog=catalog, parse_env_config=False)
    assert not writes_rows_unchanged(tap.streams["sync_history"])
    assert writes_rows_unchanged(tap.streams["connection_schemas"])


def test_unchanged_state_is_written_once() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        writer = CompactStateWriter(StateFlushingWriter())
        writer.write_state(STATE)
        writer.write_state(json.loads(json.dumps(STATE)))  # equal, not the same object
        STATE["bookmarks"]["s"]["partitions"][0]["v"] = 1
        writer.write_state(STATE)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["value"]["bookmarks"]["s"]["partitions"][0]["v"] for line in lines] == [None, 1]


class _BinaryStdout(io.StringIO):
    """A text stdout with a binary buffer, like sys.stdout."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = io.BytesIO()


def test_lines_go_out_in_chunks_and_always_at_state(monkeypatch: Any) -> None:
    out = _BinaryStdout()
    monkeypatch.setattr("sys.stdout", out)
    writer = StateFlushingWriter()
    for index in range(3):
        writer.write_message(RecordMessage(stream="s", record={"id": index}))
    assert out.buffer.getvalue() == b""  # collected, not one write per record
    writer.write_message(StateMessage(value=STATE))
    lines = [json.loads(line) for line in out.buffer.getvalue().splitlines()]
    assert [line["type"] for line in lines] == ["RECORD", "RECORD", "RECORD", "STATE"]
    big = {"id": 1, "text": "x" * 70_000}
    writer.write_message(RecordMessage(stream="s", record=big))  # over one chunk: written
    assert out.buffer.getvalue().endswith(b"}\n")
    assert json.loads(out.buffer.getvalue().splitlines()[-1])["record"] == big
