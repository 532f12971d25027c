"""Rows the tap builds itself match their schema, so skipping the SDK's conformance is safe.

Streams with ``trusted_rows`` (sync history, status history, schema config, lineage)
write their RECORDs without ``conform_record_data_types`` (see message_volume.py).
For any input the API might send, well-formed or not, each such row must validate
against its stream's JSON schema and come out of the SDK's conformance unchanged.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from singer_sdk.helpers._typing import conform_record_data_types

from tap_fivetran_meta.rules.filters import Filters
from tap_fivetran_meta.rules.run_log import RunFacts, run_row
from tap_fivetran_meta.rules.schema_config import flatten
from tap_fivetran_meta.rules.status_history import deleted_row, issue_rows, status_row
from tap_fivetran_meta.rules.sync_items import ConnectionRef, parse_sync_item
from tap_fivetran_meta.runtime.account_scope import ACCOUNT_ID
from tap_fivetran_meta.streams import STREAM_TYPES
from tap_fivetran_meta.tap import TapFivetranMeta

LOG = logging.getLogger("test")
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
)
TIMESTAMPS = st.sampled_from(
    ["2026-11-20T12:00:00Z", "2026-11-20T12:00:00.123456789Z", "2026-11-20", "nope", "", None, 3]
)
CONTEXT_VALUES = st.one_of(st.none(), st.text(), st.integers(), st.booleans())


@pytest.fixture(scope="module")
def tap() -> TapFivetranMeta:
    return TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)


def assert_trusted(tap: TapFivetranMeta, stream_name: str, row: dict[str, Any]) -> None:
    stream = tap.streams[stream_name]
    row = {**row, ACCOUNT_ID: "acct_1"}  # stamped on every row before it is written
    errors = [e.message for e in Draft7Validator(stream.schema).iter_errors(row)]
    assert not errors, f"{stream_name}: {errors} in {row!r}"
    assert set(row) <= set(stream.schema["properties"]), stream_name
    conformed = conform_record_data_types(
        stream_name, copy.deepcopy(row), stream.schema, stream.TYPE_CONFORMANCE_LEVEL, LOG
    )
    assert conformed == row, stream_name


def test_exactly_the_tap_built_streams_skip_conformance() -> None:
    trusted = {t.name for t in STREAM_TYPES if getattr(t, "trusted_rows", False)}
    assert trusted == {
        "sync_history",
        "connection_status_history",
        "connection_status_issues",
        "connection_schema_settings",
        "connection_schemas",
        "connection_tables",
        "connection_columns",
        "table_lineage",
        "tap_runs",
    }


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=TIMESTAMPS,
    end=TIMESTAMPS,
    status=JSON,
    extra=st.dictionaries(st.text(), JSON, max_size=3),
    group_id=CONTEXT_VALUES,
    service=CONTEXT_VALUES,
)
def test_sync_history_rows(  # noqa: PLR0917
    tap: TapFivetranMeta,
    start: Any,
    end: Any,
    status: Any,
    extra: dict,
    group_id: Any,
    service: Any,
) -> None:
    item = {**extra, "start": start, "end": end, "status": status}
    ref = ConnectionRef.from_context(
        {"connection_id": "c1", "group_id": group_id, "service": service}
    )
    row = parse_sync_item(item, ref)
    if row is not None:
        assert_trusted(tap, "sync_history", row)


CONNECTION_FIELDS = (
    "paused",
    "setup_state",
    "sync_state",
    "update_state",
    "is_historical_sync",
    "rescheduled_for",
    "succeeded_at",
    "failed_at",
    "last_sync_completed_at",
    "last_sync_succeeded",
    "health",
    "sync_frequency",
    "schedule_type",
    "daily_sync_time",
    "schedule",
    "group_id",
    "service",
    "status",
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(CONNECTION_FIELDS, JSON)))
def test_status_history_rows(tap: TapFivetranMeta, values: dict[str, Any]) -> None:
    connection = {"id": "c1", **values}
    row = status_row(
        connection, observed_at="2026-11-20T12:00:00.000000Z", previous_fingerprint=None
    )
    assert_trusted(tap, "connection_status_history", row)
    for issue in issue_rows(connection, row):
        assert_trusted(tap, "connection_status_issues", issue)


def test_deleted_rows(tap: TapFivetranMeta) -> None:
    row = deleted_row(
        "c1",
        observed_at="2026-11-20T12:00:00.000000Z",
        previous_fingerprint="0123456789abcdef",
        previous_observed_at="2026-11-19T12:00:00.000000Z",
    )
    assert_trusted(tap, "connection_status_history", row)


@pytest.mark.parametrize("listed", [None, 0, 60])
@pytest.mark.parametrize(
    "filters", [Filters(), Filters(group_ids=frozenset({"g1", "g0"}), services=frozenset({"x"}))]
)
def test_run_log_rows(tap: TapFivetranMeta, listed: int | None, filters: Filters) -> None:
    row = run_row(
        RunFacts(
            account_id="acct_1",
            started_at="2026-11-20T12:00:00.000000Z",
            ended_at="2026-11-20T12:01:00.000000Z",
            tap_version="0.1.0",
            filters=filters,
            connections_listed=listed,
            listing_complete=listed is not None,
            streams_completed=frozenset({"connections", "account"}),
        )
    )
    assert_trusted(tap, "tap_runs", row)


def schema_configs() -> st.SearchStrategy[Any]:
    column = st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            (
                "name_in_destination",
                "enabled",
                "hashed",
                "is_primary_key",
                "enabled_patch_settings",
            ),
            JSON,
        ),
    )
    table = st.fixed_dictionaries(
        {},
        optional={
            **dict.fromkeys(
                (
                    "name_in_destination",
                    "enabled",
                    "sync_mode",
                    "supports_columns_config",
                    "supports_history_mode",
                    "enabled_patch_settings",
                ),
                JSON,
            ),
            "columns": st.dictionaries(st.text(max_size=5), column | JSON, max_size=3),
        },
    )
    schema = st.fixed_dictionaries(
        {},
        optional={
            "name_in_destination": JSON,
            "enabled": JSON,
            "tables": st.dictionaries(st.text(max_size=5), table | JSON, max_size=3),
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "schema_change_handling": JSON,
            "enable_new_by_default": JSON,
            "is_type_locked": JSON,
            "schemas": st.dictionaries(st.text(max_size=5), schema | JSON, max_size=3),
        },
    )


SCHEMA_STREAMS = (
    "connection_schema_settings",
    "connection_schemas",
    "connection_tables",
    "connection_columns",
    "table_lineage",
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=schema_configs(),
    group_id=CONTEXT_VALUES,
    service=CONTEXT_VALUES,
    connection_schema=CONTEXT_VALUES,
    database=st.none() | st.text(),
)
def test_schema_config_and_lineage_rows(  # noqa: PLR0917
    tap: TapFivetranMeta,
    monkeypatch_module: pytest.MonkeyPatch,
    data: dict[str, Any],
    group_id: Any,
    service: Any,
    connection_schema: Any,
    database: str | None,
) -> None:
    monkeypatch_module.setattr(tap, "destination_database", lambda *_: database)
    config = flatten(data)
    context = {
        "connection_id": "c1",
        "group_id": group_id,
        "service": service,
        "connection_schema": connection_schema,
    }
    for name in SCHEMA_STREAMS:
        stream: Any = tap.streams[name]
        for row in stream.rows(config, context):
            assert_trusted(tap, name, {**stream.connection_columns(context), **row})


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch
