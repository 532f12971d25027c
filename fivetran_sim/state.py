"""Mutable simulator state: the dataset, the clock, indexes and derived views."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from fivetran_sim.config import SimConfig
from fivetran_sim.data import build_dataset
from fivetran_sim.history import Sync, last_outcomes, syncs_between
from fivetran_sim.model import Connection, Dataset, JsonDict
from fivetran_sim.scenarios import rescheduled_for_offset
from fivetran_sim.schemas import ConfigShape, build_shape, edit_table
from fivetran_sim.timefmt import MICRO, MINUTE, fmt, to_us

STATUS_KEYS = frozenset(
    {
        "setup_state",
        "sync_state",
        "update_state",
        "is_historical_sync",
        "schema_status",
        "rescheduled_for",
        "tasks",
        "warnings",
    }
)


#: Every field of a ``GET /connections`` item in Fivetran's definition: the simulator
#: serves each one (null where a connection has no value), and no other.
CONNECTION_LIST_FIELDS = (
    "id",
    "group_id",
    "service",
    "service_version",
    "schema",
    "paused",
    "pause_after_trial",
    "connected_by",
    "created_at",
    "succeeded_at",
    "failed_at",
    "sync_frequency",
    "data_delay_threshold",
    "data_delay_sensitivity",
    "daily_sync_time",
    "schedule_type",
    "status",
    "config",
    "setup_tests",
    "private_link_id",
    "networking_method",
    "proxy_agent_id",
    "hybrid_deployment_agent_id",
    "source_sync_details",
    "connect_card",
    "connect_card_config",
    "destination_configuration",
    "destination_schema_names",
    "external_secrets_manager_id",
    "external_secrets_keys_config",
)


def _wire(value: Any) -> Any:
    """Convert Python values given to mutations into JSON values."""
    if isinstance(value, datetime):
        return fmt(to_us(value), MICRO)
    return value


class State:
    """Account data plus clock; every public method expects :attr:`lock` to be held."""

    def __init__(self, config: SimConfig, now_us: int) -> None:
        """Generate the account.

        Args:
            config: Simulator configuration.
            now_us: Initial clock (epoch microseconds).
        """
        self.config = config
        self.lock = threading.RLock()
        self.now_us = now_us
        self.dataset: Dataset = build_dataset(config, now_us)
        self._shapes: dict[str, ConfigShape] = {}
        self._rendered: dict[str, tuple[tuple[int, int], JsonDict]] = {}
        self.connection_ids: list[str] = []
        self.group_connections: dict[str, list[str]] = {}
        self.reindex()

    # ----------------------------------------------------------------- indexes
    def reindex(self) -> None:
        """Rebuild the sorted connection indexes (after deletions or moves)."""
        self.connection_ids = sorted(self.dataset.connections)
        by_group: dict[str, list[str]] = {gid: [] for gid in self.dataset.groups}
        for conn_id in self.connection_ids:
            by_group.setdefault(self.dataset.connections[conn_id].group_id, []).append(conn_id)
        self.group_connections = by_group

    # ----------------------------------------------------------------- lookups
    def connection(self, conn_id: str, *, include_vanished: bool = False) -> Connection | None:
        """A live connection, or ``None`` if deleted (or vanished, unless asked).

        Args:
            conn_id: Connection id.
            include_vanished: Also return connections marked as vanished.

        Returns:
            The connection or ``None``.
        """
        conn = self.dataset.connections.get(conn_id)
        if conn is None or (conn.vanished and not include_vanished):
            return None
        return conn

    def shape(self, conn: Connection) -> ConfigShape:
        """Schema-config shape of a connection (cached).

        Args:
            conn: The connection.

        Returns:
            The shape.
        """
        cached = self._shapes.get(conn.id)
        if cached is None:
            cached = build_shape(conn)
            self._shapes[conn.id] = cached
        return cached

    # --------------------------------------------------------------- rendering
    def render_connection(self, conn: Connection) -> JsonDict:
        """The connection list item as of the current clock (cached per clock/version).

        Args:
            conn: The connection.

        Returns:
            The JSON item (do not modify).
        """
        cache_key = (conn.version, self.now_us)
        cached = self._rendered.get(conn.id)
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        item: JsonDict = dict.fromkeys(CONNECTION_LIST_FIELDS)
        item.update(conn.item)
        item["config"] = conn.config
        succeeded, failed = last_outcomes(conn.plan, self.now_us)
        item["succeeded_at"] = None if succeeded is None else fmt(succeeded, conn.precision)
        item["failed_at"] = None if failed is None else fmt(failed, conn.precision)
        status = dict(item["status"])
        if status["sync_state"] == "rescheduled":
            moment = conn.fixed_rescheduled_for or self.now_us + rescheduled_for_offset(
                conn.plan.key
            )
            status["rescheduled_for"] = fmt(moment, MICRO)
        item.update(conn.overrides)
        status.update(conn.status_overrides)
        item["status"] = status
        self._rendered[conn.id] = (cache_key, item)
        return item

    def syncs(self, conn: Connection, start_us: int, end_us: int) -> list[Sync]:
        """Visible syncs of a connection starting in ``[start_us, end_us]``.

        Args:
            conn: The connection.
            start_us: Window start.
            end_us: Window end.

        Returns:
            Syncs, oldest first.
        """
        return syncs_between(conn.plan, start_us, end_us, self.now_us)

    # --------------------------------------------------------------- mutations
    def advance(self, minutes: float) -> None:
        """Move the clock forward.

        Args:
            minutes: How far; must not be negative.

        Raises:
            ValueError: For a negative value.
        """
        if minutes < 0:
            raise ValueError("the simulator clock only moves forward")
        self.now_us += int(minutes * MINUTE)

    def delete_connection(self, conn_id: str) -> None:
        """Remove a connection and every reference to it.

        Args:
            conn_id: Connection id.

        Raises:
            KeyError: If it does not exist.
        """
        ds = self.dataset
        if conn_id not in ds.connections:
            raise KeyError(conn_id)
        del ds.connections[conn_id]
        self._shapes.pop(conn_id, None)
        self._rendered.pop(conn_id, None)
        for table in (ds.user_connections, ds.team_connections):
            for owner, memberships in table.items():
                table[owner] = [item for item in memberships if item["id"] != conn_id]
        for transformation in ds.transformations.values():
            for holder in (transformation["schedule"], transformation["transformation_config"]):
                ids = holder.get("connection_ids")
                if ids and conn_id in ids:
                    holder["connection_ids"] = [cid for cid in ids if cid != conn_id]
        self.reindex()

    def vanish(self, conn_id: str) -> None:
        """Keep a connection in lists but make its detail/child endpoints answer 404.

        Args:
            conn_id: Connection id.

        Raises:
            KeyError: If it does not exist.
        """
        self.dataset.connections[conn_id].vanished = True

    def mutate_connection(self, conn_id: str, changes: dict[str, Any]) -> None:
        """Force fields of a connection; ``status`` keys may be given at top level.

        Args:
            conn_id: Connection id.
            changes: Field -> value (datetimes are formatted for you).

        Raises:
            KeyError: If the connection does not exist.
            ValueError: For an attempt to change the id or a non-object ``status``.
        """
        conn = self.dataset.connections[conn_id]
        for key, value in changes.items():
            if key == "id":
                raise ValueError("the connection id cannot be changed")
            if key == "status":
                if not isinstance(value, dict):
                    raise ValueError("status must be an object")
                conn.status_overrides.update({k: _wire(v) for k, v in value.items()})
            elif key in STATUS_KEYS:
                conn.status_overrides[key] = _wire(value)
            elif key == "paused":
                self._set_paused(conn, bool(value), "sync_state" in changes)
            else:
                conn.overrides[key] = _wire(value)
        conn.version += 1
        if "group_id" in changes:
            self.reindex()

    def edit_table(self, conn_id: str, schema: str, table: str, **changes: Any) -> None:
        """Change, add or remove one table of a connection's schema config.

        Args:
            conn_id: Connection id.
            schema: Source schema name.
            table: Source table name.
            **changes: ``enabled``, ``sync_mode`` or ``remove`` (see
                :func:`fivetran_sim.schemas.edit_table`).

        Raises:
            KeyError: If the connection, its schema config or the schema does not exist.
        """
        conn = self.dataset.connections[conn_id]
        if not conn.has_schema_config:
            raise KeyError(f"{conn_id} has no schema config")
        self._shapes[conn_id] = edit_table(self.shape(conn), schema, table, **changes)

    def _set_paused(self, conn: Connection, paused: bool, explicit_state: bool) -> None:
        pauses = conn.plan.pauses
        is_paused = any(end is None for _, end in pauses)
        if paused and not is_paused:
            pauses.append([self.now_us, None])
        elif not paused:
            for interval in pauses:
                if interval[1] is None:
                    interval[1] = self.now_us
        conn.overrides["paused"] = paused
        if explicit_state:
            return
        if paused:
            conn.status_overrides["sync_state"] = "paused"
        elif conn.item["status"]["sync_state"] == "paused":
            conn.status_overrides["sync_state"] = "scheduled"
        elif conn.status_overrides.get("sync_state") == "paused":
            del conn.status_overrides["sync_state"]
