"""ACTIVATE_VERSION handling: one version per run, announced only after a stream completed.

The SDK writes ACTIVATE_VERSION at the *start* of every full-table sync (and once per
parent context for child streams). A target then flags every older row deleted before
the new rows arrive, so an interrupted run leaves a table looking emptied. Here each
full-table stream stamps its records with the run's version and announces that
version once, after its last record, and only when the stream read everything
(a plan-gated, skipped resource announces nothing and so deletes nothing).

A stream's read is complete when nothing was left out: no unavailable resource, no
skipped malformed item or schema config, no filter narrowing its rows
(``Filters.filters_connections``), and a complete parent. The SCHEMA of a stream is
always written before its ACTIVATE_VERSION, even when the stream had no record (a
child of an empty parent list).

The tracker also knows which streams completed their read in this run, activated or
not (:attr:`ActivationTracker.completed`): the run log (``tap_runs``) lists them.
"""

from __future__ import annotations

import logging
from typing import Protocol

FULL_TABLE = "FULL_TABLE"
_LOGGER = logging.getLogger("tap-fivetran-meta")


class VersionedStream(Protocol):
    """A stream that can stamp and announce a table version (see sdk_hooks.MessageHooks)."""

    name: str

    @property
    def replication_method(self) -> str:
        """``FULL_TABLE`` for the streams this applies to."""

    def stamp_version(self, version: int) -> None:
        """Stamp the stream's records with ``version`` unless it has one."""

    def announce_version(self, version: int) -> None:
        """Write ACTIVATE_VERSION for ``version``."""


class ActivationTracker:
    """Stamps full-table records with a run version and activates it at stream end."""

    def __init__(self, *, enabled: bool, version: int) -> None:
        self.enabled = enabled
        self.version = version
        self._announced: set[str] = set()
        self._withheld: set[str] = set()
        self._completed: set[str] = set()

    def _applies(self, stream: VersionedStream) -> bool:
        return self.enabled and stream.replication_method == FULL_TABLE

    def begin(self, stream: VersionedStream) -> None:
        """Stamp the stream's records with this run's version (idempotent)."""
        if self._applies(stream):
            stream.stamp_version(self.version)

    def finish(self, stream: VersionedStream, *, incomplete: str | None) -> None:
        """Announce the version once the stream has emitted a complete read.

        Args:
            stream: The stream that ended.
            incomplete: Why its read was not complete, or None when it was.
        """
        if not self._applies(stream) or stream.name in self._announced:
            return
        if incomplete is not None:
            if stream.name not in self._withheld:
                self._withheld.add(stream.name)
                _LOGGER.info(
                    "Stream '%s': no ACTIVATE_VERSION in this run (%s), so no row is "
                    "flagged deleted.",
                    stream.name,
                    incomplete,
                )
            return
        self._announced.add(stream.name)
        stream.announce_version(self.version)

    def note_complete(self, name: str, *, complete: bool) -> None:
        """Record that a stream ended this run having read everything (``complete``)."""
        if complete:
            self._completed.add(name)

    @property
    def completed(self) -> frozenset[str]:
        """Names of the streams that ended this run with a complete read."""
        return frozenset(self._completed)

    @property
    def announced(self) -> frozenset[str]:
        """Names of the streams whose version was activated in this run."""
        return frozenset(self._announced)
