"""Flattening of the nested schema-config maps, column merging and the call budget."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tap_fivetran_meta.rules.schema_config import (
    COLUMNS_ENDPOINT,
    SCHEMA_CONFIG,
    CallBudget,
    columns_path,
    endpoint_columns,
    flatten,
    merge_columns,
)

import api_fixtures

# The example of fivetran-api.md §3.4 (shared with the fixture account), plus a second,
# disabled schema and a second table whose name differs from the first only in case.
CONFIG: dict[str, Any] = copy.deepcopy(api_fixtures.SCHEMA_CONFIG)
CONFIG["schemas"]["public"]["tables"]["Employee"] = {
    "name_in_destination": "employee_1",
    "enabled": False,
    "supports_columns_config": False,
    "supports_history_mode": False,
    "enabled_patch_settings": {
        "allowed": False,
        "reason_code": "SYSTEM_TABLE",
        "reason": "Required",
    },
    "columns": {},
}
CONFIG["schemas"]["archive"] = {
    "name_in_destination": "postgres_archive",
    "enabled": False,
    "tables": {},
}
PK_PATCH = CONFIG["schemas"]["public"]["tables"]["employee"]["columns"]["id"][
    "enabled_patch_settings"
]


def test_settings_row_counts_what_was_found() -> None:
    flat = flatten(CONFIG)
    assert flat.settings == {
        "schema_change_handling": "ALLOW_ALL",
        "enable_new_by_default": True,
        "is_type_locked": None,
        "schema_count": 2,
        "table_count": 2,
        "enabled_table_count": 1,
        "schema_config_column_count": 1,
    }
    assert flat.malformed == []


def test_schema_rows() -> None:
    rows = {row["schema_name"]: row for row in flatten(CONFIG).schemas}
    assert rows["public"] == {
        "schema_name": "public",
        "name_in_destination": "postgres_public",
        "enabled": True,
        "table_count": 2,
        "enabled_table_count": 1,
    }
    assert rows["archive"]["enabled"] is False
    assert rows["archive"]["table_count"] == 0


def test_table_rows_keep_case_sensitive_keys_and_flatten_patch_settings() -> None:
    tables = {(t["schema_name"], t["table_name"]): t for t in flatten(CONFIG).tables}
    assert set(tables) == {("public", "employee"), ("public", "Employee")}
    lower = tables["public", "employee"]
    assert lower["name_in_destination"] == "employee"
    assert lower["sync_mode"] == "SOFT_DELETE"
    assert lower["schema_enabled"] is True
    assert lower["schema_name_in_destination"] == "postgres_public"
    assert lower["enabled_patch_settings"] == {"allowed": True, "reason_code": None, "reason": None}
    upper = tables["public", "Employee"]
    assert upper["sync_mode"] is None  # only present when switchable
    assert upper["enabled_patch_settings"]["reason_code"] == "SYSTEM_TABLE"


def test_column_rows_come_from_the_bulk_config() -> None:
    (column,) = flatten(CONFIG).columns
    assert column == {
        "schema_name": "public",
        "table_name": "employee",
        "column_name": "id",
        "name_in_destination": "id",
        "enabled": True,
        "hashed": False,
        "is_primary_key": True,
        "enabled_patch_settings": PK_PATCH,
        "config_source": SCHEMA_CONFIG,
        "in_schema_config": True,
    }


def test_one_bad_entry_costs_only_itself() -> None:
    config = {
        "schemas": {
            "good": {
                "name_in_destination": "good",
                "enabled": True,
                "tables": {
                    "t1": {"name_in_destination": "t1", "enabled": True, "columns": {"c": 5}},
                    "t2": "garbage",
                    "t3": {"name_in_destination": "t3", "enabled": "yes", "columns": None},
                },
            },
            "bad": ["not", "a", "map"],
            "no_tables": {"name_in_destination": "nt", "enabled": True, "tables": []},
        }
    }
    flat = flatten(config)
    assert [s["schema_name"] for s in flat.schemas] == ["good", "no_tables"]
    assert [t["table_name"] for t in flat.tables] == ["t1", "t3"]
    assert flat.tables[1]["enabled"] is None  # wrong type: None, the row stays
    assert flat.columns == []
    assert sorted(flat.malformed) == [
        "schemas['bad']: not an object",
        "schemas['good'].tables['t1'].columns['c']: not an object",
        "schemas['good'].tables['t2']: not an object",
        "schemas['no_tables'].tables: not an object",
    ]


def test_empty_or_odd_payloads_give_no_rows() -> None:
    for data in (None, {}, {"schemas": None}, {"schemas": {}}, [], "x"):
        flat = flatten(data)
        assert flat.schemas == flat.tables == flat.columns == []
        assert flat.settings["schema_count"] == 0


def test_merge_prefers_the_full_list_and_keeps_bulk_only_columns() -> None:
    bulk = flatten(
        {
            "schemas": {
                "s": {
                    "tables": {
                        "t": {
                            "columns": {
                                "id": {"name_in_destination": "id", "enabled": True},
                                "gone": {"name_in_destination": "gone", "enabled": False},
                            }
                        }
                    }
                }
            }
        }
    ).columns
    full, malformed = endpoint_columns(
        {
            "columns": {
                "id": {"name_in_destination": "id", "enabled": True, "hashed": True},
                "Name": {"name_in_destination": "name", "enabled": True, "hashed": False},
                "bad": 1,
            }
        }
    )
    assert malformed == ["columns['bad']: not an object"]
    rows = merge_columns("s", "t", bulk, full)
    by_name = {row["column_name"]: row for row in rows}
    assert list(by_name) == ["id", "Name", "gone"]
    assert by_name["id"]["config_source"] == COLUMNS_ENDPOINT
    assert by_name["id"]["hashed"] is True  # the endpoint's values win
    assert by_name["id"]["in_schema_config"] is True
    assert by_name["Name"]["in_schema_config"] is False
    assert by_name["gone"]["config_source"] == SCHEMA_CONFIG


def test_columns_path_percent_encodes_every_name() -> None:
    assert (
        columns_path("conn_1", "My Schema", "Orders/2024?x#y")
        == "/connections/conn_1/schemas/My%20Schema/tables/Orders%2F2024%3Fx%23y/columns"
    )
    assert columns_path("c", "ü", "a.b") == "/connections/c/schemas/%C3%BC/tables/a.b/columns"


def test_budget_counts_left_out_tables_and_connections() -> None:
    budget = CallBudget(2)
    assert [budget.take(c) for c in ("a", "a", "a", "b")] == [True, True, False, False]
    assert budget.used == 2
    assert budget.left_out == 2
    assert budget.left_out_connections == {"a", "b"}


def test_budget_stop_refuses_the_rest_and_keeps_the_first_reason() -> None:
    budget = CallBudget(10)
    assert budget.take("a")
    budget.stop("rate limited")
    budget.stop("other")
    assert not budget.take("a")
    assert budget.stopped == "rate limited"
    assert budget.left_out == 1


def test_zero_budget_takes_nothing() -> None:
    budget = CallBudget(0)
    assert not budget.take("a")
    assert budget.used == 0


names = st.text(min_size=1, max_size=8)
column = st.fixed_dictionaries({"name_in_destination": names, "enabled": st.booleans()})
table = st.fixed_dictionaries(
    {
        "name_in_destination": names,
        "enabled": st.booleans(),
        "columns": st.dictionaries(names, column, max_size=3),
    }
)
schema = st.fixed_dictionaries(
    {
        "name_in_destination": names,
        "enabled": st.booleans(),
        "tables": st.dictionaries(names, table, max_size=3),
    }
)


@given(st.dictionaries(names, schema, max_size=4))
def test_one_row_per_map_entry(schemas: dict[str, Any]) -> None:
    flat = flatten({"schemas": schemas})
    assert len(flat.schemas) == len(schemas)
    assert len(flat.tables) == sum(len(s["tables"]) for s in schemas.values())
    assert len(flat.columns) == sum(
        len(t["columns"]) for s in schemas.values() for t in s["tables"].values()
    )
    keys = {(t["schema_name"], t["table_name"]) for t in flat.tables}
    assert len(keys) == len(flat.tables)  # primary keys are unique
    assert flat.malformed == []
