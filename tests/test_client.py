"""The base stream against requests-mock: paging, envelopes, retries, error mapping."""

from __future__ import annotations

import base64
import logging

import pytest
import requests
import requests_mock
from singer_sdk.exceptions import RetriableAPIError

from tap_fivetran_meta.api.errors import FivetranAPIError, FivetranAuthError, PaginationLoopError
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

API = fx.API


def _run_only(names: set[str], **config: object):
    return run_tap({**fx.CONFIG, **config}, catalog=catalog_selecting(names))


def test_full_sync_counts_match_fixture_account(api: requests_mock.Mocker) -> None:
    result = run_tap(fx.CONFIG)
    for stream, expected in fx.EXPECTED_COUNTS.items():
        assert result.count(stream) == expected, stream


def test_connections_follow_cursor_pages_with_limit(api: requests_mock.Mocker) -> None:
    result = _run_only({"connections"}, page_size=2)
    assert [r["id"] for r in result.records["connections"]] == [c["id"] for c in fx.CONNECTIONS]
    calls = [r for r in api.request_history if r.path == "/v1/connections"]
    assert [c.qs["limit"] for c in calls] == [["2"], ["2"]]
    assert "cursor" not in calls[0].qs
    assert calls[1].url.endswith("cursor=eyJza2lwIjoyfQ")


def test_accept_header_versioned_only_on_connections_and_destinations(
    api: requests_mock.Mocker,
) -> None:
    run_tap(fx.CONFIG)
    seen = {r.path: r.headers["Accept"] for r in api.request_history}
    assert seen["/v1/connections"] == "application/json;version=2"
    assert seen["/v1/destinations"] == "application/json;version=2"
    assert seen["/v1/destinations/projected_sickle"] == "application/json;version=2"
    assert seen["/v1/groups"] == "application/json"
    assert seen["/v1/users"] == "application/json"
    assert not any("/connectors" in path for path in seen)


def test_basic_auth_and_user_agent(api: requests_mock.Mocker) -> None:
    _run_only({"groups"})
    request = api.request_history[-1]
    expected = base64.b64encode(f"key-abc:{fx.SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["User-Agent"].startswith("tap-fivetran-meta/")


def test_next_cursor_camel_case_and_empty_string_end(api: requests_mock.Mocker) -> None:
    api.get(
        f"{API}/groups",
        [
            {"json": fx.ok({"items": fx.GROUPS[:1], "nextCursor": "c1"})},
            {"json": fx.ok({"items": fx.GROUPS[1:], "next_cursor": ""})},
        ],
    )
    result = _run_only({"groups"})
    assert result.count("groups") == 2


def test_empty_page_with_cursor_is_followed(api: requests_mock.Mocker) -> None:
    api.get(
        f"{API}/groups",
        [{"json": fx.page([], next_cursor="c1")}, {"json": fx.page(fx.GROUPS)}],
    )
    assert _run_only({"groups"}).count("groups") == 2


def test_repeated_cursor_is_an_error_not_a_loop(api: requests_mock.Mocker) -> None:
    api.get(
        f"{API}/groups",
        [
            {"json": fx.page(fx.GROUPS[:1], next_cursor="c1")},
            {"json": fx.page(fx.GROUPS[1:], next_cursor="c2")},
            {"json": fx.page(fx.GROUPS[:1], next_cursor="c1")},
        ],
    )
    with pytest.raises(PaginationLoopError, match="already returned"):
        _run_only({"groups"})
    assert len([r for r in api.request_history if r.path == "/v1/groups"]) == 3


def test_envelope_code_not_success_is_an_error(api: requests_mock.Mocker) -> None:
    api.get(f"{API}/groups", json={"code": "InternalFailure", "message": "Something broke"})
    with pytest.raises(FivetranAPIError, match="InternalFailure.*Something broke"):
        _run_only({"groups"})


def test_429_honours_retry_after_without_sleeping(
    api: requests_mock.Mocker, sleeps: list[float]
) -> None:
    api.get(
        f"{API}/groups",
        [
            {
                "status_code": 429,
                "headers": {"Retry-After": "7"},
                "json": {"code": "TooManyRequests"},
            },
            {"json": fx.page(fx.GROUPS)},
        ],
    )
    assert _run_only({"groups"}).count("groups") == 2
    assert sleeps == [7.0]


def test_retry_after_above_max_retry_wait_fails_clearly(
    api: requests_mock.Mocker, sleeps: list[float]
) -> None:
    api.get(
        f"{API}/groups",
        status_code=429,
        headers={"Retry-After": "3600"},
        json={"code": "TooManyRequests", "message": "slow down"},
    )
    with pytest.raises(FivetranAPIError, match="wait 3600 s.*max_retry_wait=900"):
        _run_only({"groups"})
    assert sleeps == []


def test_5xx_then_success_with_exponential_backoff(
    api: requests_mock.Mocker, sleeps: list[float]
) -> None:
    api.get(
        f"{API}/groups",
        [
            {"status_code": 503, "text": "unavailable"},
            {"status_code": 500, "json": {"code": "InternalError"}},
            {"json": fx.page(fx.GROUPS)},
        ],
    )
    assert _run_only({"groups"}).count("groups") == 2
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0


def test_timeouts_and_resets_are_retried(api: requests_mock.Mocker, sleeps: list[float]) -> None:
    api.get(
        f"{API}/groups",
        [
            {"exc": requests.exceptions.ReadTimeout},
            {"exc": requests.exceptions.ConnectionError},
            {"json": fx.page(fx.GROUPS)},
        ],
    )
    assert _run_only({"groups"}).count("groups") == 2
    assert len(sleeps) == 2


def test_truncated_json_is_retried_then_fails(
    api: requests_mock.Mocker, sleeps: list[float]
) -> None:
    api.get(f"{API}/groups", text='{"code":"Success","data":{"items":[{"id":"x"')
    with pytest.raises(RetriableAPIError, match="not valid JSON"):
        _run_only({"groups"}, max_retries=2)
    assert len(sleeps) == 2


def test_5xx_gives_up_after_max_retries(api: requests_mock.Mocker, sleeps: list[float]) -> None:
    api.get(f"{API}/groups", status_code=502, json={"code": "BadGateway"})
    with pytest.raises(RetriableAPIError, match="HTTP 502"):
        _run_only({"groups"}, max_retries=3)
    assert len(sleeps) == 3


def test_401_is_fatal_with_a_clean_message(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(f"{API}/groups", status_code=401, json={"code": "AuthFailed", "message": "nope"})
    with pytest.raises(FivetranAuthError) as raised:
        _run_only({"groups"})
    message = str(raised.value)
    assert "api_key and api_secret" in message
    assert fx.SECRET not in message
    assert "Basic" not in message
    assert len([r for r in api.request_history if r.path == "/v1/groups"]) == 1


def test_403_on_core_resource_is_fatal_with_permission_hint(api: requests_mock.Mocker) -> None:
    api.get(f"{API}/connections", status_code=403, json={"code": "Forbidden", "message": "no"})
    with pytest.raises(FivetranAuthError, match="CONNECTOR at READ"):
        _run_only({"connections"})


@pytest.mark.parametrize("status", [403, 404])
@pytest.mark.parametrize("stream", ["teams", "roles", "webhooks", "transformations"])
def test_plan_gated_resource_is_empty_with_one_warning(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture, stream: str, status: int
) -> None:
    path = {"transformations": "transformations"}.get(stream, stream)
    api.get(f"{API}/{path}", status_code=status, json={"code": "Forbidden", "message": "plan"})
    with caplog.at_level(logging.WARNING):
        result = _run_only({stream, "groups"}, emit_activate_version_messages=True)
    assert result.count(stream) == 0
    assert result.count("groups") == 2
    warnings = [r for r in caplog.records if "not available to this API key or plan" in r.message]
    assert len(warnings) == 1
    # A skipped resource must not tell the target to delete its rows.
    activated = {m["stream"] for m in result.messages if m["type"] == "ACTIVATE_VERSION"}
    assert stream not in activated
    assert "groups" in activated


def test_vanished_parent_is_skipped_with_warning(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(
        f"{API}/users/invited_person/groups",
        status_code=404,
        json={"code": "NotFound_User", "message": "User with id 'invited_person' not found"},
    )
    with caplog.at_level(logging.WARNING):
        result = _run_only({"user_memberships"})
    assert result.count("user_memberships") == 2
    assert any("NotFound_User=1" in r.message for r in caplog.records)


def test_destination_deleted_between_list_and_detail_is_skipped(api: requests_mock.Mocker) -> None:
    api.get(
        f"{API}/destinations/projected_sickle",
        status_code=404,
        json={"code": "NotFound_Destination", "message": "gone"},
    )
    result = _run_only({"destinations"})
    ids = [r["id"] for r in result.records["destinations"]]
    assert ids == ["projected_sickle", "schoolmaster_heedless"]
    assert result.records["destinations"][0]["config"] is None


def test_other_4xx_is_fatal_and_names_fivetran_code(api: requests_mock.Mocker) -> None:
    api.get(f"{API}/groups", status_code=400, json={"code": "InvalidInput", "message": "bad limit"})
    with pytest.raises(FivetranAPIError, match="InvalidInput: bad limit"):
        _run_only({"groups"})


def test_rate_budget_counts_every_request(api: requests_mock.Mocker) -> None:
    result = _run_only({"groups", "connections"})
    # groups, two pages of connections, /account/info once for every row's account_id,
    # and the agent, proxy and private-link lists once for the connections' health
    assert result.tap.rate_budget.requests == 7


def test_secret_never_in_logs_or_output(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    api.get(
        f"{API}/roles",
        [
            {"status_code": 500, "json": {"code": "Oops", "message": "boom"}},
            {"json": fx.page(fx.ROLES)},
        ],
    )
    with caplog.at_level(logging.DEBUG):
        result = run_tap({**fx.CONFIG, "emit_activate_version_messages": True})
    everything = caplog.text + repr(result.messages)
    assert fx.SECRET not in everything
    assert base64.b64encode(f"key-abc:{fx.SECRET}".encode()).decode() not in everything
    assert "tok-should-not-leak" not in everything
    assert "BEGIN PRIVATE KEY" not in everything
    assert "******" not in repr(result.messages)


def test_discover_needs_no_config_and_no_network() -> None:
    with requests_mock.Mocker():  # any request would raise NoMockAddress
        tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
        names = {entry["tap_stream_id"] for entry in tap.catalog_dict["streams"]}
    assert {"account", "connections", "groups", "destinations"} <= names
    for entry in tap.catalog_dict["streams"]:
        assert entry["key_properties"], entry["tap_stream_id"]
        assert entry["tap_stream_id"] == entry["tap_stream_id"].lower()
        assert "-" not in entry["tap_stream_id"]


def test_filters_apply_to_every_stream_they_concern(api: requests_mock.Mocker) -> None:
    kept_group = "schoolmaster_heedless"
    result = run_tap({**fx.CONFIG, "group_ids": [kept_group], "services": ["salesforce"]})
    assert [r["id"] for r in result.records["groups"]] == [kept_group]
    assert [r["id"] for r in result.records["destinations"]] == [kept_group]
    assert [r["id"] for r in result.records["connections"]] == ["broken_arrow"]
    assert {r["connection_id"] for r in result.records.get("sync_history", [])} <= {"broken_arrow"}
    # Memberships: only the kept group; the connection membership names a filtered one.
    objects = {(r["kind"], r["object_id"]) for r in result.records.get("user_memberships", [])}
    assert objects == set()
    assert {(r["kind"], r["object_id"]) for r in result.records["team_memberships"]} == {
        ("user", "cardiac_contemplation"),
        ("group", kept_group),
    }
    # A filtered-out connection or destination costs no request at all.
    paths = {r.path for r in api.request_history}
    assert "/v1/destinations/projected_sickle" not in paths
    assert not any(p.startswith("/v1/connections/speak_inexpensive/") for p in paths)
    assert not any(p.startswith("/v1/connections/dialectical_remindful/") for p in paths)
    assert "/v1/connections/broken_arrow/schemas" in paths


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "https://elsewhere.example.com/v1/groups"],
)
def test_a_redirect_to_another_origin_is_not_followed(
    api: requests_mock.Mocker, location: str
) -> None:
    api.get(f"{API}/groups", status_code=302, headers={"Location": location})
    api.get(location, json=fx.page([]))
    with pytest.raises(requests.RequestException, match="redirect"):
        _run_only({"groups"})
    assert all(r.url.startswith(API) for r in api.request_history)  # nothing sent there
