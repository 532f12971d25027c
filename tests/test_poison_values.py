"""Lone surrogates and NUL in REST strings (issue 22, item 6).

A lone surrogate cannot be written as UTF-8 and a NUL makes target-postgres refuse the
whole load. Either, in any REST string (a name, an id, a key of the schema config), is
replaced (surrogate -> U+FFFD) or dropped (NUL), with one warning naming the object.
"""

from __future__ import annotations

import json
import logging

import pytest
import requests_mock
from history_helpers import run_capture

from tap_fivetran_meta.api import payload
from tap_fivetran_meta.rules.unstorable import (
    REPLACEMENT,
    Cleaning,
    clean_unstorable,
    may_hold_unstorable,
)

import api_fixtures as fx

API = fx.API


def test_the_raw_body_check_finds_only_the_poison_escapes() -> None:
    assert may_hold_unstorable(b'{"a":"x\\u0000y"}')
    assert may_hold_unstorable(b'{"a":"\\uD800"}')
    assert may_hold_unstorable(b'{"a":"\\udfff"}')
    assert not may_hold_unstorable(b'{"a":"\\u00e9 caf\\u00e9"}')
    assert not may_hold_unstorable('{"a":"caf\u00e9 \U0001f600"}'.encode())


def test_cleaning_replaces_and_names_the_object() -> None:
    found = Cleaning()
    value = json.loads('{"id":"c1","name":"a\\ud800b\\u0000c","nested":{"k\\u0000":["\\udc00"]}}')
    cleaned = clean_unstorable(value, found)
    assert cleaned == {"id": "c1", "name": f"a{REPLACEMENT}bc", "nested": {"k": [REPLACEMENT]}}
    assert found.strings == 3
    assert found.objects == ["c1"]
    # A valid surrogate pair (an emoji) is one character after parsing and stays.
    emoji = json.loads('"\\ud83d\\ude00"')
    assert clean_unstorable(emoji, Cleaning()) == "\U0001f600"


def _poisoned_connections() -> str:
    items = json.dumps(fx.page(fx.CONNECTIONS))
    first = fx.CONNECTIONS[0]
    return items.replace(
        json.dumps(first["schema"]), json.dumps(first["schema"])[:-1] + '\\ud800\\u0000"', 1
    )


def test_poisoned_names_are_written_storable_with_one_warning(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    payload._WARNED.clear()  # once per endpoint and process: start from none
    fx.register_per_connection_data(api)
    api.get(f"{API}/connections", text=_poisoned_connections())
    config = json.dumps(fx.ok(fx.SCHEMA_CONFIG))
    schema_name = next(iter(fx.SCHEMA_CONFIG["schemas"]))
    config = config.replace(f'"{schema_name}"', f'"{schema_name}\\u0000\\udc80"', 1)
    api.get(f"{API}/connections/speak_inexpensive/schemas", text=config)
    with caplog.at_level(logging.WARNING):
        run = run_capture(fx.CONFIG, streams={"connections", "connection_tables"})
    assert run.error is None
    for message in run.messages:
        line = json.dumps(message, ensure_ascii=False)
        line.encode("utf-8")  # would fail on a lone surrogate
        assert "\x00" not in line
        assert "\\u0000" not in line
    names = [r["schema"] for r in run.records("connections")]
    assert any(name.endswith(REPLACEMENT) for name in names)
    tables = run.records("connection_tables")
    assert tables
    assert all(REPLACEMENT in t["schema_name"] for t in tables)
    warnings = [r.getMessage() for r in caplog.records if "lone UTF-16 surrogate" in r.getMessage()]
    assert len(warnings) == 2  # one per resource: /v1/connections and its schemas
    assert "'speak_inexpensive'" in warnings[0]
