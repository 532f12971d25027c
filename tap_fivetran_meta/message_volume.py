"""Fewer STATE and SCHEMA messages from child streams, and fewer flushes of stdout.

Flushes: the SDK flushes stdout after every message, one system call per record. Here
stdout is flushed after each STATE message (and ACTIVATE_VERSION), so a target always
has every record a STATE covers when it reads that STATE, and the records in between
travel in full buffers. Order is unchanged; what a killed tap leaves unflushed was not
covered by any STATE it sent.

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

import hashlib
import sys
from typing import TYPE_CHECKING, Any

from singer_sdk.helpers._state import StateWriter
from singer_sdk.io_base import SingerMessageType, SingerWriter
from singer_sdk.singerlib import StateMessage
from singer_sdk.singerlib.json import serialize_json

if TYPE_CHECKING:
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


class MessageVolumeMixin:
    """One SCHEMA per stream and run; STATE writes through the tap's :class:`StateThrottle`."""

    _tap: Any
    _schema_written = False

    def _write_schema_message(self) -> None:
        if not self._schema_written:
            self._schema_written = True
            super()._write_schema_message()  # type: ignore[misc]

    def _write_record_message(self, record: dict) -> None:
        self._tap.state_throttle.record_written()
        super()._write_record_message(record)  # type: ignore[misc]

    def _write_state_message(self) -> None:
        if self._tap.state_throttle.allow(self):
            super()._write_state_message()  # type: ignore[misc]


FLUSH_AFTER = frozenset({SingerMessageType.STATE, SingerMessageType.ACTIVATE_VERSION})


class StateFlushingWriter(SingerWriter):
    """Writes messages in order; flushes stdout only after STATE and ACTIVATE_VERSION.

    STATE messages are serialised straight from their value: the SDK's generic path
    first deep-copies the whole state (one bookmark per connection) into a new dict.
    """

    def serialize_message(self, message: Any) -> str:
        """One JSON line; STATE without the intermediate deep copy."""
        if message.type == SingerMessageType.STATE:
            return serialize_json({"type": SingerMessageType.STATE, "value": message.value})
        return str(super().serialize_message(message))

    def write_message(self, message: Any) -> None:
        """Write one message line."""
        sys.stdout.write(self.format_message(message) + "\n")
        if message.type in FLUSH_AFTER:
            sys.stdout.flush()


class CompactStateWriter(StateWriter):
    """Skips unchanged STATE like the SDK's, remembering a digest instead of a deep copy.

    The SDK keeps a full deep copy of the last STATE it wrote to compare with the next one;
    with one bookmark per connection that copy doubles the state's memory for the whole run.
    """

    def __init__(self, message_writer: Any) -> None:
        super().__init__(message_writer)
        self._last_digest: bytes | None = None

    def write_state(self, state: Any) -> None:
        """Write a STATE message unless it equals the last one written."""
        digest = hashlib.sha256(serialize_json(state).encode()).digest()
        if digest != self._last_digest:
            self._message_writer.write_message(StateMessage(value=state))
            self._last_digest = digest
