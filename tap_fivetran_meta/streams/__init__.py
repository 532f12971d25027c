"""Stream classes, by domain. ``STREAM_TYPES`` is the tap's stream list, in sync order."""

from __future__ import annotations

from tap_fivetran_meta.streams.access import (
    RolesStream,
    TeamMembershipsStream,
    TeamsStream,
    UserMembershipsStream,
    UsersStream,
    WebhooksStream,
)
from tap_fivetran_meta.streams.core import (
    AccountStream,
    ConnectionsStream,
    ConnectorTypesStream,
    DestinationsStream,
    GroupsStream,
)
from tap_fivetran_meta.streams.infrastructure import (
    ExternalLoggingStream,
    HybridDeploymentAgentsStream,
    PrivateLinksStream,
    ProxyAgentsStream,
    SystemKeysStream,
)
from tap_fivetran_meta.streams.runs import TapRunsStream
from tap_fivetran_meta.streams.schemas import (
    ConnectionColumnsStream,
    ConnectionSchemaSettingsStream,
    ConnectionSchemasStream,
    ConnectionTablesStream,
    SchemaChangesStream,
    TableLineageStream,
)
from tap_fivetran_meta.streams.syncs import (
    ConnectionStatusHistoryStream,
    ConnectionStatusIssuesStream,
    SyncHistoryStream,
)
from tap_fivetran_meta.streams.transformations import (
    TransformationProjectsStream,
    TransformationsStream,
)
from tap_fivetran_meta.streams.webhooks import WebhookEventsStream

STREAM_TYPES = (
    AccountStream,
    GroupsStream,
    DestinationsStream,
    HybridDeploymentAgentsStream,
    ProxyAgentsStream,
    PrivateLinksStream,
    SystemKeysStream,
    ExternalLoggingStream,
    ConnectionsStream,
    SyncHistoryStream,
    ConnectionStatusIssuesStream,
    ConnectionStatusHistoryStream,
    ConnectorTypesStream,
    ConnectionSchemaSettingsStream,
    ConnectionSchemasStream,
    ConnectionTablesStream,
    ConnectionColumnsStream,
    TableLineageStream,
    SchemaChangesStream,
    UsersStream,
    UserMembershipsStream,
    TeamsStream,
    TeamMembershipsStream,
    RolesStream,
    WebhooksStream,
    TransformationsStream,
    TransformationProjectsStream,
    WebhookEventsStream,
    TapRunsStream,
)
