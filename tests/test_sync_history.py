"""sync_history against requests-mock: windows, overlap, de-duplication, state rules."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests_mock
from history_helpers import (
    NOW,
    Clock,
    FakeHistory,
    bookmarks,
    freeze_tap_clock,
    partitions,
    run_capture,
    started,
    sync,
    sync_history_state,
)

from tap_fivetran_meta.rules.timeutil import format_timestamp, parse_timestamp
from tap_fivetran_meta.runtime.message_volume import StateThrottle
from tap_fivetran_meta.streams.syncs import SyncHistoryStream

import api_fixtures

C1, C2, C3 = (c["id"] for c in api_fixtures.CONNECTIONS)
ALL = (C1, C2, C3)
# start_date 2026-11-20T00:00:00Z; a STATE after every connection that wrote a record, so
# the tests can see exactly which rows each STATE covers.
CONFIG = {**api_fixtures.CONFIG, "records_per_state_message": 1}
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def z(value: datetime) -> str:
    return format_timestamp(value)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_tap_clock(monkeypatch)


@pytest.fixture
def history(api: requests_mock.Mocker, clock: Clock) -> FakeHistory:
    fake = FakeHistory()
    fake.register(api)
    return fake


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(row["connection_id"], row["started_at"]) for row in rows]


def starts(rows: list[dict[str, Any]]) -> list[str]:
    return [row["started_at"] for row in rows]


# The tap's windows: a minute less than Fivetran's 7-day maximum.
WINDOW_END = "2026-11-26T23:59:00Z"


# --- windows and requests ------------------------------------------------------------


def test_first_run_reads_from_start_date_in_windows_strictly_inside_seven_days(
    history: FakeHistory,
) -> None:
    # FakeHistory refuses exactly 7 days, as a strict reading of the docs allows.
    run = run_capture(CONFIG)
    assert run.error is None
    for cid in ALL:
        assert history.windows(cid) == [
            ("2026-11-20T00:00:00Z", WINDOW_END),
            (WINDOW_END, "2026-11-27T12:00:00Z"),
        ]
    assert {r.accept for r in history.requests} == {"application/json;version=2"}


def test_without_start_date_the_first_run_reads_one_window_back(
    history: FakeHistory,
) -> None:
    config = {k: v for k, v in CONFIG.items() if k != "start_date"}
    run_capture(config)
    assert history.windows(C1) == [("2026-11-20T12:01:00Z", "2026-11-27T12:00:00Z")]
    assert len(history.requests) == 3


def test_an_incremental_run_makes_one_request_per_connection(history: FakeHistory) -> None:
    state = sync_history_state(dict.fromkeys(ALL, NOW - DAY))
    run_capture(CONFIG, state=state)
    assert len(history.requests) == 3
    for cid in ALL:
        assert history.windows(cid) == [("2026-11-26T11:00:00Z", "2026-11-27T12:00:00Z")]


def test_pagination_inside_a_window(history: FakeHistory) -> None:
    history.syncs[C1] = [sync(NOW - DAY + i * HOUR) for i in range(5)]
    state = sync_history_state(dict.fromkeys(ALL, NOW - 2 * DAY))
    run = run_capture({**CONFIG, "page_size": 2}, state=state)
    c1_requests = [r for r in history.requests if r.connection_id == C1]
    assert [r.cursor for r in c1_requests] == [None, "2", "4"]
    assert {(r.start_time, r.end_time) for r in c1_requests} == {
        ("2026-11-25T11:00:00Z", "2026-11-27T12:00:00Z")
    }
    assert starts(run.records("sync_history")) == [started(NOW - DAY + i * HOUR) for i in range(5)]


def test_filtered_out_connections_cost_no_request(history: FakeHistory) -> None:
    run = run_capture({**CONFIG, "connection_ids": [C3]})
    assert {r.connection_id for r in history.requests} == {C3}
    assert set(bookmarks(run.last_state)) == {C3}


def test_overlap_setting_moves_the_read_start(history: FakeHistory) -> None:
    state = sync_history_state({C1: NOW - DAY})
    run_capture({**CONFIG, "connection_ids": [C1], "sync_history_overlap_minutes": 0}, state=state)
    assert history.windows(C1) == [("2026-11-26T12:00:00Z", "2026-11-27T12:00:00Z")]


# --- rows ----------------------------------------------------------------------------


def test_rows_carry_the_connection_and_derived_columns(history: FakeHistory) -> None:
    history.syncs[C1] = [
        sync(NOW - 2 * DAY, 15),
        sync(NOW - DAY, 2, status="FAILURE_WITH_TASK", reason="Token expired"),
    ]
    run = run_capture(CONFIG)
    rows = run.records("sync_history")
    assert [(r["outcome"], r["duration_seconds"]) for r in rows] == [
        ("succeeded", 900.0),
        ("failed", 120.0),
    ]
    assert rows[0]["group_id"] == "projected_sickle"
    assert rows[0]["service"] == "postgres"
    assert rows[0]["extra_fields"] is None
    # Fields Fivetran does not document are kept as returned, never relied on.
    assert rows[1]["extra_fields"] == {"reason": "Token expired"}


def test_a_queued_sync_without_start_is_skipped_and_read_later(history: FakeHistory) -> None:
    queued = {"start": None, "end": None, "status": None}
    history.ignore_window = True
    history.syncs[C1] = [sync(NOW - 2 * HOUR), queued, queued]
    run = run_capture({**CONFIG, "connection_ids": [C1]})
    assert run.error is None
    assert starts(run.records("sync_history")) == [started(NOW - 2 * HOUR)]


def test_a_sync_on_a_window_boundary_is_emitted_once(history: FakeHistory) -> None:
    boundary = parse_timestamp(WINDOW_END)
    assert boundary is not None
    history.syncs[C1] = [sync(boundary), sync(boundary - HOUR)]
    run = run_capture({**CONFIG, "connection_ids": [C1]})
    assert len(history.windows(C1)) == 2
    assert keys(run.records("sync_history")) == [
        (C1, started(boundary - HOUR)),
        (C1, started(boundary)),
    ]


def test_rows_older_than_bookmark_minus_overlap_are_dropped(history: FakeHistory) -> None:
    bookmark = NOW - DAY
    history.ignore_window = True  # an API that answers more than asked
    history.syncs[C1] = [
        sync(bookmark - 2 * HOUR),  # too old
        sync(bookmark - HOUR / 2),  # in the overlap
        sync(bookmark),
        sync(bookmark + HOUR),
    ]
    run = run_capture({**CONFIG, "connection_ids": [C1]}, state=sync_history_state({C1: bookmark}))
    assert starts(run.records("sync_history")) == [
        started(bookmark - HOUR / 2),
        started(bookmark),
        started(bookmark + HOUR),
    ]
    assert bookmarks(run.last_state)[C1] == z(bookmark + HOUR)  # the latest start


# --- bookmarks -------------------------------------------------------------------------


def test_the_bookmark_is_the_latest_start_when_it_is_recent(history: FakeHistory) -> None:
    latest = NOW - timedelta(minutes=20)
    history.syncs[C1] = [sync(NOW - 5 * HOUR), sync(latest, 5)]
    run = run_capture({**CONFIG, "connection_ids": [C1]})
    assert bookmarks(run.last_state) == {C1: z(latest)}


def test_quiet_connections_move_to_one_day_before_run_end(history: FakeHistory) -> None:
    run = run_capture(CONFIG)
    assert bookmarks(run.last_state) == dict.fromkeys(ALL, z(NOW - DAY))


def test_a_run_that_sees_only_old_rows_keeps_the_bookmark(history: FakeHistory) -> None:
    ahead = NOW - timedelta(minutes=5)  # e.g. written by a run with a later clock
    history.syncs[C1] = [sync(ahead - timedelta(minutes=30))]
    run = run_capture({**CONFIG, "connection_ids": [C1]}, state=sync_history_state({C1: ahead}))
    assert starts(run.records("sync_history")) == [started(ahead - timedelta(minutes=30))]
    assert bookmarks(run.last_state) == {C1: z(ahead)}


def test_a_running_sync_holds_the_bookmark_and_is_updated_when_it_ends(
    history: FakeHistory, clock: Clock
) -> None:
    running_start = NOW - 3 * HOUR
    history.syncs[C1] = [
        sync(NOW - 10 * HOUR),
        sync(running_start, None),
        sync(NOW - HOUR / 2),  # a newer sync already finished
    ]
    config = {**CONFIG, "connection_ids": [C1]}
    first = run_capture(config)
    long = first.records("sync_history")[1]
    assert (long["started_at"], long["ended_at"], long["outcome"]) == (
        started(running_start),
        None,
        "running",
    )
    assert bookmarks(first.last_state) == {C1: z(running_start)}

    history.syncs[C1][1] = sync(running_start, 200)
    clock.advance(hours=2)
    second = run_capture(config, state=first.last_state)
    assert history.windows(C1)[-1] == (
        z(running_start - HOUR).replace(".000000", ""),
        "2026-11-27T14:00:00Z",
    )
    rows = {r["started_at"]: r for r in second.records("sync_history")}
    assert rows[started(running_start)]["ended_at"] == z(running_start + timedelta(minutes=200))
    assert rows[started(running_start)]["outcome"] == "succeeded"
    assert bookmarks(second.last_state) == {C1: z(NOW - HOUR / 2)}


def test_a_new_connection_starts_at_start_date_and_a_vanished_one_keeps_its_bookmark(
    history: FakeHistory,
) -> None:
    state = sync_history_state({C1: NOW - DAY, C2: NOW - DAY, "gone_connection": NOW - 3 * DAY})
    run = run_capture(CONFIG, state=state)
    assert history.windows(C3)[0][0] == "2026-11-20T00:00:00Z"
    assert history.windows(C1) == [("2026-11-26T11:00:00Z", "2026-11-27T12:00:00Z")]
    final = partitions(run.last_state, "sync_history")
    assert final["gone_connection"] == {
        "context": {"connection_id": "gone_connection"},
        "replication_key": "started_at",
        "replication_key_value": z(NOW - 3 * DAY),
    }
    assert "gone_connection" not in {r.connection_id for r in history.requests}


# --- state messages --------------------------------------------------------------------


def test_state_is_never_ahead_of_the_records(
    history: FakeHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Also checkpoint in the middle of a connection, as the SDK does every N records.
    monkeypatch.setattr(SyncHistoryStream, "STATE_MSG_FREQUENCY", 4)
    for n, cid in enumerate(ALL):
        history.syncs[cid] = [sync(NOW - (i + n) * 7 * HOUR) for i in range(20)]
    run = run_capture({**CONFIG, "page_size": 3})
    emitted: set[tuple[str, str]] = set()
    checked = 0
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == "sync_history":
            emitted.add((message["record"]["connection_id"], message["record"]["started_at"]))
        if message["type"] != "STATE":
            continue
        for cid, value in bookmarks(message["value"]).items():
            covered = {
                (cid, z(parse_timestamp(item["start"])))  # type: ignore[arg-type]
                for item in history.syncs[cid]
                if item["start"] <= value and item["start"] >= "2026-11-20"
            }
            assert covered <= emitted, f"STATE claims {cid} up to {value} before its records"
            checked += 1
    assert checked >= 3


def test_every_connection_is_checkpointed_right_after_its_records(
    history: FakeHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the STATE volume budget (which thins STATEs out to stay within 3x the
    # final state, tests/test_message_volume.py), a STATE after each connection shows
    # what a kill at that moment keeps.
    monkeypatch.setattr(StateThrottle, "over_budget", lambda self, size: False)
    for cid in ALL:
        history.syncs[cid] = [sync(NOW - 5 * HOUR)]
    run = run_capture(CONFIG)
    committed: list[set[str]] = [set(bookmarks(s)) for s in run.states]
    assert {C1} in committed
    assert {C1, C2} in committed  # a killed run would keep both bookmarks


def test_state_holds_no_sdk_progress_markers(history: FakeHistory) -> None:
    history.syncs[C1] = [sync(NOW - 5 * HOUR)]
    run = run_capture(CONFIG)
    for state in run.states:
        for entry in partitions(state, "sync_history").values():
            assert set(entry) <= {
                "context",
                "replication_key",
                "replication_key_value",
                "recent_digests",
                "seen_on",  # the day a run last saw the connection (state pruning)
                "read_at",
                "sync_marker",
                "sync_running",
            }


# --- unavailable endpoint and vanished connections -------------------------------------


ROUTE_ABSENT = (404, {"code": "NotFound", "message": "The requested resource was not found"})


def gone(cid: str) -> tuple[int, dict[str, Any]]:
    """Fivetran's bare NotFound for a deleted connection."""
    return 404, {"code": "NotFound", "message": f"Connection with id {cid} not found"}


@pytest.mark.parametrize(
    ("status", "body", "requests"),
    [
        # 404 for three different connections before any success: no such endpoint.
        (*ROUTE_ABSENT, 3),
        # 403 to the first request: the key or plan may not read sync history.
        (403, {"code": "Forbidden", "message": "Not available on your plan"}, 1),
    ],
)
def test_an_absent_endpoint_disables_the_stream_and_keeps_bookmarks(
    history: FakeHistory,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: dict[str, Any],
    requests: int,
) -> None:
    history.fail_all = (status, body)
    state = sync_history_state({C1: NOW - DAY, C3: NOW - 2 * DAY})
    with caplog.at_level(logging.WARNING):
        run = run_capture(CONFIG, state=state)
    assert run.error is None
    assert len(history.requests) == requests  # the requests such an account wastes
    assert run.records("sync_history") == []
    assert len(run.records("connections")) == 3
    assert len(run.records("connection_status_history")) == 3
    assert bookmarks(run.last_state) == bookmarks(state)
    warnings = [r for r in caplog.records if "disabled for this run" in r.getMessage()]
    assert len(warnings) == 1


def test_a_vanished_first_connection_does_not_switch_the_stream_off(
    history: FakeHistory, caplog: pytest.LogCaptureFixture
) -> None:
    # Deleted after the connections list was read: a bare NotFound, before any success.
    history.errors[C1] = gone(C1)
    history.syncs[C2] = [sync(NOW - 3 * HOUR)]
    history.syncs[C3] = [sync(NOW - 2 * HOUR)]
    state = sync_history_state(dict.fromkeys(ALL, NOW - DAY))
    with caplog.at_level(logging.WARNING):
        run = run_capture(CONFIG, state=state)
    assert run.error is None
    assert keys(run.records("sync_history")) == [
        (C2, started(NOW - 3 * HOUR)),
        (C3, started(NOW - 2 * HOUR)),
    ]
    assert bookmarks(run.last_state)[C1] == z(NOW - DAY)
    assert not [r for r in caplog.records if "disabled" in r.getMessage()]
    summary = [r.getMessage() for r in caplog.records if "skipped parents" in r.getMessage()]
    assert summary == ["Stream 'sync_history' skipped parents: HTTP 404 NotFound=1"]


def test_two_vanished_connections_are_not_an_absent_endpoint(history: FakeHistory) -> None:
    history.errors[C1] = gone(C1)
    history.errors[C2] = gone(C2)
    history.syncs[C3] = [sync(NOW - 2 * HOUR)]
    run = run_capture(CONFIG, state=sync_history_state(dict.fromkeys(ALL, NOW - DAY)))
    assert keys(run.records("sync_history")) == [(C3, started(NOW - 2 * HOUR))]


def test_a_vanished_connection_is_skipped_and_keeps_its_bookmark(history: FakeHistory) -> None:
    history.errors[C2] = (
        404,
        {"code": "NotFound_Connection", "message": f"Connection with id '{C2}' does not exist."},
    )
    history.syncs[C3] = [sync(NOW - 2 * HOUR)]
    state = sync_history_state(dict.fromkeys(ALL, NOW - DAY))
    run = run_capture(CONFIG, state=state)
    assert run.error is None
    assert keys(run.records("sync_history")) == [(C3, started(NOW - 2 * HOUR))]
    assert bookmarks(run.last_state)[C2] == z(NOW - DAY)
    assert bookmarks(run.last_state)[C3] == z(NOW - 2 * HOUR)


def test_a_bad_request_fails_the_run_with_fivetrans_message(history: FakeHistory) -> None:
    history.errors[C2] = (
        400,
        {"code": "InvalidInput", "message": "maximum allowed range is 7 days"},
    )
    history.syncs[C1] = [sync(NOW - 2 * HOUR)]
    run = run_capture(CONFIG, state=sync_history_state(dict.fromkeys(ALL, NOW - DAY)))
    assert run.error is not None
    assert "InvalidInput: maximum allowed range is 7 days" in str(run.error)
    assert "sync-history" in str(run.error)
    # State never ahead of the records: C2 and C3 keep their bookmarks.
    assert bookmarks(run.last_state)[C2] == z(NOW - DAY)
    assert bookmarks(run.last_state).get(C3) in (None, z(NOW - DAY))


def test_a_forbidden_connection_after_the_endpoint_answered_is_skipped(
    history: FakeHistory,
) -> None:
    history.errors[C2] = (403, {"code": "Forbidden", "message": "No access to this connection"})
    history.syncs[C3] = [sync(NOW - 2 * HOUR)]
    run = run_capture(CONFIG, state=sync_history_state(dict.fromkeys(ALL, NOW - DAY)))
    assert run.error is None
    assert sorted(r.connection_id for r in history.requests) == sorted([C1, C2, C3])
    assert keys(run.records("sync_history")) == [(C3, started(NOW - 2 * HOUR))]
    assert bookmarks(run.last_state)[C2] == z(NOW - DAY)


def test_a_connection_vanishing_mid_read_keeps_only_what_was_emitted(
    history: FakeHistory, api: requests_mock.Mocker
) -> None:
    history.syncs[C1] = [sync(parse_timestamp("2026-11-21T00:00:00Z"))]  # type: ignore[arg-type]
    calls = {"n": 0}

    def second_window_fails(request: Any, context: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 2:
            context.status_code, body = gone(C1)
            return body
        return history(request, context)

    api.get(f"{api_fixtures.API}/connections/{C1}/sync-history", json=second_window_fails)
    run = run_capture({**CONFIG, "connection_ids": [C1]}, state=sync_history_state({}))
    assert starts(run.records("sync_history")) == ["2026-11-21T00:00:00.000000Z"]
    assert bookmarks(run.last_state) == {C1: "2026-11-21T00:00:00.000000Z"}


def test_a_server_error_fails_the_run_without_moving_bookmarks(
    history: FakeHistory, sleeps: list[float]
) -> None:
    history.syncs[C1] = [sync(NOW - 5 * HOUR)]
    history.errors[C2] = (500, {"code": "InternalError", "message": "boom"})
    state = sync_history_state(dict.fromkeys(ALL, NOW - DAY))
    run = run_capture({**CONFIG, "max_retries": 1}, state=state)
    assert run.error is not None
    committed = bookmarks(run.last_state)
    assert committed[C1] == z(NOW - 5 * HOUR)  # finished before the failure
    assert committed[C2] == z(NOW - DAY)
    assert committed[C3] == z(NOW - DAY)


def test_unchanged_rows_in_the_overlap_are_not_emitted_again(
    history: FakeHistory, clock: Clock
) -> None:
    history.syncs[C1] = [sync(NOW - 5 * HOUR), sync(NOW - HOUR / 2)]
    # Every run reads (the connection's status never moves in the fixture account).
    config = {**CONFIG, "connection_ids": [C1], "sync_history_recheck_hours": 0}
    first = run_capture(config)
    entry = partitions(first.last_state, "sync_history")[C1]
    assert len(entry["recent_digests"]) == 1  # only 'b' is inside the next overlap

    clock.advance(minutes=20)
    second = run_capture(config, state=first.last_state)
    assert history.windows(C1)[-1][0] == "2026-11-27T10:30:00Z"  # b's start - overlap
    assert second.records("sync_history") == []

    history.syncs[C1][1] = sync(NOW - HOUR / 2, status="CANCELED")
    third = run_capture(config, state=second.last_state)
    assert [(r["started_at"], r["outcome"]) for r in third.records("sync_history")] == [
        (started(NOW - HOUR / 2), "canceled")
    ]


def test_a_connections_bookmark_is_committed_once_after_its_last_row(
    history: FakeHistory, api: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    history.syncs[C1] = [sync(NOW - (10 - i) * HOUR) for i in range(6)]
    monkeypatch.setattr(SyncHistoryStream, "STATE_MSG_FREQUENCY", 1)
    run = run_capture({**CONFIG, "connection_ids": [C1]})
    written: list[str] = []
    seen: list[str | None] = []
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == "sync_history":
            written.append(message["record"]["started_at"])
        elif message["type"] == "STATE":
            seen.append(bookmarks(message["value"]).get(C1))
    # A STATE in the middle of the connection (here after every row) holds no bookmark
    # for it yet: an interruption there reads the connection again from the start,
    # never skips a row. After its last row, the bookmark is the latest start.
    assert len(written) == 6
    assert None in seen
    assert parse_timestamp(seen[-1]) == parse_timestamp(max(written)) == NOW - 5 * HOUR


def test_a_far_start_date_warns_once_about_its_cost(
    history: FakeHistory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        run_capture({**CONFIG, "start_date": "2026-09-01T00:00:00Z"})
    assert len(history.windows(C1)) == 13
    assert len(history.requests) == 3 * 13
    warnings = [r.getMessage() for r in caplog.records if "windows of just under" in r.getMessage()]
    assert len(warnings) == 1
    assert "13 windows" in warnings[0]


# --- incremental runs ask only where something can be new (recheck.py) -----------------


def serve_connections(api: requests_mock.Mocker, connections: list[dict[str, Any]]) -> None:
    api.get(f"{api_fixtures.API}/connections", json=api_fixtures.page(connections))


def with_status(connection: dict[str, Any], **status: Any) -> dict[str, Any]:
    return {**connection, "status": {**connection["status"], **status}}


def test_an_unchanged_connection_costs_no_request_until_its_recheck_is_due(
    history: FakeHistory, clock: Clock
) -> None:
    history.syncs[C1] = [sync(NOW - 5 * HOUR)]
    first = run_capture(CONFIG)
    assert len(history.requests) == 2 * 3  # from start_date: two windows each
    entry = partitions(first.last_state, "sync_history")[C1]
    assert entry["read_at"] == "2026-11-27T12:00:00Z"
    assert len(entry["sync_marker"]) == 12
    assert "sync_running" not in entry

    history.requests.clear()
    clock.advance(minutes=60)
    second = run_capture(CONFIG, state=first.last_state)
    assert history.requests == []  # nothing moved: no request at all
    assert bookmarks(second.last_state) == bookmarks(first.last_state)

    clock.advance(minutes=24 * 60)  # the re-check is due after 12 to 24 hours
    run_capture(CONFIG, state=second.last_state)
    assert sorted({r.connection_id for r in history.requests}) == sorted(ALL)


def test_a_moved_sync_marker_or_a_running_sync_is_read_at_once(
    history: FakeHistory, api: requests_mock.Mocker, clock: Clock
) -> None:
    first = run_capture(CONFIG)
    connections = [dict(c) for c in api_fixtures.CONNECTIONS]
    connections[0] = {**connections[0], "succeeded_at": "2026-11-27T12:30:00Z"}
    connections[2] = with_status(connections[2], sync_state="syncing")
    serve_connections(api, connections)
    history.syncs[C1] = [sync(NOW + 10 * 60 * timedelta(seconds=1))]
    history.requests.clear()
    clock.advance(minutes=40)
    second = run_capture(CONFIG, state=first.last_state)
    assert sorted({r.connection_id for r in history.requests}) == sorted([C1, C3])
    assert [r["connection_id"] for r in second.records("sync_history")] == [C1]


def test_a_sync_running_at_the_last_read_is_read_again(history: FakeHistory, clock: Clock) -> None:
    history.syncs[C2] = [sync(NOW - HOUR, minutes=None)]  # running, no end yet
    first = run_capture(CONFIG)
    assert partitions(first.last_state, "sync_history")[C2]["sync_running"] is True
    history.requests.clear()
    history.syncs[C2] = [sync(NOW - HOUR, minutes=30)]
    clock.advance(minutes=60)
    second = run_capture(CONFIG, state=first.last_state)
    assert [r.connection_id for r in history.requests] == [C2]
    assert [r["outcome"] for r in second.records("sync_history")] == ["succeeded"]
    assert "sync_running" not in partitions(second.last_state, "sync_history")[C2]


def test_an_incomplete_read_is_repeated_by_the_next_run(
    history: FakeHistory, api: requests_mock.Mocker, clock: Clock
) -> None:
    first = run_capture(CONFIG)
    moved = [dict(c) for c in api_fixtures.CONNECTIONS]
    moved[0] = {**moved[0], "succeeded_at": "2026-11-27T12:30:00Z"}
    serve_connections(api, moved)
    history.errors[C1] = (404, {"code": "NotFound", "message": "gone for a moment"})
    clock.advance(minutes=60)
    second = run_capture(CONFIG, state=first.last_state)
    assert "read_at" not in partitions(second.last_state, "sync_history")[C1]

    del history.errors[C1]
    history.requests.clear()
    clock.advance(minutes=60)
    run_capture(CONFIG, state=second.last_state)  # nothing moved since, but C1 is owed
    assert [r.connection_id for r in history.requests] == [C1]


def test_recheck_zero_reads_every_connection_every_run(history: FakeHistory) -> None:
    config = {**CONFIG, "sync_history_recheck_hours": 0}
    first = run_capture(config)
    history.requests.clear()
    run_capture(config, state=first.last_state)
    assert sorted(r.connection_id for r in history.requests) == sorted(ALL)
