"""A run-wide index of connection id -> (group id, service).

Streams that only see a connection id (memberships, webhook rows) need the group and
service to apply the filters. The ``connections`` stream fills the index as it reads
the list; when that stream is not part of the run, the list is read once on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from tap_fivetran_meta.rules.filters import Filters


class ConnectionIndex:
    """Connection id -> (group id, service), filled once per run."""

    def __init__(self, load: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._load = load
        self._entries: dict[str, tuple[str | None, str | None]] = {}
        self._complete = False

    def add(self, record: Mapping[str, Any]) -> None:
        """Record one raw connection list item."""
        connection_id = record.get("id")
        if isinstance(connection_id, str):
            self._entries[connection_id] = (record.get("group_id"), record.get("service"))

    def listed_ids(self) -> frozenset[str]:
        """The ids of every connection added so far."""
        return frozenset(self._entries)

    def mark_complete(self) -> None:
        """Declare that every connection of the account has been added."""
        self._complete = True

    def _ensure_loaded(self) -> None:
        if self._complete:
            return
        for record in self._load():
            self.add(record)
        self._complete = True

    def lookup(self, connection_id: str | None) -> tuple[str | None, str | None] | None:
        """Group id and service of a connection, or None when unknown."""
        if connection_id is None:
            return None
        if connection_id not in self._entries:
            self._ensure_loaded()
        return self._entries.get(connection_id)

    def accepts(self, connection_id: str | None, filters: Filters) -> bool:
        """Whether the filters accept this connection (unknown connections are refused)."""
        found = self.lookup(connection_id)
        if found is None:
            return False
        group_id, service = found
        return filters.accepts_connection(connection_id, group_id, service)
