"""The run log: ``tap_runs``, one row per run that reached its end (synced last)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import Stream
from singer_sdk import typing as th

from tap_fivetran_meta.rules.run_log import RunFacts, run_row
from tap_fivetran_meta.rules.timeutil import format_timestamp
from tap_fivetran_meta.runtime.account_scope import AccountScoped
from tap_fivetran_meta.runtime.sdk_hooks import MessageHooks
from tap_fivetran_meta.schemas.fragments import DT, key, prop
from tap_fivetran_meta.streams.core import ConnectionsStream

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


class TapRunsStream(AccountScoped, MessageHooks, Stream):
    """One row per run that reached its end: when it observed, and how completely.

    Synced after every other stream, so ``streams_completed`` is known. An interrupted
    or failed run writes no row. No API request, no state.
    """

    name = "tap_runs"
    primary_keys = ("run_id",)
    trusted_rows = True  # rows built by run_log.run_row, typed per column
    #: The Tap syncs it after every other stream (TapFivetranMeta.load_streams).
    synced_last: ClassVar[bool] = True
    schema = th.PropertiesList(
        key("run_id", "Key of the run (16 hex characters: the account and started_at)."),
        th.Property(
            "started_at",
            DT,
            required=True,
            description="The run's start (UTC): observed_at of this run's connections and "
            "connection_status_history rows.",
        ),
        prop("ended_at", DT, "When the run wrote this row, after every other stream (UTC)."),
        prop("tap_version", th.StringType, "Version of tap-fivetran-meta."),
        prop(
            "connections_listing_complete",
            th.BooleanType,
            "The connections listing was read to its last page with nothing skipped, and "
            "the run was unfiltered: every existing connection was observed at started_at, "
            "and an absent one is deleted.",
        ),
        prop(
            "is_filtered",
            th.BooleanType,
            "A group_ids, connection_ids or services filter narrowed the run.",
        ),
        prop("group_ids", th.StringType, "The group_ids filter, sorted and comma-joined."),
        prop("connection_ids", th.StringType, "The connection_ids filter, comma-joined."),
        prop("services", th.StringType, "The services filter, comma-joined."),
        prop(
            "connections_listed",
            th.IntegerType,
            "Connections the listing returned, filtered-out ones included (null: the "
            "connections stream did not run).",
        ),
        prop(
            "streams_completed",
            th.StringType,
            "Streams that read everything in this run, sorted and comma-joined.",
        ),
    ).to_dict()

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        return False  # the log of earlier runs is never deleted

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        services = self.services
        connections = services.streams.get("connections")
        listing = connections.listing if isinstance(connections, ConnectionsStream) else None
        yield run_row(
            RunFacts(
                account_id=services.account_id,
                started_at=format_timestamp(services.run_started_at),
                ended_at=format_timestamp(services.clock()),
                tap_version=services.tap_version,
                filters=services.filters,
                connections_listed=None if listing is None else len(listing.ids),
                listing_complete=listing is not None and listing.complete_and_unfiltered,
                streams_completed=services.activation.completed,
            )
        )
