"""Agents, proxies, private links, system keys, external logging, and blocked connections.

requests-mock against the fixture account (api_fixtures.py): each connection there goes
through one object (agent, proxy, private link); tests turn those objects down.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest
import requests_mock
from history_helpers import freeze_tap_clock

from tap_fivetran_meta.streams.infrastructure import (
    ExternalLoggingStream,
    HybridDeploymentAgentsStream,
    PrivateLinksStream,
    ProxyAgentsStream,
    SystemKeysStream,
)
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

API = fx.API
INFRA_STREAMS = (
    HybridDeploymentAgentsStream,
    ProxyAgentsStream,
    PrivateLinksStream,
    SystemKeysStream,
    ExternalLoggingStream,
)
INFRA_NAMES = {stream.name for stream in INFRA_STREAMS}
LIST_PATHS = {
    "hybrid_deployment_agents": "/v1/hybrid-deployment-agents",
    "proxy_agents": "/v1/proxy",
    "private_links": "/v1/private-links",
    "system_keys": "/v1/system-keys",
    "external_logging": "/v1/external-logging",
}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half an hour after the fixture's last successful sync: speak_inexpensive is fresh."""
    freeze_tap_clock(monkeypatch, datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc))


def _run_only(names: set[str], **config: object):
    return run_tap({**fx.CONFIG, **config}, catalog=catalog_selecting(names))


def _requests_per_path(api: requests_mock.Mocker) -> Counter[str]:
    return Counter(request.path for request in api.request_history)


def _down(api: requests_mock.Mocker, **changes: dict[str, Any]) -> None:
    """Serve the fixture's agent / proxy / private link with some fields changed."""
    for path, items, key in (
        ("hybrid-deployment-agents", fx.AGENTS, "agent"),
        ("proxy", fx.PROXIES, "proxy"),
        ("private-links", fx.PRIVATE_LINKS, "link"),
    ):
        api.get(f"{API}/{path}", json=fx.page([{**items[0], **changes.get(key, {})}]))


def _health(result) -> dict[str, tuple[str, str | None]]:
    return {r["id"]: (r["health"], r["blocked_by"]) for r in result.records["connections"]}


# --- the streams ------------------------------------------------------------------------


def test_every_stream_emits_every_schema_field(api: requests_mock.Mocker) -> None:
    result = _run_only(INFRA_NAMES)
    for stream in INFRA_STREAMS:
        [record] = result.records[stream.name]
        assert set(record) == set(stream.schema["properties"]), stream.name


def test_records_as_served_with_utc_timestamps(api: requests_mock.Mocker) -> None:
    result = _run_only(INFRA_NAMES)
    [agent] = result.records["hybrid_deployment_agents"]
    assert agent["usage"] == fx.AGENTS[0]["usage"]
    assert agent["online"] is True
    assert agent["last_used_at"] == "2026-11-26T23:31:00.000000Z"
    assert agent["agent_version"] == fx.AGENTS[0]["version"]
    [proxy] = result.records["proxy_agents"]
    assert proxy["connection_ids"] == ["dialectical_remindful"]
    assert proxy["agent_version"] == fx.PROXIES[0]["version"]
    assert proxy["status"] == "CONNECTED"
    [link] = result.records["private_links"]
    assert link["created_at"] == "2025-02-01T10:00:00.500000Z"
    [key] = result.records["system_keys"]
    assert key["permissions"] == fx.SYSTEM_KEYS[0]["permissions"]
    assert key["last_used_at"] is None
    [log] = result.records["external_logging"]
    # Fivetran's definition marks ``hostname`` format: password (a connector's), so the
    # name is a secret everywhere (issue 22, item 12).
    assert log["config"] == {"region": "US1"}
    assert log["setup_tests"][0]["status"] == "PASSED"


def test_no_stream_has_a_column_named_version() -> None:
    # target-postgres 0.8.1 cannot apply ACTIVATE_VERSION to such a table (the e2e run
    # with emit_activate_version_messages fails): agents' version is agent_version.
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    assert not [name for name, s in tap.streams.items() if "version" in s.schema["properties"]]


def test_no_credential_is_ever_emitted(api: requests_mock.Mocker) -> None:
    result = _run_only(INFRA_NAMES)
    emitted = repr(result.messages)
    for leaked in ("ft_key-should-not-leak", "agent-token-should-not-leak", "******"):
        assert leaked not in emitted
    [key] = result.records["system_keys"]
    assert "key" not in key
    assert "secret" not in key
    assert "key" not in SystemKeysStream.schema["properties"]
    assert "secret" not in SystemKeysStream.schema["properties"]


def test_account_level_lists_cost_one_request_each(api: requests_mock.Mocker) -> None:
    api.reset_mock()
    _run_only({*INFRA_NAMES, "connections"})
    counts = _requests_per_path(api)
    for path in LIST_PATHS.values():
        assert counts[path] == 1, path  # health read it first; the stream reused it
    assert counts["/v1/proxy/proxy_one/connections"] == 1
    assert counts["/v1/external-logging/projected_sickle"] == 1
    assert counts["/v1/account/info"] == 1


def test_agents_are_listed_per_group_with_the_camel_case_filter(
    api: requests_mock.Mocker,
) -> None:
    api.reset_mock()
    _run_only({"hybrid_deployment_agents"}, group_ids=["schoolmaster_heedless", "projected_sickle"])
    calls = [r for r in api.request_history if r.path == "/v1/hybrid-deployment-agents"]
    assert [c.qs.get("groupid") for c in calls] == [["projected_sickle"], ["schoolmaster_heedless"]]
    assert all("group_id" not in c.qs for c in calls)
    api.reset_mock()
    _run_only({"hybrid_deployment_agents"})
    calls = [r for r in api.request_history if r.path == "/v1/hybrid-deployment-agents"]
    assert len(calls) == 1
    assert "groupid" not in calls[0].qs


@pytest.mark.parametrize("status", [403, 404])
@pytest.mark.parametrize("stream", sorted(INFRA_NAMES))
def test_plan_gated_list_is_empty_with_one_warning(
    api: requests_mock.Mocker,
    caplog: pytest.LogCaptureFixture,
    stream: str,
    status: int,
) -> None:
    api.get(
        f"{API}{LIST_PATHS[stream].removeprefix('/v1')}",
        status_code=status,
        json={"code": "Forbidden" if status == 403 else "NotFound", "message": "plan"},
    )
    with caplog.at_level(logging.WARNING):
        result = _run_only({stream, "connections"}, emit_activate_version_messages=True)
    assert result.count(stream) == 0
    assert result.count("connections") == len(fx.CONNECTIONS)
    warnings = [r for r in caplog.records if "not available to this API key or plan" in r.message]
    assert len(warnings) == 1
    activated = {m["stream"] for m in result.messages if m["type"] == "ACTIVATE_VERSION"}
    assert stream not in activated  # nothing is flagged deleted
    assert "connections" in activated
    assert {h for h, _ in _health(result).values()} == {"healthy", "paused", "broken"}


def test_proxy_deleted_after_the_list_keeps_its_row(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(
        f"{API}/proxy/proxy_one/connections",
        status_code=404,
        json={"code": "NotFound", "message": "Proxy Agent not found."},
    )
    with caplog.at_level(logging.INFO):
        result = _run_only({"proxy_agents"}, emit_activate_version_messages=True)
    [proxy] = result.records["proxy_agents"]
    assert proxy["connection_ids"] is None
    assert any("skipped parents: NotFound=1" in r.message for r in caplog.records)
    activated = {m["stream"] for m in result.messages if m["type"] == "ACTIVATE_VERSION"}
    assert "proxy_agents" in activated  # the list itself was complete


def test_log_service_deleted_after_the_list_keeps_its_list_fields(
    api: requests_mock.Mocker,
) -> None:
    api.get(
        f"{API}/external-logging/projected_sickle",
        status_code=404,
        json={"code": "NotFound_LogService", "message": "gone"},
    )
    [log] = _run_only({"external_logging"}).records["external_logging"]
    assert log["service"] == "datadog_log"
    assert log["config"] is None


def test_proxy_connections_are_paginated(api: requests_mock.Mocker) -> None:
    api.get(
        f"{API}/proxy/proxy_one/connections",
        [
            {"json": fx.page([{"connection_id": "b_conn"}], next_cursor="c2")},
            {"json": fx.page([{"connection_id": "a_conn"}, {"connection_id": "b_conn"}])},
        ],
    )
    [proxy] = _run_only({"proxy_agents"}).records["proxy_agents"]
    assert proxy["connection_ids"] == ["a_conn", "b_conn"]


# --- health -----------------------------------------------------------------------------


def test_all_up_blocks_nothing(api: requests_mock.Mocker) -> None:
    result = _run_only({"connections"})
    assert _health(result) == {
        "speak_inexpensive": ("healthy", None),
        "dialectical_remindful": ("paused", None),
        "broken_arrow": ("broken", None),
    }


def test_offline_agent_blocks_its_connection(api: requests_mock.Mocker) -> None:
    _down(api, agent={"online": False})
    health = _health(_run_only({"connections"}))
    assert health["speak_inexpensive"] == ("blocked", "hybrid_deployment_agent:grey_rhinoceros")


def test_proxy_down_blocks_but_paused_wins(api: requests_mock.Mocker) -> None:
    _down(api, proxy={"status": "NOT_CONNECTED"})
    health = _health(_run_only({"connections"}))
    # paused comes first in the rules; blocked_by still names what is down
    assert health["dialectical_remindful"] == ("paused", "proxy_agent:proxy_one")


def test_failed_private_link_blocks_but_broken_wins(api: requests_mock.Mocker) -> None:
    _down(api, link={"state": "FAIL"})
    health = _health(_run_only({"connections"}))
    assert health["broken_arrow"] == ("broken", "private_link:link_one")


def test_blocked_connection_with_its_link_being_created(api: requests_mock.Mocker) -> None:
    broken_arrow = {**fx.CONNECTIONS[2], "status": fx.CONNECTIONS[0]["status"]}
    api.get(f"{API}/connections", json=fx.page([fx.CONNECTIONS[0], broken_arrow]))
    _down(api, link={"state": "CREATING"})
    health = _health(_run_only({"connections"}))
    assert health["broken_arrow"] == ("blocked", "private_link:link_one")
    assert health["speak_inexpensive"] == ("healthy", None)


def test_blocked_health_reaches_the_status_history(api: requests_mock.Mocker) -> None:
    _down(api, agent={"online": False})
    result = _run_only({"connections", "connection_status_history"})
    rows = {r["connection_id"]: r for r in result.records["connection_status_history"]}
    assert rows["speak_inexpensive"]["health"] == "blocked"


def test_health_needs_no_infrastructure_request_when_no_connection_is_kept(
    api: requests_mock.Mocker,
) -> None:
    api.reset_mock()
    _run_only({"connections"}, connection_ids=["not_a_connection"])
    paths = set(_requests_per_path(api))
    assert not paths & set(LIST_PATHS.values())
