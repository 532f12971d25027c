"""Wrong data from a malformed answer or a clock that was ahead (issue 22, item 10).

A malformed destination detail must not wipe ``destination_database`` from that
destination's ``table_lineage`` rows: its rows are left out of the run (no
ACTIVATE_VERSION either), so the target keeps the last good ones. A ``schema_read_at``
in the future (a clock that was ahead once) must not stop schema refreshes until then.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests_mock
from history_helpers import run_capture

from tap_fivetran_meta.rules.recheck import SCHEMA_READ_AT_KEY, SCHEMA_STATE_STREAM, refresh_due

import api_fixtures as fx

API = fx.API
ACTIVATING = {**fx.CONFIG, "emit_activate_version_messages": True}
GROUP = "projected_sickle"  # the destination of the connection with a schema config


def _activated(messages: list[dict[str, Any]]) -> set[str]:
    return {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}


@pytest.fixture
def full_api(api: requests_mock.Mocker) -> requests_mock.Mocker:
    fx.register_per_connection_data(api)
    return api


def test_a_good_detail_names_the_database(full_api: requests_mock.Mocker) -> None:
    run = run_capture(ACTIVATING, streams={"connections", "table_lineage"})
    rows = run.records("table_lineage")
    assert rows
    assert {r["destination_database"] for r in rows} == {f"{GROUP.upper()}_DB"}
    assert "table_lineage" in _activated(run.messages)


@pytest.mark.parametrize(
    "detail",
    [
        {"code": "Success", "data": None},
        {"code": "Success", "data": {**fx.DESTINATIONS[0], "config": "oops"}},
        {"code": "Success", "data": {**fx.DESTINATIONS[0], "config": {"database": 17}}},
    ],
    ids=["data null", "config a string", "database a number"],
)
def test_a_malformed_detail_leaves_the_lineage_rows_out_instead_of_wiping_them(
    full_api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture, detail: dict[str, Any]
) -> None:
    full_api.get(f"{API}/destinations/{GROUP}", json=detail)
    run = run_capture(ACTIVATING, streams={"connections", "table_lineage"})
    assert run.error is None
    assert [r for r in run.records("table_lineage") if r["destination_id"] == GROUP] == []
    assert "table_lineage" not in _activated(run.messages)
    assert f"Could not read the database of destination {GROUP}" in caplog.text


def test_a_vanished_destination_is_not_malformed(full_api: requests_mock.Mocker) -> None:
    full_api.get(
        f"{API}/destinations/{GROUP}",
        status_code=404,
        json={"code": "NotFound_Destination", "message": "gone"},
    )
    run = run_capture(ACTIVATING, streams={"connections", "table_lineage"})
    rows = run.records("table_lineage")
    assert rows
    assert {r["destination_database"] for r in rows} == {None}


# --- a schema_read_at in the future -------------------------------------------------------


def test_a_read_time_in_the_future_is_due_at_once() -> None:
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert refresh_due(now + timedelta(days=300), now, timedelta(hours=24), "c1")
    assert not refresh_due(now - timedelta(hours=1), now, timedelta(hours=24), "c1")


def test_a_future_schema_read_at_in_the_state_does_not_stop_refreshes(
    full_api: requests_mock.Mocker,
) -> None:
    first = run_capture(fx.CONFIG, streams={"connections", "connection_schema_settings"})
    state = first.tap.state
    read_at = state["bookmarks"][SCHEMA_STATE_STREAM][SCHEMA_READ_AT_KEY]
    assert read_at
    future = dict.fromkeys(read_at, "2099-01-01T00:00:00Z")
    state["bookmarks"][SCHEMA_STATE_STREAM][SCHEMA_READ_AT_KEY] = future
    second = run_capture(
        fx.CONFIG, state=state, streams={"connections", "connection_schema_settings"}
    )
    assert second.records("connection_schema_settings")
    stamped = second.tap.state["bookmarks"][SCHEMA_STATE_STREAM][SCHEMA_READ_AT_KEY]
    assert not any(value.startswith("2099") for value in stamped.values())
