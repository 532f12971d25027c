"""Leaner Singer output: the SDK writer's JSON, fewer messages and copies."""

from __future__ import annotations

import contextlib
import decimal
import io
import itertools
import json
from datetime import datetime, timezone
from typing import Any

from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage

from tap_fivetran_meta.runtime import message_volume, sdk_hooks
from tap_fivetran_meta.runtime.message_volume import (
    StateFlushingWriter,
    StateThrottle,
    compact_state,
    encode_message,
    flush_pending_output,
    writes_rows_unchanged,
)
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
        writer.write_now(STATE)
        writer.write_now(json.loads(json.dumps(STATE)))  # equal, not the same object
        STATE["bookmarks"]["s"]["partitions"][0]["v"] = 1
        writer.write_now(STATE)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["value"]["bookmarks"]["s"]["partitions"][0]["v"] for line in lines] == [None, 1]


def _growing_run(
    connections: int, *, records_each: int = 3, input_state: dict | None = None
) -> tuple[list[bytes], int]:
    """A simulated run: per connection some records, a new bookmark, a STATE offer.

    Returns the STATE lines written and the size of the final state's value.
    """
    out = _BinaryStdout()
    state: dict[str, Any] = json.loads(json.dumps(input_state or {"bookmarks": {}}))
    with contextlib.redirect_stdout(out):
        message_writer = StateFlushingWriter()
        throttle = StateThrottle(every_records=1, last_stream="connections")
        throttle.start_from(encode_message(compact_state(state)))
        writer = CompactStateWriter(message_writer, throttle)
        partitions = state["bookmarks"].setdefault("history", {}).setdefault("partitions", [])
        state["bookmarks"]["users"] = {}  # a full-table stream: no bookmark of its own
        for index in range(connections):
            for row in range(records_each):
                throttle.record_written()
                message_writer.write_message(
                    RecordMessage(stream="history", record={"id": f"{index}-{row}", "x": "y" * 80})
                )
            partitions.append({"context": {"connection_id": f"c{index:05}"}, "value": index})
            writer.offer(state)
        with throttle.closing("connections"):
            writer.offer(state)
    lines = [line for line in out.buffer.getvalue().splitlines() if b'"type":"STATE"' in line]
    final = len(encode_message(compact_state(state)))
    return lines, final


def test_state_volume_stays_within_three_times_the_final_state() -> None:
    for connections in (10, 100, 1000, 5000):
        lines, final = _growing_run(connections)
        assert sum(len(line) for line in lines) <= 3 * final + 64 * len(lines), connections
        # ...while a long run still leaves intermediate STATEs to resume from
        assert len(lines) >= 3, connections
        assert (
            json.loads(lines[-1])["value"]["bookmarks"]["history"]["partitions"][-1]["value"]
            == connections - 1
        )


def test_no_state_repeats_the_previous_bookmarks() -> None:
    lines, _ = _growing_run(200)
    values = [json.loads(line)["value"] for line in lines]
    assert all(a != b for a, b in itertools.pairwise(values))
    # streams that keep no bookmark are not in STATE at all
    assert all("users" not in value["bookmarks"] for value in values)


def test_a_run_that_changes_nothing_writes_one_state_at_its_end() -> None:
    state = {"bookmarks": {"history": {"partitions": [{"context": {"connection_id": "a"}}]}}}
    out = _BinaryStdout()
    with contextlib.redirect_stdout(out):
        throttle = StateThrottle(every_records=1, last_stream="connections")
        throttle.start_from(encode_message(compact_state(state)))
        writer = CompactStateWriter(StateFlushingWriter(), throttle)
        for _ in range(3):  # offers of the input state: not written
            writer.write_state({**state, "bookmarks": {**state["bookmarks"], "users": {}}})
        assert out.buffer.getvalue() == b""
        with throttle.closing("connections"):  # the run's end: one STATE, then no repeat
            writer.offer(state)
            writer.offer(state)
    assert [json.loads(line)["value"] for line in out.buffer.getvalue().splitlines()] == [state]


def test_the_last_stream_end_writes_the_state_whatever_the_budget() -> None:
    out = _BinaryStdout()
    with contextlib.redirect_stdout(out):
        throttle = StateThrottle(every_records=10_000, last_stream="webhooks")
        writer = CompactStateWriter(StateFlushingWriter(), throttle)
        writer.offer(STATE)  # too few records: not now
        with throttle.closing("users"):  # another stream's end: not the last
            writer.offer(STATE)
        assert out.buffer.getvalue() == b""
        with throttle.closing("webhooks"):
            writer.offer(STATE)
    assert json.loads(out.buffer.getvalue())["value"] == STATE


def test_the_state_is_not_encoded_until_enough_output_paid_for_it(monkeypatch: Any) -> None:
    encoded: list[int] = []
    real = sdk_hooks.encode_message

    def counting(message: dict) -> bytes:
        value = real(message)
        encoded.append(len(value))
        return value

    monkeypatch.setattr(sdk_hooks, "encode_message", counting)
    big = {"bookmarks": {"h": {"partitions": [{"context": {"i": i}} for i in range(3000)]}}}
    out = _BinaryStdout()
    with contextlib.redirect_stdout(out):
        throttle = StateThrottle(every_records=1)
        throttle.start_from(encode_message(big))
        message_writer = StateFlushingWriter()
        writer = CompactStateWriter(message_writer, throttle)
        for index in range(5000):  # 5,000 small records, each followed by an offer
            throttle.record_written()
            message_writer.write_message(RecordMessage(stream="h", record={"id": index}))
            writer.offer(big)
        flush_pending_output()
    # the state (~50 kB) is looked at only once the records' bytes add up to its size
    size = len(encode_message(big))
    assert message_writer.bytes_written > 3 * size  # the records were worth three looks
    assert 1 <= len(encoded) <= message_writer.bytes_written // size


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


def test_collected_lines_wait_at_most_output_seconds(monkeypatch: Any) -> None:
    out = _BinaryStdout()
    monkeypatch.setattr("sys.stdout", out)
    clock = [100.0]
    monkeypatch.setattr(message_volume.time, "monotonic", lambda: clock[0])
    writer = StateFlushingWriter()
    writer.write_message(RecordMessage(stream="s", record={"id": 1}))
    assert out.buffer.getvalue() == b""  # collected
    clock[0] += message_volume.OUTPUT_SECONDS
    writer.write_message(RecordMessage(stream="s", record={"id": 2}))
    assert len(out.buffer.getvalue().splitlines()) == 2  # a rare STATE does not hold rows back
