"""Account, groups, destinations, connections and connector types."""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import typing as th

from tap_fivetran_meta.api.errors import FivetranAPIError
from tap_fivetran_meta.client import FivetranStream
from tap_fivetran_meta.rules import health, recheck, redact
from tap_fivetran_meta.rules.lineage import destination_database
from tap_fivetran_meta.runtime.prefetch import read_ahead
from tap_fivetran_meta.runtime.progress import RequestPlan, announce_plan
from tap_fivetran_meta.schemas.fragments import CODE_MESSAGE, DT, OPAQUE, SETUP_TEST, key, prop
from tap_fivetran_meta.streams.infrastructure import infrastructure_index

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

#: Sync markers kept for connections read ahead (far more than the read-ahead holds).
MARKERS_KEPT = 1024
#: The path of the schema-config streams' shared request (streams/schemas.py).
SCHEMA_PATH = "/connections/{connection_id}/schemas"

NETWORKING = (
    prop("networking_method", th.StringType, "Directly, SshTunnel, PrivateLink, ProxyAgent..."),
    prop("private_link_id", th.StringType, "Private link used, if any."),
    prop("proxy_agent_id", th.StringType, "Proxy agent used, if any."),
    prop("hybrid_deployment_agent_id", th.StringType, "Hybrid deployment agent, if any."),
    prop("local_processing_agent_id", th.StringType, "Deprecated alias of the hybrid agent id."),
)


class AccountStream(FivetranStream):
    """The account behind the API key (``GET /account/info``): one row.

    The answer is read once per run and shared: every stream's ``account_id`` is it.
    """

    name = "account"
    path = "/account/info"
    primary_keys = ("account_id",)
    paginated = False
    records_jsonpath = "$.data"
    schema = th.PropertiesList(
        key("account_id", "Fivetran account id."),
        prop("account_name", th.StringType, "Account name."),
        prop("user_id", th.StringType, "User owning the API key (scoped user keys)."),
        prop("system_key_id", th.StringType, "System key id (system keys)."),
        prop("key_type", th.StringType, "'user' or 'system': which kind of key the tap used."),
    ).to_dict()

    _info: dict[str, Any] | None = None

    def info(self) -> dict[str, Any]:
        """``GET /account/info``, requested the first time it is needed in the run.

        Raises:
            FivetranAPIError: If the answer names no account (no row could be stamped).
        """
        if self._info is None:
            info = next(iter(self.request_records(None)), None)
            if not isinstance(info, dict) or not info.get("account_id"):
                msg = (
                    "GET /account/info answered without an account_id; the tap stamps "
                    "every row with it. Check api_url and the API key."
                )
                raise FivetranAPIError(msg)
            self._info = info
        return self._info

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        yield dict(self.info())

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        row["key_type"] = "system" if row.get("system_key_id") else "user"
        return super().post_process(row, context)


class GroupsStream(FivetranStream):
    """Groups (one destination each; the group id is the destination id)."""

    name = "groups"
    path = "/groups"
    primary_keys = ("id",)
    timestamp_fields = ("created_at",)
    schema = th.PropertiesList(
        key("id", "Group id (equals the destination id)."),
        prop("name", th.StringType, "Group name."),
        prop("created_at", DT, "When the group was created (UTC)."),
    ).to_dict()

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        if not self.services.filters.accepts_group(row.get("id")):
            return None
        return super().post_process(row, context)


class DestinationsStream(FivetranStream):
    """Destinations: the list plus one detail call each, for ``config`` and setup tests."""

    name = "destinations"
    path = "/destinations"
    primary_keys = ("id",)
    schema = th.PropertiesList(
        key("id", "Destination id (equals the group id)."),
        prop("group_id", th.StringType, "Group of the destination."),
        prop("service", th.StringType, "Destination type, e.g. 'snowflake', 'big_query'."),
        prop("region", th.StringType, "Processing region, e.g. 'GCP_US_EAST4'."),
        prop("time_zone_offset", th.StringType, "Time zone offset in hours, e.g. '-5'."),
        prop("setup_status", th.StringType, "connected, incomplete or broken (lower case)."),
        prop("daylight_saving_time_enabled", th.BooleanType, "Whether DST is applied."),
        *NETWORKING,
        prop("external_secrets_manager_id", th.StringType, "External secrets manager, if any."),
        prop("setup_tests", th.ArrayType(SETUP_TEST), "Latest setup test results."),
        prop("config", OPAQUE, "Destination config without masked or secret-looking values."),
        prop("database", th.StringType, "Database / project / catalog from config, if any."),
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        def plan(item: dict[str, Any]) -> bool:
            self.services.prefetch_destination_detail(str(item["id"]), context)
            return True

        accepts = self.services.filters.accepts_group
        listed = (i for i in self.request_records(context) if accepts(i.get("id")))
        for item in read_ahead(listed, plan, self.services.prefetcher.lookahead):
            detail = self.services.destination_detail(str(item["id"]), context)
            row = self.checked_item({**item, **(detail or {})})  # the detail's fields too
            if row is not None:
                yield row

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        if isinstance(row.get("setup_status"), str):
            row["setup_status"] = row["setup_status"].lower()
        row["config"] = row.get("config")
        redact.scrub_record(row, config_fields=("config",), message_lists=("setup_tests",))
        row["database"] = destination_database(row["config"])
        return super().post_process(row, context)


#: Connection fields holding config-like objects, scrubbed of secrets (see redact.py).
CONNECTION_CONFIG_FIELDS = (
    "config",
    "source_sync_details",
    "destination_configuration",
    "connect_card_config",
    "external_secrets_keys_config",
)
#: Connection fields holding code/message/details lists, scrubbed too.
CONNECTION_MESSAGE_LISTS = ("setup_tests", "status.tasks", "status.warnings")

CONNECTION_STATUS = th.ObjectType(
    prop("setup_state", th.StringType, "incomplete, connected or broken."),
    prop("sync_state", th.StringType, "scheduled, syncing, paused or rescheduled."),
    prop("update_state", th.StringType, "on_schedule or delayed."),
    prop("is_historical_sync", th.BooleanType, "True while a historical (re)sync runs."),
    prop("schema_status", th.StringType, "Schema status, e.g. 'ready'."),
    prop("rescheduled_for", DT, "When a rescheduled sync resumes (UTC)."),
    prop("tasks", th.ArrayType(CODE_MESSAGE), "Blocking problems to act on."),
    prop("warnings", th.ArrayType(CODE_MESSAGE), "Non-blocking warnings."),
)


@dataclass(frozen=True)
class Listing:
    """What this run's ``/v1/connections`` listing read, once it reached its last page."""

    #: Ids of every connection listed (filtered-out ones too).
    ids: frozenset[str]
    #: Every page was read and no item was skipped as malformed or unavailable.
    read_everything: bool
    #: A group_ids / connection_ids / services filter narrowed the run
    #: (``Filters.filters_connections``).
    filtered: bool

    @property
    def complete_and_unfiltered(self) -> bool:
        """Every connection that exists was listed: an absent one is deleted."""
        return self.read_everything and not self.filtered


class ConnectionsStream(FivetranStream):
    """All accessible connections from one paginated list, with derived health columns."""

    name = "connections"
    path = "/connections"
    primary_keys = ("id",)
    timestamp_fields = (
        "created_at",
        "succeeded_at",
        "failed_at",
        "status.rescheduled_for",
    )
    permission_hint = "CONNECTOR at READ"
    schema = th.PropertiesList(
        key("id", "Connection id."),
        prop("group_id", th.StringType, "Group (and destination) of the connection."),
        prop("service", th.StringType, "Connector type, e.g. 'postgres', 'salesforce'."),
        prop("service_version", th.IntegerType, "Version of the connector type."),
        prop("schema", th.StringType, "Destination schema name (the connection's name)."),
        prop("paused", th.BooleanType, "Whether the connection is paused."),
        prop("pause_after_trial", th.BooleanType, "Pause when the trial ends."),
        prop("connected_by", th.StringType, "User who created the connection."),
        prop("created_at", DT, "When the connection was created (UTC)."),
        prop("succeeded_at", DT, "Last successful sync (UTC); null if never."),
        prop("failed_at", DT, "Last failed sync (UTC); null if never."),
        prop("sync_frequency", th.IntegerType, "Minutes between syncs."),
        prop("schedule_type", th.StringType, "'auto' or 'manual'."),
        prop("daily_sync_time", th.StringType, "HH:MM for daily syncs."),
        prop("schedule", OPAQUE, "Flexible schedule object, when present."),
        prop("data_delay_sensitivity", th.StringType, "LOW, NORMAL, HIGH, CUSTOM..."),
        prop("data_delay_threshold", th.IntegerType, "Delay threshold in minutes (CUSTOM)."),
        prop("status", CONNECTION_STATUS, "Status object as returned by Fivetran."),
        prop("setup_state", th.StringType, "status.setup_state, lower case."),
        prop("sync_state", th.StringType, "status.sync_state, lower case."),
        prop("update_state", th.StringType, "status.update_state, lower case."),
        prop("is_historical_sync", th.BooleanType, "status.is_historical_sync."),
        prop("rescheduled_for", DT, "status.rescheduled_for (UTC)."),
        prop("setup_tests", th.ArrayType(SETUP_TEST), "Latest setup test results."),
        prop("source_sync_details", OPAQUE, "Connector-specific sync details."),
        *NETWORKING,
        prop("destination_schema_names", th.StringType, "FIVETRAN_NAMING or SOURCE_NAMING."),
        prop("destination_configuration", OPAQUE, "Destination-side options."),
        prop("external_secrets_manager_id", th.StringType, "External secrets manager, if any."),
        prop(
            "external_secrets_keys_config",
            OPAQUE,
            "Which config keys come from the external secrets manager (no secret values).",
        ),
        prop("connect_card_config", OPAQUE, "Connect Card options (no token)."),
        prop("config", OPAQUE, "Connection config, if listed, without secrets."),
        prop("last_sync_completed_at", DT, "Later of succeeded_at and failed_at."),
        prop("last_sync_succeeded", th.BooleanType, "Whether the last completed sync succeeded."),
        prop(
            "minutes_since_last_success",
            th.IntegerType,
            "Minutes from succeeded_at to run start.",
        ),
        prop("is_fresh", th.BooleanType, "Last success within sync_frequency + slack."),
        prop("health", th.StringType, "One of the health values (see README)."),
        prop(
            "blocked_by",
            th.StringType,
            "The agent, proxy or private link that is down, as kind:id (health 'blocked').",
        ),
        prop("task_count", th.IntegerType, "Number of status.tasks."),
        prop("warning_count", th.IntegerType, "Number of status.warnings."),
        prop("observed_at", DT, "When the tap computed the derived columns (run start, UTC)."),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._markers: OrderedDict[str, dict[str, Any]] = OrderedDict()
        #: Set once the listing reached its end in this run (None: it did not).
        self.listing: Listing | None = None

    _infrastructure: health.Infrastructure | None = None

    def infrastructure(self) -> health.Infrastructure:
        """The agents, proxy agents and private links, read before the first connection."""
        if self._infrastructure is None:
            self._infrastructure = infrastructure_index(self.services.streams)
        return self._infrastructure

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        self.services.progress.start(self._plan_phase(context))
        self._prefetch_later_lists()
        yield from super().get_records(context)
        self.services.connection_index.mark_complete()
        self.listing = Listing(
            ids=self.services.connection_index.listed_ids(),
            read_everything=not self._resource_unavailable and not self._malformed_skipped,
            filtered=self.services.filters.filters_connections,
        )
        for child in self.child_streams:
            after_listing = getattr(child, "after_listing", None)
            if after_listing is not None:
                after_listing(self.listing)

    def _prefetch_later_lists(self) -> None:
        """Start reading the account-level lists synced after this stream, concurrently.

        Streams sync one after the other in name order, so each of those lists would
        otherwise cost its round trips on the main thread after the connections.
        """
        for stream in self.services.streams.values():
            if (
                isinstance(stream, FivetranStream)
                and stream.name > self.name
                and stream.can_prefetch_list()
            ):
                stream.prefetch_list()

    def _plan_phase(self, context: Context | None) -> RequestPlan | None:
        """Count what the per-connection phase will ask for, and say it (progress.py).

        Lists the connections once more (one request per page) and applies the
        children's own rules to each; None when no selected child makes requests.
        """
        history = next((c for c in self.child_streams if c.name == "sync_history"), None)
        reads_history = history is not None and history.selected
        reads_schema = any(
            c.selected and getattr(c, "path", None) == SCHEMA_PATH for c in self.child_streams
        )
        if not (reads_history or reads_schema):
            return None
        budget = self.services.rate_budget
        before = budget.requests
        plan = RequestPlan()
        for raw in self.request_records(context):
            if not self.accepts_parent(raw):
                continue
            plan.connections += 1
            child = self.get_child_context(raw, context)
            if reads_history:
                windows = history.planned_requests(child)  # type: ignore[union-attr]
                plan.history_connections += bool(windows)
                plan.history_requests += windows
            if reads_schema and self.services.schema_refresh.due(str(raw["id"])):
                plan.schema_requests += 1
        plan.list_requests = budget.requests - before
        announce_plan(plan, budget)
        return plan

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        self.services.connection_index.add(row)
        if not self.services.filters.accepts_connection_record(row):
            return None
        self.services.progress.connection_done()
        row = super().post_process(row, context) or row
        status = row.get("status") or {}
        for name in ("setup_state", "sync_state", "update_state"):
            value = status.get(name)
            row[name] = value.lower() if isinstance(value, str) else None
        row["is_historical_sync"] = status.get("is_historical_sync")
        row["rescheduled_for"] = status.get("rescheduled_for")
        row.pop("connect_card", None)  # holds a token
        redact.scrub_record(
            row, config_fields=CONNECTION_CONFIG_FIELDS, message_lists=CONNECTION_MESSAGE_LISTS
        )
        row.update(
            health.derived_columns(
                row,
                now=self.services.run_started_at,
                slack_minutes=int(self.config.get("freshness_slack_minutes", 60)),
                infra=self.infrastructure(),
            )
        )
        # Children (sync history, status history, schema config) sync right after this
        # record and may read it from here instead of asking the API again.
        self.services.current_connection = row
        return row

    @override
    def accepts_parent(self, record: dict[str, Any]) -> bool:
        return self.services.filters.accepts_connection_record(record)

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict:
        return {
            "connection_id": record["id"],
            "group_id": record.get("group_id"),
            "service": record.get("service"),
            "connection_schema": record.get("schema"),
            # What sync_history's re-check rule compares (same for raw and processed
            # records: the read-ahead plans from the raw list item).
            **self._sync_marker(record),
        }

    def _sync_marker(self, record: dict[str, Any]) -> dict[str, Any]:
        """``sync_marker`` and ``syncing`` of a connection, computed once per run and id."""
        connection_id = str(record["id"])
        found = self._markers.get(connection_id)
        if found is None:
            found = {
                "sync_marker": recheck.sync_marker(record),
                "syncing": recheck.is_syncing(record),
            }
            self._markers[connection_id] = found
            if len(self._markers) > MARKERS_KEPT:  # only the read-ahead's are needed
                self._markers.popitem(last=False)
        return found


class ConnectorTypesStream(FivetranStream):
    """The catalogue of connector types (``GET /metadata/connector-types``).

    Every account lists the same ids (the catalogue is Fivetran's, not the account's),
    so the key is ``(account_id, id)``: several accounts can share one table, each with
    the catalogue its API key sees.
    """

    name = "connector_types"
    path = "/metadata/connector-types"
    primary_keys = ("account_id", "id")
    timestamp_fields: ClassVar[tuple[str, ...]] = ()
    schema = th.PropertiesList(
        key("id", "Connector type id (the 'service' of connections)."),
        prop("name", th.StringType, "Display name."),
        prop("type", th.StringType, "Category, e.g. Database, Marketing."),
        prop("description", th.StringType, "Description."),
        prop("icon_url", th.StringType, "Icon URL."),
        prop("icons", th.ArrayType(th.StringType), "Icon URLs."),
        prop("link_to_docs", th.StringType, "Documentation URL."),
        prop("link_to_erd", th.StringType, "Schema diagram URL."),
        prop("connector_class", th.StringType, "standard or lite."),
        prop(
            "supported_features",
            th.ArrayType(
                th.ObjectType(
                    prop("id", th.StringType, "Feature id, e.g. CAPTURE_DELETES."),
                    prop("notes", th.StringType, "Notes on the feature."),
                )
            ),
            "Features the connector supports.",
        ),
        prop("service_status", th.StringType, "general_availability, beta, sunset..."),
        prop("service_status_updated_at", th.DateType, "Date the status last changed."),
    ).to_dict()

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        updated = row.get("service_status_updated_at")
        if isinstance(updated, str):
            row["service_status_updated_at"] = updated[:10]
        return super().post_process(row, context)
