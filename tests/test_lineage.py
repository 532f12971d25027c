"""Destination naming rules for table lineage (examples match docs/lineage.md)."""

from __future__ import annotations

import pytest

from tap_fivetran_meta.rules import lineage
from tap_fivetran_meta.rules.lineage import (
    DestinationName,
    destination_fqn,
    destination_name,
    fivetran_style_name,
    split_schema_table,
)


def name(
    connection_schema: str | None,
    source_schema: str,
    schema_nid: str | None,
    source_table: str,
    table_nid: str | None,
    *,
    multi_schema: bool = False,
) -> DestinationName:
    return destination_name(
        connection_schema=connection_schema,
        source_schema=source_schema,
        schema_name_in_destination=schema_nid,
        source_table=source_table,
        table_name_in_destination=table_nid,
        multi_schema=multi_schema,
    )


def test_database_connector_uses_the_config_names() -> None:
    got = name("pg_prod", "public", "pg_prod_public", "Orders", "orders", multi_schema=True)
    assert got == DestinationName("pg_prod_public", "orders", lineage.NAME_IN_DESTINATION)


def test_saas_connector_uses_the_config_names() -> None:
    got = name(
        "salesforce", "salesforce", "salesforce", "OpportunityLineItem", "opportunity_line_item"
    )
    assert got == DestinationName("salesforce", "opportunity_line_item", "name_in_destination")


def test_renamed_destination_table_wins_over_the_source_name() -> None:
    assert name("hubspot", "hubspot", "hubspot", "contact", "contact_v2").table == "contact_v2"


def test_file_connector_with_config_names() -> None:
    got = name("gsheets.budget", "gsheets", "gsheets", "budget", "budget")
    assert got == DestinationName("gsheets", "budget", "name_in_destination")


def test_dotted_connection_name_given_as_schema_name_is_split() -> None:
    got = name("gsheets.budget", "gsheets.budget", "gsheets.budget", "sheet1", "budget")
    assert got == DestinationName("gsheets", "budget", lineage.SCHEMA_DOT_TABLE)


def test_dotted_connection_name_fills_missing_names() -> None:
    got = name("s3_files.exports", "s3_files", None, "exports", None)
    assert got == DestinationName("s3_files", "exports", "schema_dot_table")


def test_missing_schema_name_in_multi_schema_config_uses_the_prefix_rule() -> None:
    got = name("azure_sql_db", "Schema1", None, "t", "t", multi_schema=True)
    assert got == DestinationName("azure_sql_db_schema1", "t", lineage.SCHEMA_PREFIX)


def test_missing_schema_name_in_single_schema_config_uses_the_connection_name() -> None:
    got = name("stripe", "stripe", None, "charge", "charge")
    assert got == DestinationName("stripe", "charge", lineage.CONNECTION_SCHEMA)


def test_missing_table_name_is_normalized_and_rules_are_joined() -> None:
    got = name("stripe", "stripe", None, "BalanceTransaction", None)
    assert got == DestinationName(
        "stripe", "balance_transaction", "connection_schema+normalized_source_name"
    )


def test_nothing_known_about_the_schema() -> None:
    got = name(None, "s", None, "t", "t")
    assert got == DestinationName(None, "t", lineage.UNKNOWN)


@pytest.mark.parametrize(
    ("connection_schema", "expected"),
    [
        ("gsheets.budget", ("gsheets", "budget")),
        ("fivetran_google_sheets.fivetran_google_sheets", ("fivetran_google_sheets",) * 2),
        ("a.b.c", ("a", "b.c")),
        ("postgres", None),
        (".x", None),
        ("x.", None),
        ("", None),
        (None, None),
    ],
)
def test_split_schema_table(
    connection_schema: str | None, expected: tuple[str, str] | None
) -> None:
    assert split_schema_table(connection_schema) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Order Items", "order_items"),
        ("OpportunityLineItem", "opportunity_line_item"),
        ("HTTPRequestLog", "http_request_log"),
        ("2024 Q1", "_2024_q1"),
        ("Café-Ventes", "cafe_ventes"),
        ("already_snake", "already_snake"),
        ("__x__", "x"),
        ("!!!", "_"),
    ],
)
def test_fivetran_style_name(source: str, expected: str) -> None:
    assert fivetran_style_name(source) == expected


def test_fqn() -> None:
    assert (
        destination_fqn("ANALYTICS", "pg_prod_public", "orders")
        == "ANALYTICS.pg_prod_public.orders"
    )
    assert destination_fqn(None, "pg_prod_public", "orders") == "pg_prod_public.orders"
    assert destination_fqn("db", None, "orders") is None
    assert destination_fqn("db", "s", None) is None
