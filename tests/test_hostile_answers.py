"""Hostile or broken API answers (issue 14, items 4, 5, 10 and 11).

Each one must end in one clear line (an error naming the endpoint) or a counted skip,
never a traceback, never a "successful" empty read that lets ACTIVATE_VERSION mark
every row deleted, never an endless loop, never unbounded memory or time.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
import requests_mock
from history_helpers import run_capture

from fivetran_sim import FaultRule, SimConfig, Simulator
from tap_fivetran_meta.api.errors import FivetranAPIError, PaginationLoopError
from tap_fivetran_meta.api.pagination import MAX_EMPTY_PAGES
from tap_fivetran_meta.api.transport import ResponseTooLargeError

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

if TYPE_CHECKING:
    from collections.abc import Iterator

API = fx.API
ACTIVATING = {**fx.CONFIG, "emit_activate_version_messages": True}


def _activated(messages: list[dict[str, Any]]) -> set[str]:
    return {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}


# --- item 4: a Success envelope without a list ---------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"code": "Success", "data": None},
        {"code": "Success", "data": {"items": {"id": "x"}, "next_cursor": None}},
        {"code": "Success", "data": {"next_cursor": None}},
        {"code": "Success", "data": []},
        {"code": "Success"},
    ],
    ids=["data null", "items an object", "items missing", "data a list", "no data"],
)
def test_a_malformed_list_is_an_error_and_activates_nothing(
    api: requests_mock.Mocker, body: dict[str, Any]
) -> None:
    api.get(f"{API}/connections", json=body)
    run = run_capture(ACTIVATING, streams={"account", "connections", "connection_status_history"})
    assert isinstance(run.error, FivetranAPIError)
    assert "GET /v1/connections" in str(run.error)
    assert "malformed body" in str(run.error)
    assert run.records("connections") == []
    assert "connections" not in _activated(run.messages)
    assert "account" in _activated(run.messages)  # a well-formed, complete read still does


def test_a_malformed_object_answer_is_an_error(api: requests_mock.Mocker) -> None:
    api.get(f"{API}/account/info", json={"code": "Success", "data": "acct_xyz"})
    with pytest.raises(FivetranAPIError, match=r"GET /v1/account/info.*'data' is a string"):
        run_tap(fx.CONFIG, catalog=catalog_selecting({"account"}))


def test_a_malformed_detail_is_a_counted_skip(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    project = fx.PROJECTS[0]["id"]
    api.get(f"{API}/transformation-projects/{project}", json={"code": "Success", "data": None})
    with caplog.at_level(logging.WARNING):
        run = run_capture(ACTIVATING, streams={"transformation_projects"})
    assert run.error is None
    assert run.records("transformation_projects") == []
    assert "transformation_projects" not in _activated(run.messages)
    assert "skipped parents: MalformedAnswer=1" in caplog.text


# --- item 5: endless empty pages --------------------------------------------------------------


def test_empty_pages_each_with_a_new_cursor_are_not_followed_forever(
    api: requests_mock.Mocker,
) -> None:
    served = {"n": 0}

    def endless(request: Any, context: Any) -> dict[str, Any]:
        served["n"] += 1
        assert served["n"] < 200, "the tap kept following empty pages"
        return fx.page([], next_cursor=f"cursor-{served['n']}")

    api.get(f"{API}/groups", json=endless)
    with pytest.raises(PaginationLoopError, match="empty pages in a row for /groups"):
        run_tap(fx.CONFIG, catalog=catalog_selecting({"groups"}))
    assert served["n"] == MAX_EMPTY_PAGES + 1


def test_a_few_empty_pages_are_still_followed(api: requests_mock.Mocker) -> None:
    pages = [{"json": fx.page([], next_cursor=f"c{i}")} for i in range(MAX_EMPTY_PAGES)]
    api.get(f"{API}/groups", [*pages, {"json": fx.page(fx.GROUPS)}])
    assert run_tap(fx.CONFIG, catalog=catalog_selecting({"groups"})).count("groups") == 2


# --- item 10: items of the wrong shape -------------------------------------------------------


def test_bad_items_are_skipped_or_nulled_with_a_counted_warning(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    good, paused, broken = (dict(c) for c in fx.CONNECTIONS)
    paused["paused"] = "false"  # a string: must not become true
    broken["status"] = "oops"  # not an object: must not crash the health code
    items = [
        good,
        paused,
        broken,
        {**good, "id": None},
        {k: v for k, v in good.items() if k != "id"},
        {**good, "id": ""},
        "not an object",
        {**good, "id": "deep", "schedule": _nested(100)},
    ]
    api.get(f"{API}/connections", json=fx.page(items))
    with caplog.at_level(logging.WARNING):
        run = run_capture(ACTIVATING, streams={"connections", "connection_status_history"})
    assert run.error is None
    rows = {r["id"]: r for r in run.records("connections")}
    assert set(rows) == {good["id"], paused["id"], broken["id"], "deep"}
    assert rows[paused["id"]]["paused"] is None
    assert rows[broken["id"]]["status"] is None
    assert rows[broken["id"]]["health"] is not None
    assert rows["deep"]["schedule"] is None
    assert all(r["connection_id"] for r in run.records("connection_status_history"))
    # Skipped items make the read incomplete: nothing is marked deleted.
    assert "connections" not in _activated(run.messages)
    summary = next(r.getMessage() for r in caplog.records if "met malformed data" in r.getMessage())
    assert "item with no usable primary key 'id': 3" in summary
    assert "item with not an object: 1" in summary
    assert "field paused of the wrong type: 1" in summary
    assert "field status of the wrong type: 1" in summary
    assert "field schedule of the wrong type: 1" in summary


def test_membership_without_an_id_is_not_emitted(api: requests_mock.Mocker) -> None:
    api.get(
        f"{API}/users/cardiac_contemplation/groups",
        json=fx.page([{"id": None, "role": "Destination Administrator"}]),
    )
    run = run_tap(fx.CONFIG, catalog=catalog_selecting({"users", "user_memberships"}))
    assert all(r["object_id"] for r in run.records["user_memberships"])
    assert run.count("user_memberships") == 1  # the connection membership remains


def test_a_detail_of_the_wrong_shape_is_checked_too(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    destination = fx.DESTINATIONS[0]
    detail = {**fx.destination_detail(destination), "setup_tests": "oops", "config": []}
    api.get(f"{API}/destinations/{destination['id']}", json=fx.ok(detail))
    with caplog.at_level(logging.WARNING):
        run = run_tap(fx.CONFIG, catalog=catalog_selecting({"destinations"}))
    row = next(r for r in run.records["destinations"] if r["id"] == destination["id"])
    assert row["setup_tests"] is None
    assert row["config"] is None
    assert "field setup_tests of the wrong type: 1" in caplog.text


def test_a_sync_item_nested_too_deeply_keeps_its_row_without_the_extras() -> None:
    from tap_fivetran_meta.rules.sync_items import ConnectionRef, parse_sync_item

    item = {"start": "2026-11-27T10:00:00Z", "end": None, "status": None, "x": _nested(900)}
    row = parse_sync_item(item, ConnectionRef("c1"))
    assert row is not None
    assert row["extra_fields"] is None
    assert json.dumps(row)  # serialisable


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        node = {"n": node}
    return node


def test_a_200k_deep_body_is_one_clear_error(api: requests_mock.Mocker) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    api.get(f"{API}/groups", text='{"code":"Success","data":{"items":' + deep + "}}")
    with pytest.raises(FivetranAPIError, match="GET /v1/groups.*nests too deeply"):
        run_tap(fx.CONFIG, catalog=catalog_selecting({"groups"}))
    assert len([r for r in api.request_history if r.path == "/v1/groups"]) == 1  # no retry


# --- through the simulator and the command line ------------------------------------------------

KEY, SECRET = "hostile-key", "hostile-secret-41c2"
TAP = [sys.executable, "-m", "tap_fivetran_meta"]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig(connections=6, seed=5, api_key=KEY, api_secret=SECRET)) as simulator:
        yield simulator


@pytest.fixture
def fresh_sim(sim: Simulator) -> Simulator:
    sim.clear_faults()
    sim.reset_counts()
    return sim


def _sim_config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {"api_url": sim.url, "api_key": KEY, "api_secret": SECRET, **extra}


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        (
            FaultRule(path=r"^/v1/connections$", kind="answer", body={"code": "Success"}),
            "GET /v1/connections with code 'Success' but a malformed body",
        ),
        (
            FaultRule(path=r"^/v1/groups$", kind="endless_empty_pages"),
            "empty pages in a row for /groups",
        ),
        (
            FaultRule(
                path=r"^/v1/groups$",
                kind="answer",
                body='{"code":"Success","data":' + "[" * 200_000 + "]" * 200_000 + "}",
            ),
            "nests too deeply",
        ),
    ],
    ids=["no data", "endless empty pages", "200k deep"],
)
def test_hostile_answers_end_the_cli_with_one_line(
    fresh_sim: Simulator, tmp_path: Path, rule: FaultRule, needle: str
) -> None:
    fresh_sim.add_fault(rule)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(_sim_config(fresh_sim, emit_activate_version_messages=True)))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting({"groups", "connections"})))
    result = subprocess.run(
        [*TAP, "--config", str(config), "--catalog", str(catalog)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr
    failed = "groups" if "groups" in rule.path else "connections"
    activated = {
        json.loads(line)["stream"]
        for line in result.stdout.splitlines()
        if '"ACTIVATE_VERSION"' in line
    }
    assert failed not in activated


# --- item 11: a gzip bomb and a dripped body -------------------------------------------------


def test_a_gzip_bomb_is_refused_at_the_size_cap(fresh_sim: Simulator) -> None:
    fresh_sim.add_fault(FaultRule(path=r"^/v1/groups$", kind="gzip_bomb", size=40 << 20))
    with pytest.raises(ResponseTooLargeError, match="larger than max_response_mb=1 MB"):
        run_tap(_sim_config(fresh_sim, max_response_mb=1), catalog=catalog_selecting({"groups"}))
    assert fresh_sim.request_counts()["GET /v1/groups"] == 1  # not retried


def test_a_gzip_answer_under_the_cap_is_read(fresh_sim: Simulator) -> None:
    fresh_sim.add_fault(FaultRule(path=r"^/v1/groups$", kind="gzip_bomb", size=1 << 19))
    run = run_tap(_sim_config(fresh_sim, max_response_mb=1), catalog=catalog_selecting({"groups"}))
    assert run.count("groups") == len(fresh_sim.dataset.groups)


def test_a_dripped_body_times_out_at_request_timeout(fresh_sim: Simulator) -> None:
    fresh_sim.add_fault(FaultRule(path=r"^/v1/groups$", kind="drip", delay_s=0.05))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout, match="still arriving 1 s after"):
        run_tap(
            _sim_config(fresh_sim, request_timeout=1, max_retries=0),
            catalog=catalog_selecting({"groups"}),
        )
    # The body takes well over 10 s to drip; the tap gave up after about 1 s.
    assert time.monotonic() - started < 5
