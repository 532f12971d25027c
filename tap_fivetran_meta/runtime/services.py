"""What a stream may ask of the tap that runs it: the run-wide objects, as a protocol.

Streams reach the tap through ``self._tap`` (set by singer-sdk). They are typed against
:class:`TapServices` rather than the Tap class, so the stream layer never imports the
top of the package (``tap.py`` imports the streams; nothing imports ``tap.py``).
``tests/test_layers.py`` checks that the Tap provides every member.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    import requests

    from tap_fivetran_meta.api.ratelimit import RateBudget
    from tap_fivetran_meta.rules.filters import Filters
    from tap_fivetran_meta.rules.recheck import SchemaRefresh
    from tap_fivetran_meta.runtime.activation import ActivationTracker
    from tap_fivetran_meta.runtime.connection_index import ConnectionIndex
    from tap_fivetran_meta.runtime.message_volume import StateThrottle
    from tap_fivetran_meta.runtime.prefetch import Prefetcher
    from tap_fivetran_meta.runtime.progress import RunProgress
    from tap_fivetran_meta.runtime.shutdown import StopSignal


class TapServices(Protocol):
    """The run-wide objects and lookups streams share (provided by ``TapFivetranMeta``)."""

    #: The connection record being synced; its child streams sync right after it.
    current_connection: dict[str, Any] | None
    #: The schema config of that connection, shared by the schema streams.
    last_schema_config: Any

    @property
    def streams(self) -> Mapping[str, Any]:
        """Every stream of the tap, by name."""

    @property
    def run_started_at(self) -> datetime:
        """The instant derived, time-dependent columns are computed against."""

    @property
    def tap_version(self) -> str:
        """The version of this tap."""

    def clock(self) -> datetime:
        """The current instant (UTC), e.g. for when the run ended."""

    @property
    def user_agent(self) -> str:
        """The User-Agent sent with every request."""

    @property
    def http_session(self) -> requests.Session:
        """The one keep-alive session of the run."""

    @property
    def stop(self) -> StopSignal:
        """Set by SIGTERM/SIGINT."""

    @property
    def rate_budget(self) -> RateBudget:
        """The client-side request budget."""

    @property
    def progress(self) -> RunProgress:
        """Progress lines and the request plan."""

    @property
    def prefetcher(self) -> Prefetcher:
        """Concurrent fetching of per-parent requests."""

    @property
    def state_throttle(self) -> StateThrottle:
        """Limits STATE messages at child contexts' ends."""

    @property
    def activation(self) -> ActivationTracker:
        """ACTIVATE_VERSION bookkeeping."""

    @property
    def schema_refresh(self) -> SchemaRefresh:
        """Which connections' schema configs this run reads."""

    @property
    def filters(self) -> Filters:
        """The configured group/connection/service filters."""

    @property
    def connection_index(self) -> ConnectionIndex:
        """Connection id -> group and service."""

    @property
    def account_id(self) -> str:
        """The account every row belongs to."""

    def write_message(self, message: Any) -> None:
        """Write one Singer message."""

    def stop_workers(self) -> None:
        """Stop every worker thread's waits and requests (the run failed)."""

    def deferred_termination(self) -> AbstractContextManager[None]:
        """Hold a signal's stop until the block is done."""

    def prefetch_destination_detail(self, group_id: str, context: Any = None) -> None:
        """Start fetching a destination's details in the background."""

    def destination_prefetch_jobs(
        self, group_id: str, context: Any = None
    ) -> list[tuple[tuple[str, str], Callable[[], Any]]]:
        """The prefetch job for a destination's details, unless already fetched."""

    def destination_detail(self, group_id: str, context: Any = None) -> dict[str, Any] | None:
        """A destination's details, fetched at most once per run."""

    def destination_database(self, group_id: str | None, context: Any = None) -> str | None:
        """The database a destination writes into, if known."""
