"""Property-based tests: no input the API could send breaks the pure parts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import requests_mock
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_fivetran_meta.rules import health

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)

timestamps = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2030, 1, 1),
        timezones=st.just(timezone.utc),
    ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.text(max_size=30),
    st.integers(),
)
states = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "connected",
            "broken",
            "incomplete",
            "scheduled",
            "syncing",
            "paused",
            "rescheduled",
            "on_schedule",
            "delayed",
            "SYNCING",
        ]
    ),
    st.text(max_size=10),
    st.integers(),
)
connection = st.fixed_dictionaries(
    {
        "paused": st.one_of(st.booleans(), st.none(), st.text(max_size=3)),
        "succeeded_at": timestamps,
        "failed_at": timestamps,
        "sync_frequency": st.one_of(st.none(), st.integers(-10, 10_000), st.text(max_size=5)),
        "status": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "setup_state": states,
                    "sync_state": states,
                    "update_state": states,
                    "is_historical_sync": st.one_of(st.booleans(), st.none()),
                    "tasks": st.one_of(
                        st.none(),
                        st.lists(
                            st.dictionaries(st.text(max_size=3), st.text(max_size=3)), max_size=3
                        ),
                    ),
                    "warnings": st.one_of(st.none(), st.lists(st.just({}), max_size=3)),
                }
            ),
        ),
    }
)


@given(connection)
def test_health_is_total(record: dict[str, Any]) -> None:
    derived = health.derived_columns(record, now=NOW, slack_minutes=60)
    assert derived["health"] in {h.value for h in health.Health}
    assert (
        derived["minutes_since_last_success"] is None or derived["minutes_since_last_success"] >= 0
    )


@given(st.lists(st.integers(1, 5), min_size=1, max_size=6), st.integers(1, 1000))
@settings(max_examples=25, deadline=None)
def test_pagination_over_random_page_splits(splits: list[int], limit: int) -> None:
    """Any split of a list into pages yields every item exactly once, in order."""
    items = [
        {"id": f"g{i}", "name": f"G{i}", "created_at": "2024-01-01T00:00:00Z"}
        for i in range(sum(splits))
    ]
    pages, start = [], 0
    for index, size in enumerate(splits):
        cursor = None if index == len(splits) - 1 else f"c{index}"
        pages.append({"json": fx.page(items[start : start + size], next_cursor=cursor)})
        start += size
    with requests_mock.Mocker() as mocker:
        fx.register(mocker)
        mocker.get(f"{fx.API}/groups", pages)
        result = run_tap({**fx.CONFIG, "page_size": limit}, catalog=catalog_selecting({"groups"}))
        calls = [r for r in mocker.request_history if r.path == "/v1/groups"]
    assert [r["id"] for r in result.records["groups"]] == [i["id"] for i in items]
    assert len(calls) == len(splits)
    assert all(c.qs["limit"] == [str(limit)] for c in calls)


def test_last_sync_succeeded_is_antisymmetric() -> None:
    t = NOW - timedelta(hours=1)
    for a, b in [(t, NOW), (NOW, t), (None, t), (t, None)]:
        first = health.last_sync_succeeded(a, b)
        second = health.last_sync_succeeded(b, a)
        assert first is not None
        assert second is not None
        assert first != second


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
sync_item = st.dictionaries(
    st.sampled_from(
        [
            "sync_id",
            "id",
            "start",
            "started_at",
            "start_time",
            "end",
            "completed_at",
            "end_time",
            "status",
            "reason",
            "extract_records",
            "load_records",
            "process_records",
            "other",
        ]
    ),
    json_values | timestamps,
    max_size=10,
)


@given(st.one_of(sync_item, json_values))
def test_sync_items_parse_or_are_skipped_never_raise(item: Any) -> None:
    from tap_fivetran_meta.rules.sync_items import OUTCOMES, ConnectionRef, parse_sync_item

    row = parse_sync_item(item, ConnectionRef("c1", "g1", "postgres"))
    if row is not None:
        assert row["connection_id"] == "c1"
        assert row["started_at"].endswith("Z")
        assert row["outcome"] in OUTCOMES


@given(
    st.dictionaries(
        st.sampled_from(["replication_key_value", "replication_key", "context", "x"]), json_values
    )
)
def test_bookmark_reading_tolerates_any_stored_state(partition: dict[str, Any]) -> None:
    from tap_fivetran_meta.runtime.partition_state import bookmark_timestamp

    value = bookmark_timestamp(partition, "started_at")
    assert value is None or value.tzinfo is not None


@given(json_values)
def test_scrub_never_keeps_a_mask_or_secret_key(value: Any) -> None:
    from tap_fivetran_meta.rules import redact

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                assert not redact.is_secret_key(str(key))
                assert not redact.is_masked(item)
                walk(item)
        elif isinstance(node, list):
            for item in node:
                assert not redact.is_masked(item)
                walk(item)

    walk(redact.scrub({"config": value, "password": "x", "nested": {"token": "******"}}))
