"""Schema-config streams on requests-mock: one bulk request per connection, skips, budget."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlparse

import pytest
import requests_mock

from api_fixtures import API, CONFIG, ok
from tap_runner import TapRun, catalog_selecting, run_tap

SCHEMA_STREAMS = (
    "connection_schema_settings",
    "connection_schemas",
    "connection_tables",
    "connection_columns",
    "table_lineage",
)


def _column(dest: str, *, pk: bool = False, hashed: bool = False) -> dict[str, Any]:
    return {
        "name_in_destination": dest,
        "enabled": True,
        "hashed": hashed,
        "is_primary_key": pk,
        "enabled_patch_settings": {"allowed": not pk},
    }


def _table(dest: str, *, enabled: bool = True, columns: dict[str, Any] | None = None) -> dict:
    return {
        "name_in_destination": dest,
        "enabled": enabled,
        "sync_mode": "SOFT_DELETE",
        "supports_columns_config": True,
        "supports_history_mode": True,
        "enabled_patch_settings": {"allowed": True},
        "columns": columns or {},
    }


# speak_inexpensive: postgres, connection schema (prefix) "postgres_public", connected.
PG_CONFIG = {
    "schema_change_handling": "ALLOW_COLUMNS",
    "enable_new_by_default": False,
    "schemas": {
        "sales": {
            "name_in_destination": "postgres_public_sales",
            "enabled": True,
            "tables": {
                "orders": _table("orders", columns={"id": _column("id", pk=True)}),
                "Order Items/2024": _table("order_items_2024"),
                "audit": _table(
                    "audit", enabled=False, columns={"ssn": _column("ssn", hashed=True)}
                ),
            },
        },
        "Archive": {
            "name_in_destination": "postgres_public_archive",
            "enabled": False,
            "tables": {"old": _table("old")},
        },
    },
}
# dialectical_remindful: google_sheets "gsheets.budget", paused but connected.
SHEETS_CONFIG = {
    "schema_change_handling": "ALLOW_ALL",
    "enable_new_by_default": True,
    "schemas": {
        "gsheets": {
            "name_in_destination": "gsheets",
            "enabled": True,
            "tables": {"budget": _table("budget")},
        }
    },
}
# broken_arrow (salesforce, broken) keeps the fixture's 404 NotFound_SchemaConfig.

FULL_COLUMNS = {
    "speak_inexpensive/schemas/sales/tables/orders": {
        "id": _column("id", pk=True),
        "amount": _column("amount"),
        "Created": _column("created"),
    },
    "speak_inexpensive/schemas/sales/tables/Order%20Items%2F2024": {"qty": _column("qty")},
    "dialectical_remindful/schemas/gsheets/tables/budget": {
        "month": _column("month"),
        "amount": _column("amount"),
    },
}


@pytest.fixture
def schema_api(api: requests_mock.Mocker) -> requests_mock.Mocker:
    api.get(f"{API}/connections/speak_inexpensive/schemas", json=ok(PG_CONFIG))
    api.get(f"{API}/connections/dialectical_remindful/schemas", json=ok(SHEETS_CONFIG))
    for path, columns in FULL_COLUMNS.items():
        api.get(f"{API}/connections/{path}/columns", json=ok({"columns": columns}))
    return api


def _paths(mocker: requests_mock.Mocker, pattern: str) -> list[str]:
    paths = [urlparse(r.url).path for r in mocker.request_history]
    return [p for p in paths if re.search(pattern, p)]


def _bulk_calls(mocker: requests_mock.Mocker) -> list[str]:
    return _paths(mocker, r"/connections/[^/]+/schemas$")


def _column_calls(mocker: requests_mock.Mocker) -> list[str]:
    return _paths(mocker, r"/columns$")


def _run(streams: set[str], **config: Any) -> TapRun:
    return run_tap({**CONFIG, **config}, catalog=catalog_selecting(streams))


def test_all_streams_share_one_bulk_request_per_connection(
    schema_api: requests_mock.Mocker,
) -> None:
    run = _run({"connections", *SCHEMA_STREAMS})
    assert sorted(_bulk_calls(schema_api)) == [
        "/v1/connections/broken_arrow/schemas",
        "/v1/connections/dialectical_remindful/schemas",
        "/v1/connections/speak_inexpensive/schemas",
    ]
    assert _column_calls(schema_api) == []
    assert {name: run.count(name) for name in SCHEMA_STREAMS} == {
        "connection_schema_settings": 2,
        "connection_schemas": 3,
        "connection_tables": 5,
        "connection_columns": 2,
        "table_lineage": 5,
    }


@pytest.mark.parametrize("stream", SCHEMA_STREAMS)
def test_one_selected_stream_still_makes_one_request_per_connection(
    schema_api: requests_mock.Mocker, stream: str
) -> None:
    run = _run({stream})
    assert len(_bulk_calls(schema_api)) == 3
    assert run.count("connections") == 0
    assert run.count(stream) > 0


def test_filtered_out_connections_cost_no_request(schema_api: requests_mock.Mocker) -> None:
    run = _run(set(SCHEMA_STREAMS), connection_ids=["dialectical_remindful"])
    assert _bulk_calls(schema_api) == ["/v1/connections/dialectical_remindful/schemas"]
    assert {r["connection_id"] for r in run.records["table_lineage"]} == {"dialectical_remindful"}


def test_rows_carry_connection_columns_and_source_names(schema_api: requests_mock.Mocker) -> None:
    run = _run(set(SCHEMA_STREAMS))
    settings = {r["connection_id"]: r for r in run.records["connection_schema_settings"]}
    assert settings["speak_inexpensive"] == {
        "account_id": "acct_xyz",
        "connection_id": "speak_inexpensive",
        "group_id": "projected_sickle",
        "service": "postgres",
        "schema_change_handling": "ALLOW_COLUMNS",
        "enable_new_by_default": False,
        "is_type_locked": None,
        "schema_count": 2,
        "table_count": 4,
        "enabled_table_count": 2,
        "schema_config_column_count": 2,
    }
    tables = {(r["schema_name"], r["table_name"]) for r in run.records["connection_tables"]}
    assert ("sales", "Order Items/2024") in tables
    assert ("Archive", "old") in tables
    for row in run.records["connection_columns"]:
        assert row["config_source"] == "schema_config"
        assert row["in_schema_config"] is True


def test_lineage_rows(schema_api: requests_mock.Mocker) -> None:
    run = _run({"table_lineage"})
    rows = {(r["source_schema"], r["source_table"]): r for r in run.records["table_lineage"]}
    assert rows["sales", "orders"] == {
        "account_id": "acct_xyz",
        "connection_id": "speak_inexpensive",
        "group_id": "projected_sickle",
        "service": "postgres",
        "source_schema": "sales",
        "source_table": "orders",
        "connection_schema": "postgres_public",
        "destination_id": "projected_sickle",
        "destination_database": "PROJECTED_SICKLE_DB",
        "destination_schema": "postgres_public_sales",
        "destination_table": "orders",
        "destination_fqn": "PROJECTED_SICKLE_DB.postgres_public_sales.orders",
        "enabled": True,
        "schema_enabled": True,
        "table_enabled": True,
        "sync_mode": "SOFT_DELETE",
        "lineage_rule": "name_in_destination",
    }
    assert rows["sales", "audit"]["enabled"] is False
    assert rows["Archive", "old"]["enabled"] is False  # enabled table, disabled schema
    assert rows["Archive", "old"]["table_enabled"] is True
    sheet = rows["gsheets", "budget"]
    assert sheet["destination_fqn"] == "SCHOOLMASTER_HEEDLESS_DB.gsheets.budget"
    assert sheet["connection_schema"] == "gsheets.budget"
    # One destination detail call per group, not per connection or table.
    assert len(_paths(schema_api, r"^/v1/destinations/")) == 2


def test_missing_schema_config_is_skipped_and_summarized(
    schema_api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        _run(set(SCHEMA_STREAMS))
    summaries = [r for r in caplog.records if "rows from" in r.getMessage()]
    assert len(summaries) == len(SCHEMA_STREAMS)
    for record in summaries:
        # A connection never synced has no config yet: normal, so not a warning.
        assert "1 have no schema config yet" in record.getMessage()
        assert "skipped parents: none." in record.getMessage()
        assert record.levelno == logging.INFO
    lineage = next(r.getMessage() for r in summaries if "'table_lineage'" in r.getMessage())
    assert "5 rows from 2 connections" in lineage


def test_config_without_data_counts_as_skipped(
    schema_api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    schema_api.get(f"{API}/connections/dialectical_remindful/schemas", json=ok(None))
    with caplog.at_level(logging.INFO):
        run = _run({"table_lineage", "connection_tables"})
    assert len(_bulk_calls(schema_api)) == 3
    assert run.count("table_lineage") == 4
    messages = [r.getMessage() for r in caplog.records if "rows from" in r.getMessage()]
    # A Success without a config object is malformed: skipped and counted as such.
    assert all("skipped parents: MalformedAnswer=1." in m for m in messages)
    assert all("1 have no schema config yet" in m for m in messages)


def test_no_config_yet_anywhere_is_info_not_a_warning(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        run = _run({"table_lineage"})
    assert run.count("table_lineage") == 0
    (summary,) = [r for r in caplog.records if "rows from" in r.getMessage()]
    assert summary.levelno == logging.INFO
    assert "No row at all" not in summary.getMessage()
    assert "3 have no schema config yet" in summary.getMessage()


def test_configs_read_without_a_lineage_row_is_a_warning(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    # Configs were read (every connection has one) and not one table came out of them.
    for connection in ("speak_inexpensive", "dialectical_remindful", "broken_arrow"):
        api.get(f"{API}/connections/{connection}/schemas", json=ok({"schemas": {}}))
    with caplog.at_level(logging.INFO):
        run = _run({"table_lineage"})
    assert run.count("table_lineage") == 0
    (summary,) = [r for r in caplog.records if "rows from" in r.getMessage()]
    assert summary.levelno == logging.WARNING
    assert "0 rows from 3 connections" in summary.getMessage()
    assert "No row at all" in summary.getMessage()


def test_malformed_entry_keeps_the_rest_of_the_connection(
    schema_api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {"schemas": {**PG_CONFIG["schemas"], "junk": "not an object"}}
    schema_api.get(f"{API}/connections/speak_inexpensive/schemas", json=ok(broken))
    run = _run({"table_lineage"})
    assert run.count("table_lineage") == 5
    assert any("schemas['junk']: not an object" in r.getMessage() for r in caplog.records)


def test_destination_database_unreadable_leaves_it_null(schema_api: requests_mock.Mocker) -> None:
    schema_api.get(
        re.compile(rf"{re.escape(API)}/destinations/[^/]+$"),
        status_code=403,
        json={"code": "Forbidden", "message": "no access"},
    )
    run = _run({"table_lineage"})
    assert run.count("table_lineage") == 5
    for row in run.records["table_lineage"]:
        assert row["destination_database"] is None
        assert row["destination_fqn"] == f"{row['destination_schema']}.{row['destination_table']}"
    # One failed lookup per group, not one per connection.
    assert len(_paths(schema_api, r"^/v1/destinations/")) == 2


# --- column details (opt-in) -----------------------------------------------------------


def test_column_details_off_makes_no_per_table_request(schema_api: requests_mock.Mocker) -> None:
    run = _run({"connection_columns"})
    assert _column_calls(schema_api) == []
    assert run.count("connection_columns") == 2


def test_column_details_read_enabled_tables_of_connected_connections(
    schema_api: requests_mock.Mocker,
) -> None:
    run = _run({"connection_columns"}, column_details=True)
    assert sorted(_column_calls(schema_api)) == [
        "/v1/connections/dialectical_remindful/schemas/gsheets/tables/budget/columns",
        "/v1/connections/speak_inexpensive/schemas/sales/tables/Order%20Items%2F2024/columns",
        "/v1/connections/speak_inexpensive/schemas/sales/tables/orders/columns",
    ]
    assert len(_bulk_calls(schema_api)) == 3  # still one bulk call per connection
    rows = {
        (r["connection_id"], r["table_name"], r["column_name"]): r
        for r in run.records["connection_columns"]
    }
    assert len(rows) == run.count("connection_columns") == 7  # no duplicates
    pk = rows["speak_inexpensive", "orders", "id"]
    assert (pk["config_source"], pk["in_schema_config"]) == ("columns_endpoint", True)
    created = rows["speak_inexpensive", "orders", "Created"]
    assert (created["config_source"], created["in_schema_config"]) == ("columns_endpoint", False)
    assert rows["speak_inexpensive", "Order Items/2024", "qty"]["name_in_destination"] == "qty"
    # A disabled table keeps its bulk rows and costs no request.
    assert rows["speak_inexpensive", "audit", "ssn"]["config_source"] == "schema_config"


def test_column_budget_cuts_the_list_and_warns_once_with_the_count(
    schema_api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        run = _run({"connection_columns"}, column_details=True, column_request_budget=1)
    assert _column_calls(schema_api) == [
        "/v1/connections/speak_inexpensive/schemas/sales/tables/orders/columns"
    ]
    assert run.count("connection_columns") == 4  # orders (3 full) + audit (1 bulk)
    warnings = [r.getMessage() for r in caplog.records if "column_request_budget" in r.getMessage()]
    assert len(warnings) == 1
    assert "not read for 2 enabled tables in 2 connections" in warnings[0]
    assert "budget of 1 requests spent" in warnings[0]


def test_zero_budget_makes_no_per_table_request(schema_api: requests_mock.Mocker) -> None:
    run = _run({"connection_columns"}, column_details=True, column_request_budget=0)
    assert _column_calls(schema_api) == []
    assert run.count("connection_columns") == 2


def test_broken_connection_gets_no_per_table_request(schema_api: requests_mock.Mocker) -> None:
    schema_api.get(f"{API}/connections/broken_arrow/schemas", json=ok(SHEETS_CONFIG))
    _run({"connection_columns"}, column_details=True)
    assert not [p for p in _column_calls(schema_api) if "broken_arrow" in p]


def test_failed_table_falls_back_to_bulk_rows(
    schema_api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    schema_api.get(
        f"{API}/connections/speak_inexpensive/schemas/sales/tables/orders/columns",
        status_code=400,
        json={"code": "InvalidInput", "message": "Source unreachable"},
    )
    with caplog.at_level(logging.INFO):
        run = _run({"connection_columns"}, column_details=True)
    assert len(_column_calls(schema_api)) == 3
    orders = [r for r in run.records["connection_columns"] if r["table_name"] == "orders"]
    assert [(r["column_name"], r["config_source"]) for r in orders] == [("id", "schema_config")]
    assert any("failed: InvalidInput=1" in r.getMessage() for r in caplog.records)


def test_rate_limit_stops_per_table_requests_without_failing_the_run(
    schema_api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    schema_api.get(
        f"{API}/connections/speak_inexpensive/schemas/sales/tables/orders/columns",
        status_code=429,
        headers={"Retry-After": "3600"},
        json={"code": "TooManyRequests", "message": "Source interaction limit"},
    )
    with caplog.at_level(logging.INFO):
        run = _run({"connection_columns"}, column_details=True, max_retry_wait=60)
    assert len(_column_calls(schema_api)) == 1
    assert run.count("connection_columns") == 2  # bulk rows only
    (warning,) = [
        r.getMessage() for r in caplog.records if "column_request_budget" in r.getMessage()
    ]
    assert "2 enabled tables in 2 connections" in warning
    assert "rate limit" in warning


def test_vanished_table_is_skipped(schema_api: requests_mock.Mocker) -> None:
    schema_api.get(
        f"{API}/connections/dialectical_remindful/schemas/gsheets/tables/budget/columns",
        status_code=404,
        json={"code": "NotFound_Table", "message": "gone"},
    )
    run = _run({"connection_columns"}, column_details=True)
    sheets = [r for r in run.records["connection_columns"] if r["table_name"] == "budget"]
    assert sheets == []
    assert run.tap.streams["connection_columns"].skip_counts == {
        "NotFound_SchemaConfig": 1,
        "NotFound_Table": 1,
    }


def _activated(run: TapRun) -> set[str]:
    return {m["stream"] for m in run.messages if m["type"] == "ACTIVATE_VERSION"}


def test_complete_column_details_activate_the_version(schema_api: requests_mock.Mocker) -> None:
    run = _run(
        {"connection_columns", "table_lineage"},
        column_details=True,
        emit_activate_version_messages=True,
    )
    assert _activated(run) == {"connection_columns", "table_lineage"}


def test_cut_column_list_sends_no_activate_version(schema_api: requests_mock.Mocker) -> None:
    run = _run(
        {"connection_columns", "table_lineage"},
        column_details=True,
        column_request_budget=1,
        emit_activate_version_messages=True,
    )
    # Rows of tables left out this run must not be flagged deleted downstream.
    assert _activated(run) == {"table_lineage"}
