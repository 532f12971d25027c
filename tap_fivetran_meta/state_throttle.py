"""Fewer STATE messages from child streams.

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

from typing import TYPE_CHECKING, Any

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


class ThrottledStateMixin:
    """Route a stream's STATE writes through the tap's :class:`StateThrottle`."""

    _tap: Any

    def _write_record_message(self, record: dict) -> None:
        self._tap.state_throttle.record_written()
        super()._write_record_message(record)  # type: ignore[misc]

    def _write_state_message(self) -> None:
        if self._tap.state_throttle.allow(self):
            super()._write_state_message()  # type: ignore[misc]
