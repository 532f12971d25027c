"""The :class:`Simulator`: a fake Fivetran REST API on 127.0.0.1."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from fivetran_sim.admin import AdminApi
from fivetran_sim.app import ApiApp
from fivetran_sim.config import SimConfig
from fivetran_sim.counters import RequestCounter
from fivetran_sim.expected import DEFAULT_HISTORY_SPAN, expected_counts
from fivetran_sim.faults import FaultRule, FaultSet
from fivetran_sim.history import Sync
from fivetran_sim.model import Dataset
from fivetran_sim.ratelimit import RateLimiter
from fivetran_sim.server import SimHTTPServer, serve_in_thread
from fivetran_sim.state import State
from fivetran_sim.timefmt import from_us, to_us


class Simulator:
    """A deterministic, fault-injectable Fivetran account served over HTTP.

    Example:
        >>> with Simulator(SimConfig(connections=20)) as sim:  # doctest: +SKIP
        ...     requests.get(f"{sim.url}/groups", auth=("key", "secret"))
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        """Generate the account (the server starts with :meth:`start`).

        Args:
            config: Configuration; defaults to :class:`SimConfig()`.
        """
        self.config = config or SimConfig()
        now = self.config.now or datetime.now(timezone.utc)
        self._state = State(self.config, to_us(now))
        self._faults = FaultSet(self.config.seed)
        self._counter = RequestCounter()
        self._limiter = RateLimiter(self.config.rate_limit_per_hour)
        self._stopping = threading.Event()
        self._app = ApiApp(
            config=self.config,
            state=self._state,
            faults=self._faults,
            counter=self._counter,
            limiter=self._limiter,
            sleep=self._stopping.wait,
            admin=AdminApi(self),
        )
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Simulator:
        """Bind and serve in a background thread.

        Returns:
            The simulator itself.

        Raises:
            RuntimeError: If already started.
        """
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._stopping.clear()
        self._server = SimHTTPServer((self.config.host, self.config.port), self._app)
        self._thread = serve_in_thread(self._server)
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping for latency/timeout faults
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a ``with`` block."""
        self.stop()

    @property
    def port(self) -> int:
        """Bound TCP port.

        Raises:
            RuntimeError: If the server is not running.
        """
        if self._server is None:
            raise RuntimeError("simulator not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def url(self) -> str:
        """API base URL to give the tap (``http://127.0.0.1:PORT/v1``)."""
        return f"{self.base_url}/v1"

    @property
    def admin_url(self) -> str:
        """Admin base URL (``http://127.0.0.1:PORT/__admin``)."""
        return f"{self.base_url}/__admin"

    # -------------------------------------------------------------------- counters
    def request_counts(self) -> dict[str, int]:
        """API requests served, keyed like ``"GET /v1/connections/{id}/schemas"``.

        Returns:
            Counts (admin calls excluded).
        """
        return self._counter.snapshot()

    def total_requests(self) -> int:
        """Total API requests served (admin calls excluded)."""
        return self._counter.total()

    def reset_counts(self) -> None:
        """Zero the request counters."""
        self._counter.reset()

    def reset_rate_limit(self) -> None:
        """Forget the requests counted towards the hourly quota."""
        self._limiter.reset()

    # ---------------------------------------------------------------------- faults
    def add_fault(self, rule: FaultRule) -> None:
        """Activate a fault rule.

        Args:
            rule: The rule.
        """
        self._faults.add(rule)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        """Active rules with ``fired``/``remaining`` counters.

        Returns:
            One dict per rule.
        """
        return self._faults.describe()

    # ------------------------------------------------------------------ data/clock
    @property
    def now(self) -> datetime:
        """Simulator clock (aware UTC datetime)."""
        with self._state.lock:
            return from_us(self._state.now_us)

    @property
    def dataset(self) -> Dataset:
        """The generated account (treat as read-only)."""
        return self._state.dataset

    def advance(self, minutes: float) -> None:
        """Move the clock forward; new syncs appear and connection timestamps follow.

        Args:
            minutes: Minutes to move forward (>= 0).
        """
        with self._state.lock:
            self._state.advance(minutes)

    def delete_connection(self, connection_id: str) -> None:
        """Remove a connection, its children and every membership pointing at it.

        Args:
            connection_id: Connection id.
        """
        with self._state.lock:
            self._state.delete_connection(connection_id)

    def vanish_after_list(self, connection_id: str) -> None:
        """Keep a connection listed but answer 404 ``NotFound_Connection`` elsewhere.

        Args:
            connection_id: Connection id.
        """
        with self._state.lock:
            self._state.vanish(connection_id)

    def mutate_connection(self, connection_id: str, **changes: Any) -> None:
        """Force connection fields; ``status`` keys may be passed at top level.

        Args:
            connection_id: Connection id.
            **changes: Fields to set, e.g. ``paused=True, setup_state="broken"``.
        """
        with self._state.lock:
            self._state.mutate_connection(connection_id, changes)

    def edit_table(self, connection_id: str, schema: str, table: str, **changes: Any) -> None:
        """Change a table's schema config as a user would: ``enabled``, ``sync_mode``.

        A table not in the config is added; ``remove=True`` drops it.

        Args:
            connection_id: Connection id.
            schema: Source schema name.
            table: Source table name.
            **changes: ``enabled`` (bool), ``sync_mode`` (str) or ``remove`` (bool).
        """
        with self._state.lock:
            self._state.edit_table(connection_id, schema, table, **changes)

    def sync_history(
        self, connection_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Sync-history items the API would return for a window (all pages).

        Args:
            connection_id: Connection id.
            start: Window start; default ``now - DEFAULT_HISTORY_SPAN`` (just under 7 days).
            end: Window end; default ``now``.

        Returns:
            Items, oldest first (started syncs only).
        """
        with self._state.lock:
            state = self._state
            conn = state.dataset.connections[connection_id]
            hi = state.now_us if end is None else to_us(end)
            lo = state.now_us - DEFAULT_HISTORY_SPAN if start is None else to_us(start)
            syncs: list[Sync] = state.syncs(conn, lo, hi)
            return [sync.to_json(extras=self.config.sync_item_extras) for sync in syncs]

    def expected_counts(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, int]:
        """Records a complete tap run should emit per stream.

        Args:
            start: Sync-history window start; default ``now - 7 days``.
            end: Sync-history window end; default ``now``.

        Returns:
            Stream name -> count.
        """
        with self._state.lock:
            return expected_counts(
                self._state,
                None if start is None else to_us(start),
                None if end is None else to_us(end),
            )
