"""connection_status_history: fingerprints, change detection and its state."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests_mock
from history_helpers import NOW, Clock, FakeHistory, freeze_tap_clock, partitions, run_capture

from tap_fivetran_meta.rules.status_history import (
    DELETED,
    DELETED_FINGERPRINT,
    FINGERPRINT_FIELDS,
    change_id,
    deleted_row,
    fingerprint,
    issue_codes,
    issue_rows,
    status_row,
    status_snapshot,
)
from tap_fivetran_meta.runtime.partition_state import clear_transient, commit

import api_fixtures

C1, C2, C3 = (c["id"] for c in api_fixtures.CONNECTIONS)
CONFIG = dict(api_fixtures.CONFIG)
STREAM = "connection_status_history"
ISSUES = "connection_status_issues"

PROCESSED = {
    "id": C1,
    "group_id": "projected_sickle",
    "service": "postgres",
    "paused": False,
    "status": {
        "schema_status": "ready",
        "tasks": [{"code": "reconnect"}, {"code": "a_task"}],
        "warnings": [{"code": "resync_table_warning", "details": {}}],
    },
    "setup_state": "connected",
    "sync_state": "scheduled",
    "update_state": "on_schedule",
    "is_historical_sync": False,
    "rescheduled_for": None,
    "succeeded_at": "2026-11-26T23:31:40.870000Z",
    "failed_at": None,
    "last_sync_completed_at": "2026-11-26T23:31:40.870000Z",
    "last_sync_succeeded": True,
    "health": "healthy",
    "sync_frequency": 360,
    "schedule_type": "auto",
    "daily_sync_time": None,
    "schedule": {"schedule_type": "INTERVAL", "interval": 360},
    "minutes_since_last_success": 12,
    "is_fresh": True,
    "observed_at": "2026-11-27T12:00:00.000000Z",
}


# --- pure logic ------------------------------------------------------------------------


def test_issue_codes_are_sorted_and_distinct() -> None:
    tasks = [{"code": "b"}, {"code": "a"}, {"code": "b"}, {"message": "no code"}, "junk"]
    assert issue_codes(tasks) == ["a", "b"]
    assert issue_codes(None) == []


def test_the_snapshot_reads_the_processed_connection() -> None:
    snapshot = status_snapshot(PROCESSED)
    assert snapshot["task_codes"] == ["a_task", "reconnect"]
    assert snapshot["warning_codes"] == ["resync_table_warning"]
    assert snapshot["schema_status"] == "ready"
    assert set(FINGERPRINT_FIELDS) <= set(snapshot)


@pytest.mark.parametrize(
    "noise",
    [
        {"observed_at": "2026-11-28T00:00:00.000000Z"},
        {"minutes_since_last_success": 999},
        {"is_fresh": False},
        {"schema": "renamed_schema"},
        {"status": {**PROCESSED["status"], "tasks": [{"code": "a_task"}, {"code": "reconnect"}]}},
        {"status": {**PROCESSED["status"], "warnings": [{"code": "resync_table_warning"}]}},
        {"schedule": {"interval": 360, "schedule_type": "INTERVAL"}},
    ],
)
def test_the_fingerprint_ignores_time_and_presentation(noise: dict[str, Any]) -> None:
    assert fingerprint(status_snapshot({**PROCESSED, **noise})) == fingerprint(
        status_snapshot(PROCESSED)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"paused": True},
        {"setup_state": "broken"},
        {"sync_state": "syncing"},
        {"update_state": "delayed"},
        {"is_historical_sync": True},
        {"rescheduled_for": "2026-11-27T13:00:00.000000Z"},
        {"succeeded_at": "2026-11-27T05:31:40.870000Z"},
        {"failed_at": "2026-11-27T05:31:40.870000Z"},
        {"health": "stale"},
        {"status": {**PROCESSED["status"], "tasks": []}},
        {"status": {**PROCESSED["status"], "warnings": [{"code": "other"}]}},
        {"status": {**PROCESSED["status"], "schema_status": "blocked_on_capture"}},
        {"sync_frequency": 60},
        {"schedule_type": "manual"},
        {"daily_sync_time": "03:00"},
        {"schedule": {"schedule_type": "CRON", "cron": ["0 * * * *"]}},
    ],
)
def test_the_fingerprint_changes_with_every_status_field(change: dict[str, Any]) -> None:
    assert fingerprint(status_snapshot({**PROCESSED, **change})) != fingerprint(
        status_snapshot(PROCESSED)
    )


def test_the_row_links_to_the_previous_fingerprint() -> None:
    row = status_row(PROCESSED, observed_at="2026-11-27T12:00:00.000000Z", previous_fingerprint="x")
    assert row["connection_id"] == C1
    assert row["previous_fingerprint"] == "x"
    assert len(row["fingerprint"]) == 16
    assert "minutes_since_last_success" not in row


def test_the_change_id_depends_on_the_change_not_on_the_run() -> None:
    def key(observed_at: str, previous: tuple[str | None, str | None]) -> str:
        row = status_row(
            PROCESSED,
            observed_at=observed_at,
            previous_observed_at=previous[0],
            previous_fingerprint=previous[1],
        )
        return str(row["change_id"])

    first = key("2026-11-27T12:00:00.000000Z", ("2026-11-26T12:00:00.000000Z", "f0"))
    # The same change sent again by a later (resumed) run: same key.
    assert key("2026-11-27T18:00:00.000000Z", ("2026-11-26T12:00:00.000000Z", "f0")) == first
    assert len(first) == 16
    assert int(first, 16) >= 0
    # Another predecessor, or the first row of the connection: another key.
    assert key("2026-11-27T12:00:00.000000Z", ("2026-11-25T12:00:00.000000Z", "f0")) != first
    assert key("2026-11-27T12:00:00.000000Z", ("2026-11-26T12:00:00.000000Z", "f1")) != first
    assert key("2026-11-27T12:00:00.000000Z", (None, None)) != first


def test_the_deleted_row_has_only_its_identity_and_health() -> None:
    row = deleted_row(
        C1,
        observed_at="2026-11-27T12:00:00.000000Z",
        previous_fingerprint="f0",
        previous_observed_at="2026-11-26T12:00:00.000000Z",
    )
    assert row["health"] == DELETED
    assert row["fingerprint"] == DELETED_FINGERPRINT
    assert row["change_id"] == change_id(
        C1, "2026-11-26T12:00:00.000000Z", "f0", row["fingerprint"]
    )
    assert set(row) == set(status_row(PROCESSED, observed_at="x", previous_fingerprint=None))
    assert {k for k, v in row.items() if v is not None} == {
        "connection_id",
        "change_id",
        "observed_at",
        "fingerprint",
        "previous_fingerprint",
        "health",
    }


def test_issue_rows_one_per_kind_and_code_with_the_first_message() -> None:
    connection = {
        **PROCESSED,
        "status": {
            "tasks": [
                {"code": "reconnect", "message": "Reconnect"},
                {"code": "reconnect", "message": "again"},
                {"message": "no code"},
                "junk",
            ],
            "warnings": [{"code": "reconnect", "message": "as a warning too"}],
        },
    }
    change = status_row(
        connection, observed_at="2026-11-27T12:00:00.000000Z", previous_fingerprint=None
    )
    rows = issue_rows(connection, change)
    assert [(r["kind"], r["code"], r["message"]) for r in rows] == [
        ("task", "reconnect", "Reconnect"),
        ("warning", "reconnect", "as a warning too"),
    ]
    assert {(r["connection_id"], r["change_id"], r["observed_at"]) for r in rows} == {
        (C1, change["change_id"], "2026-11-27T12:00:00.000000Z")
    }
    assert issue_rows({**PROCESSED, "status": None}, change) == []


def test_commit_replaces_run_time_markers_with_a_final_bookmark() -> None:
    partition: dict[str, Any] = {
        "context": {"connection_id": C1},
        "progress_markers": {"replication_key_value": "x"},
        "replication_key_signpost": "y",
        "starting_replication_value": "z",
        "fingerprint": "old",
    }
    commit(partition, "observed_at", "2026-11-27T12:00:00.000000Z", fingerprint="new")
    assert partition == {
        "context": {"connection_id": C1},
        "replication_key": "observed_at",
        "replication_key_value": "2026-11-27T12:00:00.000000Z",
        "fingerprint": "new",
    }
    clear_transient(partition)
    assert "fingerprint" in partition


# --- the stream ----------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_tap_clock(monkeypatch)


@pytest.fixture
def account(api: requests_mock.Mocker, clock: Clock) -> requests_mock.Mocker:
    FakeHistory().register(api)
    return api


def serve_connections(api: requests_mock.Mocker, connections: list[dict[str, Any]]) -> None:
    api.get(f"{api_fixtures.API}/connections", json=api_fixtures.page(connections))


def test_the_first_run_writes_every_connection(account: requests_mock.Mocker) -> None:
    run = run_capture(CONFIG, streams={"connections", STREAM})
    rows = run.records(STREAM)
    assert [r["connection_id"] for r in rows] == [C1, C2, C3]
    assert {r["observed_at"] for r in rows} == {"2026-11-27T12:00:00.000000Z"}
    assert [r["health"] for r in rows] == ["stale", "paused", "broken"]
    assert rows[2]["task_codes"] == ["reconnect"]
    assert all(r["previous_fingerprint"] is None for r in rows)
    observed = {r["id"]: r["observed_at"] for r in run.records("connections")}
    assert all(observed[r["connection_id"]] == r["observed_at"] for r in rows)
    final = partitions(run.last_state, STREAM)
    assert {cid: entry["fingerprint"] for cid, entry in final.items()} == {
        r["connection_id"]: r["fingerprint"] for r in rows
    }


def test_a_run_without_changes_writes_nothing(account: requests_mock.Mocker, clock: Clock) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM})
    clock.advance(minutes=30)
    second = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM})
    assert second.records(STREAM) == []
    assert partitions(second.last_state, STREAM) == partitions(first.last_state, STREAM)


def test_a_change_writes_one_row_linked_to_the_previous_one(
    account: requests_mock.Mocker, clock: Clock
) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM})
    before = {r["connection_id"]: r for r in first.records(STREAM)}
    fixed = copy.deepcopy(api_fixtures.CONNECTIONS)
    fixed[2]["status"] = {**fixed[2]["status"], "setup_state": "connected", "tasks": []}
    fixed[2]["succeeded_at"] = "2026-11-27T12:10:00Z"
    serve_connections(account, fixed)
    clock.advance(hours=1)

    second = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM})
    rows = second.records(STREAM)
    assert [r["connection_id"] for r in rows] == [C3]
    assert rows[0]["previous_fingerprint"] == before[C3]["fingerprint"]
    assert rows[0]["observed_at"] == "2026-11-27T13:00:00.000000Z"
    assert rows[0]["health"] == "healthy"
    assert partitions(second.last_state, STREAM)[C3]["fingerprint"] == rows[0]["fingerprint"]
    assert (
        partitions(second.last_state, STREAM)[C3]["replication_key_value"] == rows[0]["observed_at"]
    )


def test_a_change_replayed_after_a_lost_state_keeps_its_key(
    account: requests_mock.Mocker, clock: Clock
) -> None:
    """Issue 22 item 8: the run that wrote a change died before its STATE reached the
    target; the next run sends the change again, under the same primary key."""
    first = run_capture(CONFIG, streams={"connections", STREAM, ISSUES})
    fixed = copy.deepcopy(api_fixtures.CONNECTIONS)
    fixed[0]["status"] = {**fixed[0]["status"], "warnings": [{"code": "w1", "message": "m"}]}
    serve_connections(account, fixed)
    clock.advance(hours=1)
    killed = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM, ISSUES})
    clock.advance(minutes=7)
    resumed = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM, ISSUES})
    [lost] = killed.records(STREAM)
    [again] = resumed.records(STREAM)
    assert again["observed_at"] != lost["observed_at"]  # the resumed run's own start
    assert (again["connection_id"], again["change_id"]) == (
        lost["connection_id"],
        lost["change_id"],
    )
    key = ("connection_id", "change_id", "kind", "code")
    assert [tuple(r[k] for k in key) for r in resumed.records(ISSUES)] == [
        tuple(r[k] for k in key) for r in killed.records(ISSUES)
    ]


def test_state_learns_a_fingerprint_only_after_its_row(account: requests_mock.Mocker) -> None:
    run = run_capture(CONFIG, streams={"connections", STREAM})
    written: set[str] = set()
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == STREAM:
            written.add(message["record"]["fingerprint"])
        elif message["type"] == "STATE":
            for entry in partitions(message["value"], STREAM).values():
                assert set(entry) <= {
                    "context",
                    "replication_key",
                    "replication_key_value",
                    "fingerprint",
                    "seen_on",  # the day a run last saw the connection (state pruning)
                }
                if "fingerprint" in entry:
                    assert entry["fingerprint"] in written


def test_it_makes_no_request_of_its_own(account: requests_mock.Mocker) -> None:
    def paths(streams: set[str]) -> list[str]:
        account.reset_mock()
        run_capture(CONFIG, streams=streams)
        return sorted(request.path for request in account.request_history)

    assert paths({"connections", STREAM}) == paths({"connections"})
    assert "/v1/connections" in paths({"connections"})


def test_filtered_out_connections_get_no_row(account: requests_mock.Mocker) -> None:
    run = run_capture({**CONFIG, "services": ["salesforce"]}, streams={STREAM})
    assert [r["connection_id"] for r in run.records(STREAM)] == [C3]
    assert set(partitions(run.last_state, STREAM)) == {C3}


def test_a_connection_gone_from_a_complete_listing_gets_one_deleted_row(
    account: requests_mock.Mocker, clock: Clock
) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM})
    before = {r["connection_id"]: r for r in first.records(STREAM)}
    serve_connections(account, api_fixtures.CONNECTIONS[:2])
    clock.advance(hours=1)
    second = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM})
    [row] = second.records(STREAM)
    assert row["connection_id"] == C3
    assert row["health"] == DELETED
    assert row["observed_at"] == "2026-11-27T13:00:00.000000Z"
    assert row["fingerprint"] == DELETED_FINGERPRINT
    assert row["previous_fingerprint"] == before[C3]["fingerprint"]
    status_columns = set(status_snapshot({})) - {"health"}
    assert all(row[name] is None for name in status_columns)
    assert row["change_id"] == change_id(
        C3, before[C3]["observed_at"], before[C3]["fingerprint"], DELETED_FINGERPRINT
    )
    entry = partitions(second.last_state, STREAM)[C3]
    assert entry["fingerprint"] == DELETED_FINGERPRINT
    # seen_on stays the last day the connection was listed: state_prune_days ages it out
    assert entry["seen_on"] == partitions(first.last_state, STREAM)[C3]["seen_on"]

    clock.advance(hours=1)
    third = run_capture(CONFIG, state=second.last_state, streams={"connections", STREAM})
    assert third.records(STREAM) == [], "a deleted connection is written once"


@pytest.mark.parametrize(
    "narrowing",
    [
        {"connection_ids": [C1, C2]},
        {"group_ids": [api_fixtures.CONNECTIONS[0]["group_id"]]},
        {"services": ["postgres", "salesforce"]},
    ],
)
def test_a_filtered_run_deletes_nothing(
    account: requests_mock.Mocker, clock: Clock, narrowing: dict[str, Any]
) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM})
    serve_connections(account, api_fixtures.CONNECTIONS[:2])
    clock.advance(hours=1)
    second = run_capture(
        {**CONFIG, **narrowing}, state=first.last_state, streams={"connections", STREAM}
    )
    assert all(r["health"] != DELETED for r in second.records(STREAM))
    assert partitions(second.last_state, STREAM)[C3] == partitions(first.last_state, STREAM)[C3]


def test_an_incomplete_listing_deletes_nothing(account: requests_mock.Mocker, clock: Clock) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM})
    # The third item has no id: skipped as malformed, so the listing is not complete.
    broken = [*api_fixtures.CONNECTIONS[:2], {**api_fixtures.CONNECTIONS[2], "id": None}]
    serve_connections(account, broken)
    clock.advance(hours=1)
    second = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM})
    assert all(r["health"] != DELETED for r in second.records(STREAM))


def test_a_deleted_connection_is_not_pruned_before_its_row_then_is_forgotten(
    account: requests_mock.Mocker, clock: Clock
) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM})
    serve_connections(account, api_fixtures.CONNECTIONS[:2])
    clock.advance(days=45)  # longer than state_prune_days (30) without a run
    second = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM})
    assert [(r["connection_id"], r["health"]) for r in second.records(STREAM)] == [(C3, DELETED)]
    clock.advance(hours=1)
    third = run_capture(CONFIG, state=second.last_state, streams={"connections", STREAM})
    assert third.records(STREAM) == []
    assert set(partitions(third.last_state, STREAM)) == {C1, C2}


def test_a_filtered_run_still_forgets_long_unseen_connections(
    account: requests_mock.Mocker, clock: Clock
) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM})
    clock.advance(days=45)
    second = run_capture(
        {**CONFIG, "connection_ids": [C1]}, state=first.last_state, streams={"connections", STREAM}
    )
    assert set(partitions(second.last_state, STREAM)) == {C1}


def test_status_issues_carry_the_key_of_their_status_row(account: requests_mock.Mocker) -> None:
    run = run_capture(CONFIG, streams={"connections", STREAM, ISSUES})
    status = {r["connection_id"]: r for r in run.records(STREAM)}
    issues = run.records(ISSUES)
    assert issues, "the fixture's broken connection has a task"
    for issue in issues:
        owner = status[issue["connection_id"]]
        assert issue["change_id"] == owner["change_id"]
        assert issue["observed_at"] == owner["observed_at"]
        codes = owner["task_codes"] if issue["kind"] == "task" else owner["warning_codes"]
        assert issue["code"] in codes
    assert len(issues) == sum(
        len(r["task_codes"]) + len(r["warning_codes"]) for r in status.values()
    )


def test_status_issues_are_written_with_each_change_only(
    account: requests_mock.Mocker, clock: Clock
) -> None:
    first = run_capture(CONFIG, streams={"connections", STREAM, ISSUES})
    clock.advance(minutes=30)
    second = run_capture(CONFIG, state=first.last_state, streams={"connections", STREAM, ISSUES})
    assert second.records(ISSUES) == []


def test_observed_at_matches_the_run_start(account: requests_mock.Mocker) -> None:
    run = run_capture(CONFIG, streams={STREAM})
    assert {r["observed_at"] for r in run.records(STREAM)} == {
        NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    }
