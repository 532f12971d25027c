"""The ``group_ids`` / ``connection_ids`` / ``services`` filters, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class Filters:
    """Which groups and connections a run covers; an empty set means "all"."""

    group_ids: frozenset[str] = frozenset()
    connection_ids: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Filters:
        """Build the filters from the tap config."""
        return cls(
            group_ids=frozenset(config.get("group_ids") or ()),
            connection_ids=frozenset(config.get("connection_ids") or ()),
            services=frozenset(s.lower() for s in config.get("services") or ()),
        )

    @property
    def filters_connections(self) -> bool:
        """Whether any filter restricts the set of connections."""
        return bool(self.group_ids or self.connection_ids or self.services)

    def accepts_group(self, group_id: str | None) -> bool:
        """Whether a group (or its destination: same id) is in scope."""
        return not self.group_ids or group_id in self.group_ids

    def accepts_connection(
        self, connection_id: str | None, group_id: str | None, service: str | None
    ) -> bool:
        """Whether a connection is in scope (all three filters must agree)."""
        if self.connection_ids and connection_id not in self.connection_ids:
            return False
        if self.services and (service or "").lower() not in self.services:
            return False
        return self.accepts_group(group_id)

    def accepts_connection_record(self, record: Mapping[str, Any]) -> bool:
        """Whether a raw connection list item is in scope."""
        return self.accepts_connection(
            record.get("id"), record.get("group_id"), record.get("service")
        )
