"""Tolerant parsing of sync-history items (field names are partly unconfirmed)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from tap_fivetran_meta.sync_items import (
    ConnectionRef,
    duration_seconds,
    outcome,
    parse_sync_item,
    row_digest,
    stage_figures,
)

REF = ConnectionRef("speak_inexpensive", "projected_sickle", "postgres")
DOC_ITEM = {
    "sync_id": "b4703f73-6315-4e22-8d7a-3bfb18b2fed2",
    "start": "2026-03-20T08:18:56.823Z",
    "end": "2026-03-20T08:19:12.094Z",
    "status": "COMPLETED",
    "reason": None,
}


def test_the_documented_best_guess_item() -> None:
    row = parse_sync_item(DOC_ITEM, REF)
    assert row == {
        "connection_id": "speak_inexpensive",
        "sync_key": "b4703f73-6315-4e22-8d7a-3bfb18b2fed2",
        "sync_id": "b4703f73-6315-4e22-8d7a-3bfb18b2fed2",
        "started_at": "2026-03-20T08:18:56.823000Z",
        "ended_at": "2026-03-20T08:19:12.094000Z",
        "status": "COMPLETED",
        "outcome": "succeeded",
        "reason": None,
        "duration_seconds": 15.271,
        "extract_records": None,
        "process_records": None,
        "load_records": None,
        "group_id": "projected_sickle",
        "service": "postgres",
        "stage_figures": None,
        "extra_fields": None,
    }


@pytest.mark.parametrize(
    ("start_name", "end_name"),
    [
        ("start", "end"),
        ("started_at", "completed_at"),
        ("start_time", "end_time"),
        ("startedAt", "completedAt"),
        ("started_at", "finished_at"),
    ],
)
def test_start_and_end_under_any_known_name(start_name: str, end_name: str) -> None:
    item = {start_name: "2026-03-20T08:00:00Z", end_name: "2026-03-20T08:30:00.5+00:00"}
    row = parse_sync_item(item, REF)
    assert row is not None
    assert row["started_at"] == "2026-03-20T08:00:00.000000Z"
    assert row["ended_at"] == "2026-03-20T08:30:00.500000Z"
    assert row["duration_seconds"] == 1800.5
    assert row["extra_fields"] is None


def test_timestamps_are_normalised_to_utc() -> None:
    row = parse_sync_item({"start": "2026-03-20T10:00:00+02:00"}, REF)
    assert row is not None
    assert row["started_at"] == "2026-03-20T08:00:00.000000Z"


@pytest.mark.parametrize(
    "item",
    [
        {"sync_id": "x", "start": None, "status": "SCHEDULED"},
        {"sync_id": "x", "status": "QUEUED"},
        {"start": "not a time"},
        "not an object",
        None,
        ["a", "list"],
    ],
)
def test_items_without_a_usable_start_are_ignored(item: Any) -> None:
    assert parse_sync_item(item, REF) is None


def test_an_unparseable_start_candidate_falls_through_to_the_next_name() -> None:
    row = parse_sync_item({"start": "garbage", "started_at": "2026-03-20T08:00:00Z"}, REF)
    assert row is not None
    assert row["started_at"] == "2026-03-20T08:00:00.000000Z"
    assert row["extra_fields"] == {"start": "garbage"}


def test_a_running_sync_has_no_end_and_no_duration() -> None:
    row = parse_sync_item(
        {"sync_id": "r", "start": "2026-03-20T08:00:00Z", "end": None, "status": "SYNCING"}, REF
    )
    assert row is not None
    assert row["ended_at"] is None
    assert row["duration_seconds"] is None
    assert row["outcome"] == "running"
    assert row["extra_fields"] is None  # a null 'end' is understood, not unknown


def test_without_sync_id_the_key_is_the_start() -> None:
    row = parse_sync_item({"start": "2026-03-20T08:18:56.823Z", "status": "COMPLETED"}, REF)
    assert row is not None
    assert row["sync_id"] is None
    assert row["sync_key"] == "start:2026-03-20T08:18:56.823000Z"


def test_numeric_sync_id_becomes_text() -> None:
    row = parse_sync_item({"id": 12345, "start": "2026-03-20T08:00:00Z"}, REF)
    assert row is not None
    assert row["sync_id"] == "12345"
    assert row["sync_key"] == "12345"


def test_structured_reason_is_kept_as_json_text() -> None:
    item = {
        "start": "2026-03-20T08:00:00Z",
        "end": "2026-03-20T08:01:00Z",
        "status": "FAILURE_WITH_TASK",
        "reason": {"task": "reconnect", "text": "Token expired"},
    }
    row = parse_sync_item(item, REF)
    assert row is not None
    assert row["outcome"] == "failed"
    assert row["reason"] == '{"task": "reconnect", "text": "Token expired"}'


def test_figures_unknown_fields_and_known_record_counts() -> None:
    item = {
        **DOC_ITEM,
        "extract_records": 100,
        "processed_rows": "90",  # a string is a figure for nobody
        "load_records": Decimal("88"),
        "extract_time_s": Decimal("1.5"),
        "total": {"bytes": 2048, "tables": 3},
        "process": {"note": "text"},  # not all numbers: stays unparsed
        "trigger": "schedule",
    }
    row = parse_sync_item(item, REF)
    assert row is not None
    assert row["extract_records"] == 100
    assert row["process_records"] is None
    assert row["load_records"] == 88
    assert row["stage_figures"] == {
        "extract_records": 100,
        "load_records": Decimal("88"),
        "extract_time_s": Decimal("1.5"),
        "total_bytes": 2048,
        "total_tables": 3,
    }
    assert row["extra_fields"] == {
        "processed_rows": "90",
        "process": {"note": "text"},
        "trigger": "schedule",
    }


def test_nested_stage_objects_fill_the_record_columns() -> None:
    item = {**DOC_ITEM, "extract": {"records": 7}, "load": {"rows": 6}}
    row = parse_sync_item(item, REF)
    assert row is not None
    assert row["extract_records"] == 7
    assert row["load_records"] == 6


def test_stage_figures_ignore_booleans() -> None:
    figures, sources = stage_figures({"extract_done": True, "load_records": 3})
    assert figures == {"load_records": 3}
    assert sources == {"load_records"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("COMPLETED", "succeeded"),
        ("SUCCESSFUL", "succeeded"),
        ("success_with_task", "succeeded"),
        ("FAILURE_WITH_TASK", "failed"),
        ("FAILURE", "failed"),
        ("TRUNCATED", "failed"),
        ("RESCHEDULED", "rescheduled"),
        ("CANCELED", "canceled"),
        ("Cancelled", "canceled"),
        ("PARTIAL_FAILURE", "failed"),
        ("WEIRD_NEW_STATE", "unknown"),
        (None, "unknown"),
    ],
)
def test_outcome_of_ended_syncs(status: str | None, expected: str) -> None:
    assert outcome(status, ended=True) == expected


def test_a_sync_without_end_is_running_whatever_its_status() -> None:
    assert outcome("COMPLETED", ended=False) == "running"


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
