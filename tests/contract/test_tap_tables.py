"""The tap tables of the round-3 contract: the keys and columns the dbt models rely on.

The models (transform/) read exactly these; a change here is a change of the contract.
"""

from __future__ import annotations

import pytest

from tap_fivetran_meta.tap import TapFivetranMeta

#: stream -> (primary key, columns it must have).
CONTRACT: dict[str, tuple[tuple[str, ...], set[str]]] = {
    "connection_status_history": (
        ("connection_id", "change_id"),
        {"observed_at", "health", "fingerprint", "previous_fingerprint", "group_id", "service"},
    ),
    "tap_runs": (
        ("run_id",),
        {
            "account_id",
            "started_at",
            "ended_at",
            "tap_version",
            "connections_listing_complete",
            "is_filtered",
            "group_ids",
            "connection_ids",
            "services",
            "connections_listed",
            "streams_completed",
        },
    ),
    "connection_status_issues": (
        ("connection_id", "change_id", "kind", "code"),
        {"observed_at", "message"},
    ),
    "transformations": (("id",), {"project_id", "schedule_type", "connection_count"}),
    "transformation_projects": (("id",), {"error_count", "errors_text"}),
    "connection_tables": (
        ("connection_id", "schema_name", "table_name"),
        {"object_key"},
    ),
    "connection_columns": (
        ("connection_id", "schema_name", "table_name", "column_name"),
        {"object_key"},
    ),
}
TYPES = {
    ("connection_status_history", "change_id"): "string",
    ("tap_runs", "connections_listing_complete"): "boolean",
    ("tap_runs", "is_filtered"): "boolean",
    ("tap_runs", "connections_listed"): "integer",
    ("tap_runs", "started_at"): "string",
    ("transformations", "connection_count"): "integer",
    ("transformation_projects", "error_count"): "integer",
}


@pytest.fixture(scope="module")
def tap() -> TapFivetranMeta:
    return TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)


@pytest.mark.parametrize("stream", list(CONTRACT))
def test_each_contract_table_has_its_key_and_columns(tap: TapFivetranMeta, stream: str) -> None:
    key, columns = CONTRACT[stream]
    found = tap.streams[stream]
    assert tuple(found.primary_keys or ()) == key
    assert columns | set(key) <= set(found.schema["properties"])


@pytest.mark.parametrize(("stream", "column"), list(TYPES))
def test_contract_column_types(tap: TapFivetranMeta, stream: str, column: str) -> None:
    declared = tap.streams[stream].schema["properties"][column]["type"]
    types = declared if isinstance(declared, list) else [declared]
    assert TYPES[stream, column] in types


def test_the_run_log_is_synced_last(tap: TapFivetranMeta) -> None:
    assert list(tap.streams)[-1] == "tap_runs"


def test_the_run_log_and_the_issues_are_never_deleted_by_activate_version() -> None:
    tap = TapFivetranMeta(
        config={"emit_activate_version_messages": True},
        parse_env_config=False,
        validate_config=False,
    )
    for stream in ("tap_runs", "connection_status_issues"):
        assert tap.streams[stream].emit_activate_version_messages is False
