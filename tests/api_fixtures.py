"""A small, hand-written Fivetran account served through requests-mock.

Bodies follow the examples of ../shared/docs/fivetran-api.md (envelopes, lower-case
states, mixed timestamp precision, masked secrets). ``connections`` spans two cursor
pages. ``register(mocker)`` installs every endpoint the tap reads.
"""

from __future__ import annotations

import copy
import re
from typing import Any

API = "https://api.fivetran.com/v1"
SECRET = "s3cr3t-DO-NOT-LEAK-7f1e"
CONFIG = {"api_key": "key-abc", "api_secret": SECRET, "start_date": "2026-11-20T00:00:00Z"}

GROUPS = [
    {"id": "projected_sickle", "name": "Staging", "created_at": "2018-12-20T11:59:35.089589Z"},
    {"id": "schoolmaster_heedless", "name": "Production", "created_at": "2019-01-08T19:53:52Z"},
]

DESTINATIONS = [
    {
        "id": g["id"],
        "group_id": g["id"],
        "service": "snowflake",
        "region": "GCP_US_EAST4",
        "time_zone_offset": "-5",
        "setup_status": "CONNECTED" if i else "connected",
        "daylight_saving_time_enabled": True,
        "networking_method": "Directly",
        "private_link_id": None,
        "proxy_agent_id": None,
        "hybrid_deployment_agent_id": None,
    }
    for i, g in enumerate(GROUPS)
]


def destination_detail(destination: dict[str, Any]) -> dict[str, Any]:
    return {
        **destination,
        "setup_tests": [{"title": "Host Connection", "status": "PASSED", "message": ""}],
        "config": {
            "host": "acme.snowflakecomputing.com",
            "port": 443,
            "database": f"{destination['id'].upper()}_DB",
            "user": "fivetran_user",
            "password": "******",
            "private_key": "-----BEGIN PRIVATE KEY-----abc",
        },
    }


def _status(**overrides: Any) -> dict[str, Any]:
    status = {
        "setup_state": "connected",
        "schema_status": "ready",
        "sync_state": "scheduled",
        "update_state": "on_schedule",
        "is_historical_sync": False,
        "tasks": [],
        "warnings": [],
    }
    status.update(overrides)
    return status


def _connection(cid: str, group: str, service: str, schema: str, **extra: Any) -> dict[str, Any]:
    conn: dict[str, Any] = {
        "id": cid,
        "group_id": group,
        "service": service,
        "service_version": 1,
        "schema": schema,
        "paused": False,
        "pause_after_trial": False,
        "connected_by": "cardiac_contemplation",
        "created_at": "2023-12-01T15:43:29.013729Z",
        "succeeded_at": "2026-11-26T23:31:40.870Z",
        "failed_at": None,
        "sync_frequency": 360,
        "schedule_type": "auto",
        "data_delay_sensitivity": "NORMAL",
        "data_delay_threshold": 0,
        "networking_method": "Directly",
        "status": _status(),
        "source_sync_details": {},
        "setup_tests": [{"title": "Validate Login", "status": "PASSED", "message": ""}],
        "connect_card": {"token": "tok-should-not-leak", "uri": "https://x"},
    }
    conn.update(extra)
    return conn


AGENT_ID, PROXY_ID, LINK_ID = "grey_rhinoceros", "proxy_one", "link_one"

CONNECTIONS = [
    # Each goes through one infrastructure object; all three objects are up.
    _connection(
        "speak_inexpensive",
        "projected_sickle",
        "postgres",
        "postgres_public",
        hybrid_deployment_agent_id=AGENT_ID,
        local_processing_agent_id=AGENT_ID,
    ),
    _connection(
        "dialectical_remindful",
        "schoolmaster_heedless",
        "google_sheets",
        "gsheets.budget",
        paused=True,
        status=_status(sync_state="paused"),
        networking_method="ProxyAgent",
        proxy_agent_id=PROXY_ID,
    ),
    _connection(
        "broken_arrow",
        "schoolmaster_heedless",
        "salesforce",
        "salesforce",
        failed_at="2026-11-26T23:50:00Z",
        status=_status(
            setup_state="broken",
            tasks=[{"code": "reconnect", "message": "Reconnect", "details": {}}],
        ),
        networking_method="PrivateLink",
        private_link_id=LINK_ID,
    ),
]

USERS = [
    {
        "id": "cardiac_contemplation",
        "email": "john@mycompany.com",
        "given_name": "John",
        "family_name": "White",
        "verified": True,
        "invited": False,
        "picture": None,
        "phone": None,
        "role": "Account Administrator",
        "active": True,
        "logged_in_at": "2024-01-01T00:00:00Z",
        "created_at": "2019-01-01T00:00:00.123456Z",
    },
    {
        "id": "invited_person",
        "email": "jane@mycompany.com",
        "given_name": "Jane",
        "family_name": "Doe",
        "verified": False,
        "invited": True,
        "picture": None,
        "phone": None,
        "role": None,
        "active": False,
        "logged_in_at": None,
        "created_at": "2024-05-01T10:00:00.5Z",
    },
]

TEAMS = [
    {
        "id": "abode_abolish",
        "name": "Head Team",
        "description": "Head Team description",
        "role": "Account Administrator",
    }
]

ROLES = [
    {
        "name": "Destination Administrator",
        "description": "Full access to the destination",
        "scope": ["DESTINATION"],
        "is_custom": False,
        "is_deprecated": False,
        "replacement_role_name": None,
    }
]

WEBHOOKS = [
    {
        "id": "program_quoth",
        "type": "account",
        "url": "https://your-host.your-domain/webhook",
        "events": ["sync_start", "sync_end"],
        "active": True,
        "secret": "******",
        "created_at": "2022-04-29T09:41:08.583Z",
        "created_by": "_airworthy",
    }
]

CONNECTOR_TYPES = [
    {
        "id": "postgres",
        "name": "PostgreSQL",
        "type": "Database",
        "description": "PostgreSQL",
        "icon_url": "https://fivetran.com/x.svg",
        "icons": [],
        "link_to_docs": "https://fivetran.com/docs/postgres",
        "link_to_erd": None,
        "connector_class": "standard",
        "supported_features": [{"id": "CAPTURE_DELETES", "notes": "All tables"}],
        "service_status": "general_availability",
        "service_status_updated_at": "2023-10-11",
    }
]

TRANSFORMATIONS = [
    {
        "id": "transformation_id",
        "status": "SUCCEEDED",
        "type": "QUICKSTART",
        "paused": False,
        "created_at": "2024-01-02T00:00:00.743708Z",
        "created_by_id": "cardiac_contemplation",
        "last_started_at": "2024-01-03T00:00:00.000001Z",
        "last_ended_at": "2024-01-03T00:04:10.000001Z",
        "output_model_names": ["hubspot__contacts"],
        "schedule": {
            "schedule_type": "INTEGRATED",
            "connection_ids": ["speak_inexpensive"],
            "smart_syncing": True,
        },
        "transformation_config": {
            "package_name": "hubspot",
            "connection_ids": ["speak_inexpensive", "broken_arrow"],
            "excluded_models": [],
            "upgrade_available": False,
        },
    }
]

PROJECTS = [
    {
        "id": "project_1",
        "type": "DBT_GIT",
        "group_id": "projected_sickle",
        "created_at": "2024-01-01T00:00:00Z",
        "created_by_id": "cardiac_contemplation",
    }
]


def project_detail(project: dict[str, Any]) -> dict[str, Any]:
    """``GET /transformation-projects/{id}``: the list item plus status, errors, tests."""
    return {
        **project,
        "status": "ERROR",
        "errors": ["Could not clone the repository"],
        "setup_tests": [{"title": "Git connection", "status": "FAILED", "message": "denied"}],
        "project_config": {
            "dbt_version": "1.9.1",
            "git_remote_url": "git@github.com:example/analytics.git",
            "git_branch": "main",
            "environment_vars": ["DBT_PASSWORD=hunter2"],
            "public_key": "ssh-rsa AAAAB3Nza fivetran user key",
        },
    }


USER_MEMBERSHIPS = {
    "cardiac_contemplation": {
        "groups": [
            {
                "id": "projected_sickle",
                "role": "Destination Administrator",
                "created_at": "2024-01-01T00:00:00Z",
            }
        ],
        "connections": [
            {
                "id": "speak_inexpensive",
                "role": "Connector Administrator",
                "created_at": "2024-01-02T00:00:00Z",
            }
        ],
    },
    "invited_person": {"groups": [], "connections": []},
}

TEAM_MEMBERSHIPS = {
    "abode_abolish": {
        "users": [
            {
                "user_id": "cardiac_contemplation",
                "role": "Team Member",
                "created_at": "2023-08-20T10:15:20.677566Z",
            }
        ],
        "groups": [
            {
                "id": "schoolmaster_heedless",
                "role": "Destination Reviewer",
                "created_at": "2023-08-20T10:15:20Z",
            }
        ],
        "connections": [],
    }
}

ACCOUNT = {"account_id": "acct_xyz", "account_name": "Acme Inc", "user_id": "cardiac_contemplation"}

# --- infrastructure (shapes as in ../shared/docs/fivetran-api-fields.md) ------------------

AGENTS = [
    {
        "id": AGENT_ID,
        "display_name": "dc1-agent",
        "group_id": "projected_sickle",
        "registered_at": "2024-12-01T15:43:29.013729Z",
        "version": "1.0.0",
        "enabled": True,
        "online": True,
        "created_by": "cardiac_contemplation",
        "deployment_type": "DOCKER",
        "updated_at": "2024-12-01T15:43:29.013729Z",
        "last_used_at": "2026-11-26T23:31:00Z",
        "usage": [
            {
                "connection_id": "speak_inexpensive",
                "schema": "postgres_public",
                "service": "postgres",
            }
        ],
        "token": "agent-token-should-not-leak",
    }
]

PROXIES = [
    {
        "id": PROXY_ID,
        "account_id": "acct_xyz",
        "registered_at": "2018-12-01T15:43:29.013729Z",
        "region": "GCP_US_EAST4",
        "created_by": "cardiac_contemplation",
        "display_name": "dc1-proxy",
        "version": "1.0.0",
        "status": "CONNECTED",
        "connector_count": 1,
        "destination_count": 0,
    }
]
PROXY_CONNECTIONS = {PROXY_ID: [{"connection_id": "dialectical_remindful"}]}

PRIVATE_LINKS = [
    {
        "id": LINK_ID,
        "name": "salesforce-link",
        "region": "AWS_US_EAST_1",
        "service": "SOURCE_AWS",
        "state": "OK",
        "state_summary": "Ready",
        "host": "vpce-1.example.com",
        "account_id": "acct_xyz",
        "cloud_provider": "AWS",
        "created_at": "2025-02-01T10:00:00.5Z",
        "created_by": "cardiac_contemplation",
        "resource_upstream_status": "Available",
    }
]

SYSTEM_KEYS = [
    {
        "id": "rushed_fainting",
        "name": "metadata-reader",
        "key": "ft_key-should-not-leak",
        "secret": "******",
        "permissions": [
            {"resource_type": "CONNECTOR", "access_level": "READ"},
            {
                "resource_type": "TRANSFORMATION",
                "access_level": "MANAGE",
                "resource_filter": {"group_ids": ["projected_sickle"]},
            },
        ],
        "created_at": "2023-10-17T14:01:16.318Z",
        "updated_at": "2023-10-17T14:02:20.919291Z",
        "expired_at": "2027-01-17T14:01:16.318Z",
        "last_used_at": None,
    }
]

LOG_SERVICES = [
    {
        "id": "projected_sickle",
        "service": "datadog_log",
        "enabled": True,
        "status": {"setup_state": "connected", "tasks": []},
    }
]


def log_service_detail(log: dict[str, Any]) -> dict[str, Any]:
    return {
        **log,
        "setup_tests": [{"title": "Log delivery", "status": "PASSED", "message": ""}],
        "config": {"hostname": "logs.example.com", "region": "US1", "api_key": "******"},
    }


def ok(data: Any) -> dict[str, Any]:
    return {"code": "Success", "data": copy.deepcopy(data)}


def page(items: list[dict[str, Any]], next_cursor: str | None = None) -> dict[str, Any]:
    return ok({"items": items, "next_cursor": next_cursor})


def register(mocker: Any, api: str = API) -> None:
    """Install every endpoint of the fixture account on a requests-mock Mocker.

    Per-connection endpoints get neutral defaults (no history, no schema config);
    tests of those streams register richer responses after calling this (requests-mock
    prefers the latest matching registration).
    """
    base = re.escape(api)
    mocker.get(re.compile(rf"{base}/connections/[^/]+/sync-history"), json=page([]))
    mocker.get(
        re.compile(rf"{base}/connections/[^/]+/schemas"),
        status_code=404,
        json={"code": "NotFound_SchemaConfig", "message": "Schema config not found"},
    )
    mocker.get(f"{api}/account/info", json=ok(ACCOUNT))
    mocker.get(f"{api}/groups", json=page(GROUPS))
    mocker.get(f"{api}/destinations", json=page(DESTINATIONS))
    for destination in DESTINATIONS:
        mocker.get(
            f"{api}/destinations/{destination['id']}", json=ok(destination_detail(destination))
        )
    mocker.get(
        f"{api}/connections",
        [
            {"json": page(CONNECTIONS[:2], next_cursor="eyJza2lwIjoyfQ")},
            {"json": page(CONNECTIONS[2:])},
        ]
        * 50,
    )
    mocker.get(f"{api}/metadata/connector-types", json=page(CONNECTOR_TYPES))
    mocker.get(f"{api}/users", json=page(USERS))
    for user_id, kinds in USER_MEMBERSHIPS.items():
        for kind, items in kinds.items():
            mocker.get(f"{api}/users/{user_id}/{kind}", json=page(items))
    mocker.get(f"{api}/teams", json=page(TEAMS))
    for team_id, kinds in TEAM_MEMBERSHIPS.items():
        for kind, items in kinds.items():
            mocker.get(f"{api}/teams/{team_id}/{kind}", json=page(items))
    mocker.get(f"{api}/roles", json=page(ROLES))
    mocker.get(f"{api}/webhooks", json=page(WEBHOOKS))
    mocker.get(f"{api}/hybrid-deployment-agents", json=page(AGENTS))
    mocker.get(f"{api}/proxy", json=page(PROXIES))
    for proxy_id, served in PROXY_CONNECTIONS.items():
        mocker.get(f"{api}/proxy/{proxy_id}/connections", json=page(served))
    mocker.get(f"{api}/private-links", json=page(PRIVATE_LINKS))
    mocker.get(f"{api}/system-keys", json=page(SYSTEM_KEYS))
    mocker.get(f"{api}/external-logging", json=page(LOG_SERVICES))
    for log in LOG_SERVICES:
        mocker.get(f"{api}/external-logging/{log['id']}", json=ok(log_service_detail(log)))
    mocker.get(f"{api}/transformations", json=page(TRANSFORMATIONS))
    mocker.get(f"{api}/transformation-projects", json=page(PROJECTS))
    for project in PROJECTS:
        mocker.get(
            f"{api}/transformation-projects/{project['id']}", json=ok(project_detail(project))
        )


EXPECTED_COUNTS = {
    "account": 1,
    "groups": len(GROUPS),
    "destinations": len(DESTINATIONS),
    "connections": len(CONNECTIONS),
    "connector_types": len(CONNECTOR_TYPES),
    "users": len(USERS),
    "user_memberships": 2,
    "teams": len(TEAMS),
    "team_memberships": 2,
    "roles": len(ROLES),
    "webhooks": len(WEBHOOKS),
    "transformations": len(TRANSFORMATIONS),
    "transformation_projects": len(PROJECTS),
    "hybrid_deployment_agents": len(AGENTS),
    "proxy_agents": len(PROXIES),
    "private_links": len(PRIVATE_LINKS),
    "system_keys": len(SYSTEM_KEYS),
    "external_logging": len(LOG_SERVICES),
}


# --- richer per-connection data, for the SDK's standard tests ---------------------------

SCHEMA_CONFIG = {
    "enable_new_by_default": True,
    "schema_change_handling": "ALLOW_ALL",
    "schemas": {
        "public": {
            "name_in_destination": "postgres_public",
            "enabled": True,
            "tables": {
                "employee": {
                    "name_in_destination": "employee",
                    "enabled": True,
                    "sync_mode": "SOFT_DELETE",
                    "supports_columns_config": True,
                    "supports_history_mode": True,
                    "enabled_patch_settings": {"allowed": True},
                    "columns": {
                        "id": {
                            "name_in_destination": "id",
                            "enabled": True,
                            "hashed": False,
                            "is_primary_key": True,
                            "enabled_patch_settings": {
                                "allowed": False,
                                "reason_code": "SYSTEM_COLUMN",
                                "reason": "The column does not support exclusion as it is a Primary Key",
                            },
                        }
                    },
                }
            },
        }
    },
}

#: Sync-history items as documented: start, end, status (nothing else is confirmed).
SYNC_ITEMS = [
    {"start": "2026-11-26T08:18:56.823Z", "end": "2026-11-26T08:19:12.094Z", "status": "COMPLETED"},
    {
        "start": "2026-11-26T14:18:56Z",
        "end": "2026-11-26T14:20:01.5Z",
        "status": "FAILURE_WITH_TASK",
    },
]

WEBHOOK_BODY = (
    b'{"event":"sync_end","created":"2026-05-22T00:06:08.638Z","connector_type":"postgres",'
    b'"connector_id":"speak_inexpensive","connector_name":"postgres_public",'
    b'"sync_id":"b4703f73-6315-4e22-8d7a-3bfb18b2fed2","destination_group_id":"projected_sickle",'
    b'"data":{"status":"SUCCESSFUL"}}'
)


def register_per_connection_data(mocker: Any, api: str = API) -> None:
    """Schema config for one connection and two syncs for each (after ``register``)."""
    base = re.escape(api)
    mocker.get(re.compile(rf"{base}/connections/[^/]+/sync-history"), json=page(SYNC_ITEMS))
    mocker.get(f"{api}/connections/speak_inexpensive/schemas", json=ok(SCHEMA_CONFIG))


def make_webhook_inbox(path: Any) -> str:
    """A webhook inbox file holding one delivered sync_end event."""
    from tap_fivetran_meta.webhooks.events import parse_event
    from tap_fivetran_meta.webhooks.store import Inbox

    with Inbox(path) as inbox:
        inbox.add(
            parse_event(WEBHOOK_BODY),
            received_at="2026-05-22T00:06:09.000000Z",
            signature_verified=True,
        )
    return str(path)


def deliver_sync_events(path: Any, connection_id: str, events: list[tuple[str, Any, str]]) -> None:
    """Store webhook deliveries (event, created datetime, sync_id) as the receiver would."""
    import json

    from tap_fivetran_meta.rules.timeutil import format_timestamp
    from tap_fivetran_meta.webhooks.events import parse_event
    from tap_fivetran_meta.webhooks.store import Inbox

    with Inbox(path) as inbox:
        for event, created, sync_id in events:
            body = {
                "event": event,
                "created": created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "connector_id": connection_id,
                "sync_id": sync_id,
                "data": {"status": "SUCCESSFUL"} if event == "sync_end" else {},
            }
            raw = json.dumps(body, separators=(",", ":")).encode()
            inbox.add(
                parse_event(raw), received_at=format_timestamp(created), signature_verified=True
            )
