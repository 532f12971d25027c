"""ACTIVATE_VERSION handling: one version per run, announced only after a stream completed.

The SDK writes ACTIVATE_VERSION at the *start* of every full-table sync (and once per
parent context for child streams). A target then flags every older row deleted before
the new rows arrive, so an interrupted run leaves a table looking emptied. Here each
full-table stream stamps its records with the run's version and announces that
version once, after its last record, and only when the stream read everything
(a plan-gated, skipped resource announces nothing and so deletes nothing).

The tracker also knows which streams completed their read in this run, activated or
not (:attr:`ActivationTracker.completed`): the run log (``tap_runs``) lists them.
"""

from __future__ import annotations

from typing import Protocol

FULL_TABLE = "FULL_TABLE"


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
        self._completed: set[str] = set()

    def _applies(self, stream: VersionedStream) -> bool:
        return self.enabled and stream.replication_method == FULL_TABLE

    def begin(self, stream: VersionedStream) -> None:
        """Stamp the stream's records with this run's version (idempotent)."""
        if self._applies(stream):
            stream.stamp_version(self.version)

    def finish(self, stream: VersionedStream, *, complete: bool) -> None:
        """Announce the version once the stream has emitted everything it read."""
        self.note_complete(stream.name, complete=complete)
        if not self._applies(stream) or not complete or stream.name in self._announced:
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
