"""Hybrid deployment agents, proxy agents, private links, system keys and external logging.

Short account-level lists (plan-gated on many accounts: a 403/404 gives an empty stream
and one warning). Each list is read at most once per run: the ``connections`` stream
reads the agent, proxy and private-link lists before its first record to tell which
connections are blocked (see :func:`infrastructure_index`), and these streams emit what
was read then. Credentials are never emitted: fields that hold them are dropped.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from singer_sdk import typing as th

from tap_fivetran_meta.client import FivetranStream
from tap_fivetran_meta.rules import health, redact
from tap_fivetran_meta.schemas.fragments import CODE_MESSAGE, DT, OPAQUE, SETUP_TEST, key, prop

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context


#: Fivetran's ``version`` field of agents is emitted as ``agent_version``: target-postgres
#: (0.8.1) cannot apply ACTIVATE_VERSION to a table with a column named ``version`` (its
#: soft-delete statement binds a parameter of that name).
RENAMED_FIELDS = {"version": "agent_version"}


class _AccountListStream(FivetranStream):
    """One short account-level list, read once per run, full table, keyed by ``id``.

    A 404 on a request for one listed object (``/proxy/{id}/connections``,
    ``/external-logging/{id}``: deleted since the list was read) leaves that object's
    extra columns empty and is counted in the end-of-run summary.
    """

    primary_keys = ("id",)
    optional_resource = True
    #: Fields that may hold credentials in some responses: dropped from every record.
    credential_fields: ClassVar[tuple[str, ...]] = ()

    _listed: list[dict[str, Any]] | None = None

    def listed(self) -> list[dict[str, Any]]:
        """Every item of the list (requested the first time it is needed in the run)."""
        if self._listed is None:
            self._listed = [item for params in self.list_queries() for item in self._list(params)]
        return self._listed

    @override
    def can_prefetch_list(self) -> bool:
        # Read before the first connection already (infrastructure_index), then reused.
        return False

    def list_queries(self) -> list[dict[str, Any]]:
        """Query parameters of each request that makes up the list (one, unfiltered)."""
        return [{}]

    def _list(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.fetch_list(self.path or "", None, params)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        for item in self.listed():
            yield self.add_details(dict(item), context)

    def add_details(self, item: dict[str, Any], context: Context | None) -> dict[str, Any]:
        """The item plus what per-object requests add to it (nothing by default)."""
        return item

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        for name in self.credential_fields:
            row.pop(name, None)
        for name, column in RENAMED_FIELDS.items():
            if name in row:
                row[column] = row.pop(name)
        return super().post_process(row, context)


def _object_path(prefix: str, object_id: Any, suffix: str = "") -> str:
    return f"{prefix}/{quote(str(object_id), safe='')}{suffix}"


class HybridDeploymentAgentsStream(_AccountListStream):
    """Hybrid deployment agents and the connections each runs (``usage``).

    With ``group_ids`` set, one request per group (the API's camelCase ``groupId``
    filter); otherwise one for the account.
    """

    narrowed_by_filters = True

    name = "hybrid_deployment_agents"
    path = "/hybrid-deployment-agents"
    timestamp_fields = ("registered_at", "updated_at", "last_used_at")
    credential_fields = ("token", "files", "auth_json")
    schema = th.PropertiesList(
        key("id", "Agent id (connections' hybrid_deployment_agent_id)."),
        prop("display_name", th.StringType, "Agent name."),
        prop("group_id", th.StringType, "Group (destination) the agent belongs to."),
        prop("online", th.BooleanType, "Whether the agent is connected to Fivetran now."),
        prop("enabled", th.BooleanType, "Whether the agent is enabled."),
        prop("agent_version", th.StringType, "Agent software version (Fivetran's version)."),
        prop("deployment_type", th.StringType, "DOCKER, PODMAN, KUBERNETES or SNOWPARK."),
        prop("registered_at", DT, "When the agent was registered (UTC)."),
        prop("updated_at", DT, "When the agent was last updated (UTC)."),
        prop("last_used_at", DT, "When the agent last ran something (UTC)."),
        prop("created_by", th.StringType, "User who created the agent."),
        prop(
            "usage",
            th.ArrayType(
                th.ObjectType(
                    prop("connection_id", th.StringType, "Connection the agent runs."),
                    prop("schema", th.StringType, "That connection's schema (its name)."),
                    prop("service", th.StringType, "That connection's connector type."),
                )
            ),
            "Connections that run on the agent.",
        ),
    ).to_dict()

    @override
    def list_queries(self) -> list[dict[str, Any]]:
        group_ids = self.services.filters.group_ids
        return [{"groupId": group_id} for group_id in sorted(group_ids)] if group_ids else [{}]


class ProxyAgentsStream(_AccountListStream):
    """Proxy agents, with the connections each serves (``GET /proxy/{id}/connections``).

    ``connection_ids`` is a column rather than a child stream: a proxy serves a few
    connections, and the ids join to ``connections.id`` like ``transformations``'
    ``connection_ids``. One request per proxy agent.
    """

    name = "proxy_agents"
    path = "/proxy"
    timestamp_fields = ("registered_at",)
    credential_fields = ("token", "salt", "auth_token", "client_cert", "client_private_key")
    schema = th.PropertiesList(
        key("id", "Proxy agent id (connections' proxy_agent_id)."),
        prop("display_name", th.StringType, "Proxy agent name."),
        prop("status", th.StringType, "CONNECTED, NOT_CONNECTED or NOT_FOUND."),
        prop("region", th.StringType, "Data processing region, e.g. 'GCP_US_EAST4'."),
        prop("agent_version", th.StringType, "Proxy agent version (Fivetran's version)."),
        prop("registered_at", DT, "When the proxy agent was created (UTC)."),
        prop("created_by", th.StringType, "User who created the proxy agent."),
        prop("connector_count", th.IntegerType, "Connections using the proxy agent."),
        prop("destination_count", th.IntegerType, "Destinations using the proxy agent."),
        prop(
            "connection_ids",
            th.ArrayType(th.StringType),
            "Connections the proxy agent serves, sorted (null if that list was not readable).",
        ),
    ).to_dict()

    @override
    def add_details(self, item: dict[str, Any], context: Context | None) -> dict[str, Any]:
        path = _object_path(self.path or "", item["id"], "/connections")
        served, stopped_by = self.fetch_list_or_reason(path, context)
        ids = sorted({str(s["connection_id"]) for s in served if s.get("connection_id")})
        item["connection_ids"] = None if stopped_by else ids
        return item


#: Private link fields written as free text (the rest are ids, enums and timestamps).
PRIVATE_LINK_TEXT_FIELDS = ("name", "host", "state_summary", "resource_upstream_status")


class PrivateLinksStream(_AccountListStream):
    """Private links (source and destination side) and their state."""

    name = "private_links"
    path = "/private-links"
    timestamp_fields = ("created_at",)
    schema = th.PropertiesList(
        key("id", "Private link id (connections' and destinations' private_link_id)."),
        prop("name", th.StringType, "Private link name."),
        prop("state", th.StringType, "CREATING, UPDATING, DESTROYING, OK or FAIL."),
        prop("state_summary", th.StringType, "The state, in words."),
        prop("service", th.StringType, "What it links, e.g. SOURCE_AWS, SNOWFLAKE_AZURE."),
        prop("cloud_provider", th.StringType, "AWS, GCP or AZURE."),
        prop("region", th.StringType, "Data processing region, e.g. 'AWS_US_EAST_1'."),
        prop("host", th.StringType, "Host name of the link's endpoint."),
        prop("resource_upstream_status", th.StringType, "Status of the cloud resource behind it."),
        prop("created_at", DT, "When the private link was created (UTC)."),
        prop("created_by", th.StringType, "User who created the private link."),
    ).to_dict()

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        # Free text a cloud provider fills in (a summary may quote an endpoint with
        # its credentials).
        redact.scrub_text_fields(row, PRIVATE_LINK_TEXT_FIELDS)
        return super().post_process(row, context)


PERMISSION = th.ObjectType(
    prop("resource_type", th.StringType, "ACCOUNT, USER, CONNECTOR, DESTINATION, ..."),
    prop("access_level", th.StringType, "NONE, READ or MANAGE."),
    prop(
        "resource_filter",
        th.ObjectType(
            prop("ids", th.ArrayType(th.StringType), "Only these objects."),
            prop("group_ids", th.ArrayType(th.StringType), "Only objects of these groups."),
        ),
        "Limits the permission to some objects, if set.",
    ),
)


class SystemKeysStream(_AccountListStream):
    """System keys: names, permissions, expiry and last use (never the key or secret)."""

    name = "system_keys"
    path = "/system-keys"
    timestamp_fields = ("created_at", "updated_at", "expired_at", "last_used_at")
    credential_fields = ("key", "secret", "key_value")
    schema = th.PropertiesList(
        key("id", "System key id (account.system_key_id when the tap uses this key)."),
        prop("name", th.StringType, "System key name."),
        prop("permissions", th.ArrayType(PERMISSION), "What the key may read or manage."),
        prop("created_at", DT, "When the key was created (UTC)."),
        prop("updated_at", DT, "When the key was last changed (UTC)."),
        prop("expired_at", DT, "When the key expires or expired (UTC)."),
        prop("last_used_at", DT, "When the key was last used (UTC); null if never."),
    ).to_dict()


class ExternalLoggingStream(_AccountListStream):
    """Log services that receive the account's logs: the list plus one detail each.

    The detail call adds ``config`` (scrubbed like destination configs) and the setup
    tests; a log service deleted in between keeps its list fields only.
    """

    name = "external_logging"
    path = "/external-logging"
    schema = th.PropertiesList(
        key("id", "Log service id (the id of the group whose logs it receives)."),
        prop("service", th.StringType, "Log service type, e.g. datadog_log, cloudwatch."),
        prop("enabled", th.BooleanType, "Whether logs are sent."),
        prop(
            "status",
            th.ObjectType(
                prop("setup_state", th.StringType, "connected, broken or incomplete."),
                prop("tasks", th.ArrayType(CODE_MESSAGE), "Problems to act on."),
            ),
            "Setup status, when Fivetran has one.",
        ),
        prop("setup_tests", th.ArrayType(SETUP_TEST), "Latest setup test results (detail)."),
        prop("config", OPAQUE, "Log service config without masked or secret-looking values."),
    ).to_dict()

    @override
    def add_details(self, item: dict[str, Any], context: Context | None) -> dict[str, Any]:
        detail = self.fetch_data(_object_path(self.path or "", item["id"]), context) or {}
        return {**item, **detail}

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        row.setdefault("config", None)  # absent when the detail call found nothing
        redact.scrub_record(
            row, config_fields=("config",), message_lists=("setup_tests", "status.tasks")
        )
        return super().post_process(row, context)


def infrastructure_index(streams: Mapping[str, Stream]) -> health.Infrastructure:
    """The agents, proxy agents and private links by id, for the connections' health.

    Each list is requested here at most once per run and reused by its stream.
    """

    def by_id(name: str) -> dict[str, dict[str, Any]]:
        stream = streams[name]
        assert isinstance(stream, _AccountListStream)  # noqa: S101
        return {str(item["id"]): item for item in stream.listed() if item.get("id")}

    return health.Infrastructure(
        hybrid_deployment_agents=by_id(HybridDeploymentAgentsStream.name),
        proxy_agents=by_id(ProxyAgentsStream.name),
        private_links=by_id(PrivateLinksStream.name),
    )
