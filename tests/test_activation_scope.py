"""ACTIVATE_VERSION only after a complete, unfiltered read, and never before its SCHEMA.

Issue 22, items 1 and 2: a target (target-postgres) stops with ``KeyError`` on an
ACTIVATE_VERSION for a stream it has no SCHEMA of, and flags every older row deleted
on one that follows an incomplete or filtered read.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock
from history_helpers import run_capture

from tap_fivetran_meta.streams import STREAM_TYPES

import api_fixtures as fx

API = fx.API
ACTIVATING = {**fx.CONFIG, "emit_activate_version_messages": True}
SCHEMA_STREAMS = {
    "connection_schemas",
    "connection_tables",
    "connection_columns",
    "table_lineage",
}
ALL_STREAMS = {stream_type.name for stream_type in STREAM_TYPES}


def _activated(messages: list[dict[str, Any]]) -> set[str]:
    return {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}


def assert_schema_before_activation(messages: list[dict[str, Any]]) -> None:
    """Every ACTIVATE_VERSION follows a SCHEMA of its stream."""
    schemas: set[str] = set()
    for message in messages:
        if message["type"] == "SCHEMA":
            schemas.add(message["stream"])
        elif message["type"] == "ACTIVATE_VERSION":
            assert message["stream"] in schemas, f"ACTIVATE_VERSION before SCHEMA: {message}"


@pytest.fixture
def full_api(api: requests_mock.Mocker) -> requests_mock.Mocker:
    fx.register_per_connection_data(api)
    return api


# --- item 1: ACTIVATE_VERSION never before SCHEMA ------------------------------------------


def test_no_teams_still_sends_the_memberships_schema_before_its_activation(
    api: requests_mock.Mocker,
) -> None:
    api.get(f"{API}/teams", json=fx.page([]))
    run = run_capture(ACTIVATING, streams={"teams", "team_memberships"})
    assert run.error is None
    assert run.records("team_memberships") == []
    assert_schema_before_activation(run.messages)
    # An account without teams is a complete read: nothing is left to keep.
    assert {"teams", "team_memberships"} <= _activated(run.messages)


def test_teams_forbidden_activates_neither_teams_nor_their_memberships(
    api: requests_mock.Mocker,
) -> None:
    api.get(f"{API}/teams", status_code=403, json={"code": "AccessDenied", "message": "no"})
    run = run_capture(ACTIVATING, streams={"teams", "team_memberships", "users"})
    assert run.error is None
    assert_schema_before_activation(run.messages)
    assert not {"teams", "team_memberships"} & _activated(run.messages)
    assert "users" in _activated(run.messages)


def test_a_full_run_never_activates_before_the_schema(full_api: requests_mock.Mocker) -> None:
    run = run_capture(ACTIVATING, streams=ALL_STREAMS - {"webhook_events"})
    assert run.error is None
    assert_schema_before_activation(run.messages)
    assert "connections" in _activated(run.messages)


# --- item 2: never after an incomplete or filtered read ------------------------------------


def test_a_schema_config_with_data_null_activates_no_schema_stream(
    full_api: requests_mock.Mocker,
) -> None:
    cid = fx.CONNECTIONS[0]["id"]
    full_api.get(f"{API}/connections/{cid}/schemas", json={"code": "Success", "data": None})
    run = run_capture(ACTIVATING, streams={"connections", *SCHEMA_STREAMS})
    assert run.error is None
    activated = _activated(run.messages)
    assert not SCHEMA_STREAMS & activated, activated
    assert "connections" in activated


@pytest.mark.parametrize(
    "filters",
    [
        {"group_ids": [fx.GROUPS[0]["id"]]},
        {"connection_ids": [fx.CONNECTIONS[0]["id"]]},
        {"services": ["postgres"]},
        {"group_ids": ["no_such_group"]},
        {"connection_ids": ["no_such_connection"]},
    ],
    ids=["group", "connection", "service", "group matching nothing", "connection matching nothing"],
)
def test_a_filtered_run_activates_only_what_the_filters_do_not_narrow(
    full_api: requests_mock.Mocker, filters: dict[str, Any]
) -> None:
    run = run_capture({**ACTIVATING, **filters}, streams=ALL_STREAMS - {"webhook_events"})
    assert run.error is None
    assert_schema_before_activation(run.messages)
    activated = _activated(run.messages)
    narrowed = {
        "groups",
        "destinations",
        "connections",
        "sync_history",
        "hybrid_deployment_agents",
        "webhooks",
        "transformation_projects",
        "user_memberships",
        "team_memberships",
        *SCHEMA_STREAMS,
        "connection_schema_settings",
    }
    assert not narrowed & activated, narrowed & activated
    # Account-wide lists the filters do not touch are still complete listings.
    assert {"account", "users", "teams", "roles", "connector_types"} <= activated


def test_the_unfiltered_run_activates_the_narrowable_streams(
    full_api: requests_mock.Mocker,
) -> None:
    run = run_capture(ACTIVATING, streams=ALL_STREAMS - {"webhook_events"})
    activated = _activated(run.messages)
    assert {"groups", "destinations", "connections", "team_memberships", *SCHEMA_STREAMS} <= (
        activated
    )
