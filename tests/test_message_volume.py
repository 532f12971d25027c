"""Leaner Singer output: same bytes as the SDK's writer, fewer messages and copies."""

from __future__ import annotations

import contextlib
import io
import json

from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage

from tap_fivetran_meta.message_volume import CompactStateWriter, StateFlushingWriter

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
