"""``account_id`` on every row of every stream, from one /account/info request per run."""

from __future__ import annotations

import copy
from collections import Counter
from typing import TYPE_CHECKING

import pytest
import requests_mock

from tap_fivetran_meta.api.errors import FivetranAPIError
from tap_fivetran_meta.runtime.account_scope import ACCOUNT_ID, with_account_id
from tap_fivetran_meta.streams import STREAM_TYPES
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

if TYPE_CHECKING:
    from pathlib import Path

API = fx.API


def test_every_stream_schema_has_a_required_account_id() -> None:
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    assert {stream.name for stream in STREAM_TYPES} == set(tap.streams)
    for name, stream in tap.streams.items():
        column = stream.schema["properties"][ACCOUNT_ID]
        assert column["type"] == ["string"], name  # never null
        assert ACCOUNT_ID in stream.schema["required"], name
        assert column.get("description"), name
    discovered = {e["stream"]: e["schema"] for e in tap.catalog_dict["streams"]}
    assert all(ACCOUNT_ID in schema["properties"] for schema in discovered.values())


def test_every_record_of_every_stream_carries_the_account(
    api: requests_mock.Mocker, tmp_path: Path
) -> None:
    fx.register_per_connection_data(api)
    inbox = fx.make_webhook_inbox(tmp_path / "inbox.sqlite")
    # schema_refresh_hours 0: the second run reads the schema configs again at once.
    config = {**fx.CONFIG, "webhook_inbox_path": inbox, "schema_refresh_hours": 0}
    baseline = run_tap(config)  # schema_changes' first read only records a baseline
    changed = copy.deepcopy(fx.SCHEMA_CONFIG)
    changed["schemas"]["public"]["tables"]["employee"]["enabled"] = False
    api.get(f"{API}/connections/speak_inexpensive/schemas", json=fx.ok(changed))
    api.reset_mock()
    result = run_tap(config, state=baseline.final_state)
    records = {**baseline.records, "schema_changes": result.records.get("schema_changes", [])}
    assert {n for n, rows in records.items() if rows} == {s.name for s in STREAM_TYPES}
    for name, rows in [*records.items(), *result.records.items()]:
        assert all(r.get(ACCOUNT_ID) == fx.ACCOUNT["account_id"] for r in rows), name
    requests = Counter(r.path for r in api.request_history)
    assert requests["/v1/account/info"] == 1  # shared by the account stream and every row


def test_a_run_that_emits_nothing_asks_nothing(api: requests_mock.Mocker) -> None:
    api.reset_mock()
    result = run_tap(fx.CONFIG, catalog=catalog_selecting({"webhook_events"}))
    assert result.records == {}
    assert api.request_history == []


def test_account_stream_not_selected_still_stamps_rows(api: requests_mock.Mocker) -> None:
    result = run_tap(fx.CONFIG, catalog=catalog_selecting({"groups"}))
    assert "account" not in result.records
    assert {r[ACCOUNT_ID] for r in result.records["groups"]} == {"acct_xyz"}


def test_keys_that_are_not_globally_unique_include_the_account() -> None:
    keys = {stream.name: tuple(stream.primary_keys or ()) for stream in STREAM_TYPES}
    assert keys["roles"] == ("account_id", "name")
    assert keys["connector_types"] == ("account_id", "id")
    assert keys["account"] == ("account_id",)


def test_account_info_without_an_account_id_fails_clearly(api: requests_mock.Mocker) -> None:
    api.get(f"{API}/account/info", json=fx.ok({"account_name": "Acme Inc"}))
    with pytest.raises(FivetranAPIError, match="without an account_id"):
        run_tap(fx.CONFIG, catalog=catalog_selecting({"groups"}))


def test_with_account_id_keeps_a_stream_own_column_and_copies_the_rest() -> None:
    own = {"properties": {"account_id": {"type": ["string"]}, "id": {}}, "required": ["id"]}
    assert with_account_id(own) is own
    plain = {"type": "object", "properties": {"id": {"type": ["string"]}}, "required": ["id"]}
    scoped = with_account_id(plain)
    assert list(scoped["properties"]) == ["account_id", "id"]
    assert scoped["required"] == ["account_id", "id"]
    assert plain == {
        "type": "object",
        "properties": {"id": {"type": ["string"]}},
        "required": ["id"],
    }
