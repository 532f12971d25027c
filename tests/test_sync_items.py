"""Sync-history items as documented: start (nullable), end, status; the rest stays raw."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tap_fivetran_meta.rules.sync_items import (
    OUTCOMES,
    STATUS_OUTCOMES,
    ConnectionRef,
    duration_seconds,
    outcome,
    parse_sync_item,
    row_digest,
)

REF = ConnectionRef("speak_inexpensive", group_id="projected_sickle", service="postgres")
DOC_ITEM = {
    "start": "2026-03-20T08:18:56.823Z",
    "end": "2026-03-20T08:19:12.094Z",
    "status": "COMPLETED",
}


def test_documented_item_becomes_a_row() -> None:
    assert parse_sync_item(DOC_ITEM, REF) == {
        "connection_id": "speak_inexpensive",
        "started_at": "2026-03-20T08:18:56.823000Z",
        "ended_at": "2026-03-20T08:19:12.094000Z",
        "status": "COMPLETED",
        "outcome": "succeeded",
        "duration_seconds": 15.271,
        "group_id": "projected_sickle",
        "service": "postgres",
        "extra_fields": None,
    }


def test_every_other_field_is_kept_raw() -> None:
    item = {**DOC_ITEM, "sync_id": "b470", "reason": None, "extract": {"records": 5}}
    row = parse_sync_item(item, REF)
    assert row is not None
    assert row["extra_fields"] == {"sync_id": "b470", "reason": None, "extract": {"records": 5}}
    # No column depends on an undocumented field.
    assert set(row) == set(parse_sync_item(DOC_ITEM, REF) or {})


@pytest.mark.parametrize(
    "item",
    [
        {"start": None, "end": None, "status": None},  # queued: documented null start
        {"end": "2026-03-20T08:19:12Z", "status": "COMPLETED"},
        {"start": "not a time", "status": "COMPLETED"},
        "not an object",
        None,
    ],
)
def test_items_without_a_usable_start_are_not_emitted(item: Any) -> None:
    assert parse_sync_item(item, REF) is None


def test_a_running_sync_has_no_end_and_no_status() -> None:
    row = parse_sync_item({"start": "2026-03-20T08:00:00Z", "end": None, "status": None}, REF)
    assert row is not None
    assert row["outcome"] == "running"
    assert row["ended_at"] is None
    assert row["duration_seconds"] is None


def test_a_status_of_an_unexpected_type_is_kept_raw() -> None:
    row = parse_sync_item({**DOC_ITEM, "status": {"code": "COMPLETED"}}, REF)
    assert row is not None
    assert row["status"] is None
    assert row["outcome"] == "other"
    assert row["extra_fields"] == {"status": {"code": "COMPLETED"}}


# One table maps every status: each value documented or seen on the real API, plus the
# same words in Fivetran's log/webhook vocabulary.
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("COMPLETED", "succeeded"),
        ("SUCCESS_WITH_TASK", "succeeded"),
        ("FAILURE_WITH_TASK", "failed"),
        ("CANCELED", "canceled"),
        ("TRUNCATED", "other"),
        ("RESCHEDULED", "rescheduled"),
        ("SUCCESSFUL", "succeeded"),
        ("FAILURE", "failed"),
        ("Cancelled", "canceled"),
        ("success with task", "succeeded"),
        ("SYNCING", "running"),
        ("WEIRD_NEW_STATE", "other"),
    ],
)
def test_outcome_table(status: str, expected: str) -> None:
    assert outcome(status, ended=True) == expected
    assert outcome(status, ended=False) == expected  # the status decides, not the end


def test_no_status_means_running_until_it_ends() -> None:
    assert outcome(None, ended=False) == "running"
    assert outcome("", ended=False) == "running"
    assert outcome(None, ended=True) == "other"


def test_the_outcome_table_only_names_known_outcomes() -> None:
    assert set(STATUS_OUTCOMES.values()) <= set(OUTCOMES)
    assert {"COMPLETED", "SUCCESS_WITH_TASK", "FAILURE_WITH_TASK", "CANCELED", "TRUNCATED"} <= set(
        STATUS_OUTCOMES
    )


def test_duration_is_none_when_end_precedes_start() -> None:
    start = datetime(2026, 3, 20, 8, tzinfo=timezone.utc)
    assert duration_seconds(start, start.replace(hour=7)) is None
    assert duration_seconds(start, None) is None


def test_the_row_digest_changes_with_any_value() -> None:
    row = parse_sync_item(DOC_ITEM, REF)
    assert row is not None
    same = parse_sync_item(dict(reversed(list(DOC_ITEM.items()))), REF)
    assert row_digest(row) == row_digest(same)  # type: ignore[arg-type]
    assert row_digest(row) != row_digest({**row, "status": "FAILURE"})
    assert len(row_digest(row)) == 12


@settings(max_examples=500, deadline=None)
@given(
    # Up to 2100: the test itself adds up to 1e7 minutes (19 years), which must not
    # pass datetime.max (year 9999; such a start once failed the test by chance).
    start=st.datetimes(max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)),
    minutes=st.none() | st.floats(min_value=0, max_value=1e7, allow_nan=False),
    status=st.none() | st.text(max_size=12),
    extra=st.dictionaries(st.text(max_size=5), st.none() | st.text(max_size=5) | st.integers()),
)
# DEL: ASCII that json.dumps escapes and msgspec does not (found by this test, by chance).
@example(start=datetime(2000, 1, 1, tzinfo=timezone.utc), minutes=None, status="\x7f", extra={})
def test_row_digests_equal_those_stored_by_earlier_versions(
    start: datetime, minutes: float | None, status: str | None, extra: dict
) -> None:
    # Earlier versions digested rows with json.dumps; a different digest would make the
    # first run after an upgrade write the rows of every overlap again.
    end = None if minutes is None else start + timedelta(minutes=minutes)
    item = {
        **extra,
        "start": start.isoformat(),
        "end": None if end is None else end.isoformat(),
        "status": status,
    }
    row = parse_sync_item(item, ConnectionRef("c", "g", "s"))
    assert row is not None
    legacy = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    assert row_digest(row) == hashlib.sha256(legacy.encode()).hexdigest()[:12]
