"""Every fault kind fires as configured and stops after ``count``."""

from __future__ import annotations

import time

import pytest
import requests
from sim_helpers import collect, get_data

from fivetran_sim import FaultRule, Simulator


def groups(sim: Simulator, http: requests.Session, **kwargs: object) -> requests.Response:
    return http.get(sim.url + "/groups", timeout=kwargs.pop("timeout", 5), **kwargs)  # type: ignore[arg-type]


def test_http_error_with_retry_after_and_count(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(
        FaultRule(path=r"/v1/groups$", kind="http_error", status=429, retry_after=7, count=2)
    )
    for _ in range(2):
        response = groups(sim, http)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.json()["code"] == "TooManyRequests"
    assert groups(sim, http).status_code == 200
    assert sim.faults()[0]["fired"] == 2
    assert sim.request_counts()["GET /v1/groups"] == 3


def test_http_error_custom_html_body(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="http_error", status=502, body="<html>bad</html>"))
    response = groups(sim, http)
    assert response.status_code == 502
    assert response.text == "<html>bad</html>"
    assert response.headers["Content-Type"].startswith("text/html")


def test_fault_path_regex_only_matches_its_path(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path=r"/schemas$", kind="http_error", status=500))
    assert groups(sim, http).status_code == 200
    conn = next(c for c in sim.dataset.connections.values() if c.has_schema_config)
    assert http.get(f"{sim.url}/connections/{conn.id}/schemas").status_code == 500
    sim.clear_faults()
    assert http.get(f"{sim.url}/connections/{conn.id}/schemas").status_code == 200


def test_latency(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="latency", delay_s=0.3, count=1))
    started = time.perf_counter()
    assert groups(sim, http).status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    assert groups(sim, http).status_code == 200
    assert time.perf_counter() - started < 0.3


def test_timeout(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="timeout", delay_s=1.0, count=1))
    with pytest.raises(requests.exceptions.ReadTimeout):
        groups(sim, http, timeout=0.2)
    assert groups(sim, http).status_code == 200


def test_drop(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="drop", count=1))
    with pytest.raises(requests.exceptions.ConnectionError):
        groups(sim, http)
    assert groups(sim, http).status_code == 200


def test_malformed_json(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="malformed_json", count=1))
    response = groups(sim, http)
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert groups(sim, http).json()["code"] == "Success"


def test_truncated_json(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="connections$", kind="truncated_json", count=1))
    with pytest.raises(requests.exceptions.RequestException):
        http.get(sim.url + "/connections", timeout=5)
    assert http.get(sim.url + "/connections", timeout=5).json()["code"] == "Success"


def _read_all(response: requests.Response) -> bytes:
    received = b""
    try:
        for chunk in response.iter_content(1024):
            received += chunk
    except requests.exceptions.RequestException:
        return received
    raise AssertionError("the truncated body was read without an error")


def test_truncated_json_raw_body(sim: Simulator) -> None:
    sim.add_fault(FaultRule(path="connections$", kind="truncated_json", count=1))
    with requests.get(
        sim.url + "/connections", auth=("key", "secret"), stream=True, timeout=5
    ) as response:
        declared = int(response.headers["Content-Length"])
        assert 0 < len(_read_all(response)) < declared


def test_envelope_error(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="envelope_error", count=1))
    response = groups(sim, http)
    assert response.status_code == 200
    assert response.json()["code"] == "SomethingElse"
    assert "data" not in response.json()


def test_plan_gated_and_absent(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="webhooks", kind="plan_gated"))
    sim.add_fault(FaultRule(path="sync-history", kind="absent"))
    response = http.get(sim.url + "/webhooks")
    assert response.status_code == 403
    assert response.json()["code"] == "Forbidden"
    assert "plan" in response.json()["message"]
    conn_id = next(iter(sim.dataset.connections))
    response = http.get(f"{sim.url}/connections/{conn_id}/sync-history")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_repeat_cursor(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="connections$", kind="repeat_cursor"))
    first = get_data(http, sim.url + "/connections", limit=5)
    cursor = first["next_cursor"]
    assert cursor
    for _ in range(3):
        again = get_data(http, sim.url + "/connections", limit=5, cursor=cursor)
        assert again["next_cursor"] == cursor
    # Even a single-page list gets a non-null cursor.
    single = get_data(http, sim.url + "/connections", limit=1000)
    assert single["next_cursor"]


def test_repeat_cursor_ignores_non_list_endpoints(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path=".", kind="repeat_cursor", count=1))
    assert "next_cursor" not in get_data(http, sim.url + "/account/info")
    assert sim.faults()[0]["remaining"] == 1


def test_empty_page_with_cursor(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="empty_page_with_cursor", count=1))
    first = get_data(http, sim.url + "/groups")
    assert first["items"] == []
    assert first["next_cursor"]
    follow = get_data(http, sim.url + "/groups", cursor=first["next_cursor"])
    assert [g["id"] for g in follow["items"]] == sorted(sim.dataset.groups)


def test_probability_is_seeded(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="groups", kind="http_error", status=503, probability=0.5))
    statuses = [groups(sim, http).status_code for _ in range(60)]
    assert 10 < statuses.count(503) < 50
    assert set(statuses) == {200, 503}


def test_first_matching_rule_wins_and_count_zero_is_inert(
    sim: Simulator, http: requests.Session
) -> None:
    sim.add_fault(FaultRule(path="groups", kind="http_error", status=500, count=0))
    sim.add_fault(FaultRule(path="groups", kind="http_error", status=502, count=1))
    sim.add_fault(FaultRule(path="groups", kind="http_error", status=503, count=1))
    assert [groups(sim, http).status_code for _ in range(3)] == [502, 503, 200]


def test_admin_faults_endpoint(sim: Simulator, http: requests.Session) -> None:
    rules = [
        {"path": "groups", "kind": "http_error", "status": 500, "count": 1},
        {"path": "users", "kind": "plan_gated", "count": 1},
    ]
    response = requests.post(sim.admin_url + "/faults", json=rules, timeout=5)
    assert response.status_code == 200
    assert len(response.json()["faults"]) == 2
    assert groups(sim, http).status_code == 500
    assert http.get(sim.url + "/users").status_code == 403
    assert groups(sim, http).status_code == 200
    bad = requests.post(sim.admin_url + "/faults", json=[{"path": "x", "kind": "nope"}], timeout=5)
    assert bad.status_code == 400
    requests.post(sim.admin_url + "/faults", json={"path": "groups", "kind": "absent"}, timeout=5)
    assert groups(sim, http).status_code == 404
    assert requests.delete(sim.admin_url + "/faults", timeout=5).status_code == 200
    assert groups(sim, http).status_code == 200


def test_fault_rule_validation() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule(path="x", kind="explode")
    with pytest.raises(ValueError, match="unknown fault fields"):
        FaultRule.from_dict({"path": "x", "kind": "drop", "colour": "red"})


def test_pagination_survives_transient_faults(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(FaultRule(path="connections$", kind="latency", delay_s=0.01, count=3))
    assert len(collect(http, sim.url + "/connections", limit=10)) == len(sim.dataset.connections)
