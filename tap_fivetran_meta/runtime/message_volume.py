"""Fewer STATE and SCHEMA messages from child streams, cheaper RECORDs, fewer flushes.

Encoding: every message is serialised with msgspec (the encoder singer-sdk ships as its
``msgspec`` extra), about ten times faster than the SDK's simplejson path, and written
to stdout as bytes. The JSON is the same value; non-ASCII text is written as UTF-8
rather than backslash-u escapes.

RECORDs: the SDK runs every record through type conformance, property pruning and
stream maps before it is written. With every property selected and no stream map or
flattening configured, pruning and maps change nothing and are left out; rows the tap
builds itself column by column with the schema's types (``trusted_rows``, checked by
``tests/test_trusted_rows.py``) skip the conformance too, which would return them
unchanged. Any other case takes the SDK's path.

Flushes: the SDK flushes stdout after every message, one system call per record. Here
stdout is flushed after each STATE message (and ACTIVATE_VERSION), so a target always
has every record a STATE covers when it reads that STATE, and the records in between
travel in 64 KiB writes (:class:`LineOutput`, also with ``PYTHONUNBUFFERED``). Order
is unchanged; what a killed tap leaves unflushed was not covered by any STATE it sent.

SCHEMA: the SDK writes a stream's SCHEMA message at every ``sync()`` call, i.e. once per
parent context for a child stream (every connection). Targets ignore the repeats, but
building and serialising them cost the tap about a fifth of its CPU time. Here each
stream writes its SCHEMA once per run, before its first record.

STATE:
The SDK writes the whole tap state after every child context (every connection, for
each child stream). The state itself grows with the number of connections (one
bookmark each for sync history and status history), so a run over N connections wrote
O(N^2) bytes of STATE: about 30 MB at 300 connections, gigabytes at a few thousand.

Here a child context's end writes STATE only once at least ``every_records`` records
went out since the last STATE (counted across the tap, so the choice is deterministic);
a top-level stream's end always writes it, so every complete stream is covered by a
STATE message. Delaying STATE never puts it ahead of the records: an interrupted run
resumes from a little earlier, and primary-key upserts absorb the rows read again.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sys
import time
import weakref
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import msgspec
from singer_sdk import metrics
from singer_sdk.io_base import SingerMessageType, SingerWriter
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.json import serialize_json

from tap_fivetran_meta.runtime.blocked_output import output_block, write_all

if TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk import Stream

#: Records between two STATE messages written at a child context's end (the SDK's own
#: STATE_MSG_FREQUENCY for a single stream).
RECORDS_PER_STATE = 10_000


class StateThrottle:
    """Lets a child context's STATE through once enough records went out since the last."""

    def __init__(self, every_records: int = RECORDS_PER_STATE) -> None:
        self.every_records = every_records
        self._records = 0

    def record_written(self) -> None:
        """Count one RECORD message."""
        self._records += 1

    def allow(self, stream: Stream) -> bool:
        """Whether this STATE write goes out now."""
        if stream.context is None or self._records >= self.every_records:
            self._records = 0
            return True
        return False


def metrics_shown() -> bool:
    """Whether the SDK's METRIC lines (logged at INFO) reach the log at all."""
    return _METRICS_LOGGER.isEnabledFor(logging.INFO)


_METRICS_LOGGER = metrics.get_metrics_logger()


class _Unlogged:
    """Stands in for a record counter or sync timer whose METRIC line nobody sees.

    The SDK builds both for every child context (every connection, each child stream)
    and reads the clock on every record; with METRIC lines off that is pure cost.
    """

    value = 0

    def __enter__(self) -> _Unlogged:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def with_context(self, value: object) -> None:
        """Ignore the context (nothing is logged)."""

    def increment(self, value: int = 1) -> None:
        """Count nothing (nothing is logged)."""


UNLOGGED = _Unlogged()


def writes_rows_unchanged(stream: Any) -> bool:
    """Whether the SDK's record path would leave a schema-conforming row as it is.

    True when every property is selected (nothing to prune) and the only stream map
    is the identity without flattening (nothing to transform or rename).
    """
    maps = stream.stream_maps
    if len(maps) != 1 or type(maps[0]) is not SameRecordTransform:
        return False
    only = maps[0]
    if only.stream_alias != stream.name or only.flattening_enabled:
        return False
    return all(stream.mask.values())


class TrustedRecord:
    """A RECORD message of the trusted-rows path, ``time_extracted`` already as text."""

    __slots__ = ("record", "stream", "time_extracted", "version")
    type = SingerMessageType.RECORD

    def __init__(self, stream: str, record: dict, version: int | None, time_extracted: str) -> None:
        self.stream = stream
        self.record = record
        self.version = version
        self.time_extracted = time_extracted


_last_extraction: tuple[int, str] = (0, "")


def extraction_time() -> str:
    """``time_extracted`` as the SDK writes it (``+00:00``), formatted once per millisecond."""
    global _last_extraction  # noqa: PLW0603 - a one-entry cache, main thread only
    millis = time.time_ns() // 1_000_000
    if millis != _last_extraction[0]:
        _last_extraction = (millis, datetime.now(timezone.utc).isoformat())
    return _last_extraction[1]


def _encode_fallback(value: Any) -> Any:
    """What msgspec cannot encode natively: as the SDK's encoder does (ISO text or str)."""
    return value.isoformat(sep="T") if isinstance(value, datetime) else str(value)


_ENCODER = msgspec.json.Encoder(enc_hook=_encode_fallback, decimal_format="number")


def encode_message(message: dict[str, Any]) -> bytes:
    """One message as a JSON line (bytes, newline included).

    msgspec first; anything it refuses (e.g. an integer beyond 64 bits) goes through
    the SDK's own serialiser.
    """
    try:
        return _ENCODER.encode(message) + b"\n"
    except (TypeError, OverflowError, msgspec.EncodeError):
        return (serialize_json(message) + "\n").encode()


FLUSH_AFTER = frozenset({SingerMessageType.STATE, SingerMessageType.ACTIVATE_VERSION})


class StateFlushingWriter(SingerWriter):
    """Writes messages in order as bytes; flushes stdout only after STATE and ACTIVATE_VERSION.

    STATE messages are serialised straight from their value: the SDK's generic path
    first deep-copies the whole state (one bookmark per connection) into a new dict.
    RECORD messages are built as the SDK's ``RecordMessage.to_dict`` does, with
    ``time_extracted`` as text in the SDK's format (msgspec would write ``Z``).
    """

    def serialize_message(self, message: Any) -> str:
        """One JSON line (without the newline), as text."""
        return self._encode(message).decode().rstrip("\n")

    def _encode(self, message: Any) -> bytes:
        if message.type == SingerMessageType.STATE:
            return encode_message({"type": SingerMessageType.STATE, "value": message.value})
        if isinstance(message, TrustedRecord):
            return self._record_line(
                message.stream, message.record, message.version, message.time_extracted
            )
        if message.type == SingerMessageType.RECORD:
            return self._record_line(
                message.stream,
                message.record,
                message.version,
                None if message.time_extracted is None else message.time_extracted.isoformat(),
            )
        return encode_message(message.to_dict())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prefixes: dict[str, bytes] = {}

    def _record_line(
        self, stream: str, record: dict, version: int | None, time_extracted: str | None
    ) -> bytes:
        """``{"type":"RECORD","stream":...,"record":...,"version":...,"time_extracted":...}``.

        The same bytes as encoding that dict, with only the record and the two values
        encoded per message (the stream's prefix is encoded once).
        """
        prefix = self._prefixes.get(stream)
        if prefix is None:
            prefix = _ENCODER.encode({"type": "RECORD", "stream": stream})[:-1] + b',"record":'
            self._prefixes[stream] = prefix
        try:
            parts = [prefix, _ENCODER.encode(record)]
        except (TypeError, OverflowError, msgspec.EncodeError):
            body: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
            parts = [encode_message(body)[:-2]]
        if version is not None:
            parts.append(b',"version":%d' % version)
        if time_extracted is not None:
            parts.append(b',"time_extracted":' + _ENCODER.encode(time_extracted))
        parts.append(b"}\n")
        return b"".join(parts)

    def write_message(self, message: Any) -> None:
        """Write one message line."""
        self._output.write(self._encode(message), flush=message.type in FLUSH_AFTER)

    def write_encoded_state(self, value: bytes) -> None:
        """Write a STATE message from its value already encoded (one JSON line, no copy)."""
        self._output.write_parts((b'{"type":"STATE","value":', memoryview(value)[:-1], b"}\n"))

    @cached_property
    def _output(self) -> LineOutput:
        return LineOutput()


#: Bytes collected before they are written to stdout (flushed earlier at STATE).
OUTPUT_CHUNK = 64 * 1024


class LineOutput:
    """Message lines to stdout in large writes, whatever Python's own buffering is.

    With ``PYTHONUNBUFFERED`` (common in containers) every line would be one system
    call; here lines are collected and written in chunks of :data:`OUTPUT_CHUNK` bytes,
    and always at a flush point (after STATE and ACTIVATE_VERSION: a target has every
    record a STATE covers when it reads it), and when the process exits. Order is
    unchanged. A stdout without a binary buffer (``io.StringIO`` in tests) gets every
    line at once.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        atexit.register(self._flush_at_exit)
        _OUTPUTS.add(self)

    def _flush_at_exit(self) -> None:
        """Flush what is left at exit; a reader that went away is no reason for a traceback."""
        with contextlib.suppress(OSError, ValueError):
            self.flush()

    def write(self, line: bytes, *, flush: bool) -> None:
        """Append one line; write out when a flush point or a full chunk is reached."""
        out = sys.stdout
        if getattr(out, "buffer", None) is None:  # e.g. io.StringIO in tests
            out.write(line.decode())
            if flush:
                out.flush()
            return
        self._pending += line
        if flush or len(self._pending) >= OUTPUT_CHUNK:
            self.flush()

    def write_parts(self, parts: Iterable[bytes | memoryview]) -> None:
        """Write one line given in parts (a large STATE: no joined copy), then flush."""
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:  # e.g. io.StringIO in tests
            sys.stdout.write(b"".join(parts).decode())
            sys.stdout.flush()
            return
        with output_block():
            binary.flush()
            if self._pending:
                _write_out(binary, self._pending)
                self._pending.clear()
            for part in parts:
                _write_out(binary, part)

    def flush(self) -> None:
        """Write what is pending and flush stdout.

        SIGTERM/SIGINT wait while this runs: their handler writes a STATE line, which
        must come after every line already pending, and must not find lines that were
        written but not yet cleared (they would be written twice). A target that stops
        reading cannot hold a stop off for long (runtime/blocked_output.py).
        """
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:
            return
        with output_block():
            binary.flush()
            if self._pending:
                _write_out(binary, self._pending)
                self._pending.clear()


def _write_out(binary: Any, data: bytes | bytearray | memoryview) -> None:
    """Write to stdout's file descriptor (a held stop is checked while it blocks).

    A stdout without a file descriptor (a test's capture) takes a plain write.
    """
    try:
        fd = binary.fileno()
    except (OSError, ValueError):
        binary.write(data)
        binary.flush()
        return
    write_all(fd, data)


#: Every LineOutput of the process, for :func:`flush_pending_output`.
_OUTPUTS: weakref.WeakSet[LineOutput] = weakref.WeakSet()


def flush_pending_output() -> None:
    """Write every message line still pending, before a failure is reported.

    A reader that shows the last line the tap wrote (Meltano's ``config test``) then
    sees the error after the messages, not a message written at exit after it.
    """
    for output in list(_OUTPUTS):
        with contextlib.suppress(OSError, ValueError):
            output.flush()
