"""Auth, headers, content negotiation, rate limiting and error bodies."""

from __future__ import annotations

import time

import pytest
import requests
from sim_helpers import AUTH, get_data, make_config

from fivetran_sim import Simulator


def test_missing_auth_is_401_json(shared_sim: Simulator) -> None:
    response = requests.get(shared_sim.url + "/groups", timeout=5)
    assert response.status_code == 401
    assert response.json()["code"] == "Unauthorized"
    assert response.json()["message"]


@pytest.mark.parametrize(
    "auth", [("key", "wrong-secret-value"), ("other", "secret"), ("", ""), ("key", "")]
)
def test_wrong_credentials_are_401_without_echo(
    shared_sim: Simulator, auth: tuple[str, str]
) -> None:
    response = requests.get(shared_sim.url + "/connections", auth=auth, timeout=5)
    assert response.status_code == 401
    assert response.json()["code"] == "Unauthorized"
    assert "wrong-secret-value" not in response.text
    assert "secret" not in response.text.lower()
    assert "other" not in response.text


def test_bearer_scheme_rejected(shared_sim: Simulator) -> None:
    response = requests.get(
        shared_sim.url + "/groups", headers={"Authorization": "Bearer key:secret"}, timeout=5
    )
    assert response.status_code == 401


def test_admin_needs_no_auth(shared_sim: Simulator) -> None:
    response = requests.get(shared_sim.admin_url + "/counts", timeout=5)
    assert response.status_code == 200
    assert "counts" in response.json()


def test_standard_headers(shared_sim: Simulator, http: requests.Session) -> None:
    response = http.get(shared_sim.url + "/groups")
    assert response.headers["X-Rate-Limit"] == "20000"
    assert int(response.headers["X-Rate-Limit-Remaining"]) < 20000
    assert response.headers["X-Request-Id"]
    assert response.headers["Content-Type"].startswith("application/json")
    other = http.get(shared_sim.url + "/groups")
    assert other.headers["X-Request-Id"] != response.headers["X-Request-Id"]
    assert int(other.headers["X-Rate-Limit-Remaining"]) < int(
        response.headers["X-Rate-Limit-Remaining"]
    )


@pytest.mark.parametrize(
    "accept",
    ["*/*", "application/json", "application/json;version=2", "application/json; version=2"],
)
def test_accepted_media_types(shared_sim: Simulator, http: requests.Session, accept: str) -> None:
    response = http.get(shared_sim.url + "/connections", headers={"Accept": accept})
    assert response.status_code == 200


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json;version=3"])
def test_unsupported_accept_is_406(
    shared_sim: Simulator, http: requests.Session, accept: str
) -> None:
    response = http.get(shared_sim.url + "/connections", headers={"Accept": accept})
    assert response.status_code == 406


def test_keep_alive_reuses_one_connection(shared_sim: Simulator, http: requests.Session) -> None:
    first = http.get(shared_sim.url + "/groups")
    assert first.headers.get("Connection", "").lower() != "close"
    for _ in range(20):
        assert http.get(shared_sim.url + "/groups").status_code == 200


def test_rate_limit_429_with_retry_after() -> None:
    with Simulator(make_config(rate_limit_per_hour=3)) as sim, requests.Session() as session:
        session.auth = AUTH
        remaining = [
            session.get(sim.url + "/groups").headers["X-Rate-Limit-Remaining"] for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        limited = session.get(sim.url + "/groups")
        assert limited.status_code == 429
        assert limited.json()["code"] == "TooManyRequests"
        assert 1 <= int(limited.headers["Retry-After"]) <= 3600
        assert limited.headers["X-Rate-Limit"] == "3"
        sim.reset_rate_limit()
        assert session.get(sim.url + "/groups").status_code == 200


def test_unknown_path_404(shared_sim: Simulator, http: requests.Session) -> None:
    response = http.get(shared_sim.url + "/nothing/here")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


@pytest.mark.parametrize(
    ("path", "entity"),
    [
        ("/connections/nope_nope", "Connection"),
        ("/connections/nope_nope/schemas", "Connection"),
        ("/connections/nope_nope/sync-history", "Connection"),
        ("/groups/nope_nope", "Group"),
        ("/groups/nope_nope/connections", "Group"),
        ("/destinations/nope_nope", "Destination"),
        ("/users/nope_nope", "User"),
        ("/users/nope_nope/groups", "User"),
        ("/teams/nope_nope", "Team"),
        ("/teams/nope_nope/connections", "Team"),
    ],
)
def test_not_found_codes(
    shared_sim: Simulator, http: requests.Session, path: str, entity: str
) -> None:
    # Fivetran answers a bare NotFound: "Connection with id X not found".
    response = http.get(shared_sim.url + path)
    assert response.status_code == 404
    assert response.json() == {
        "code": "NotFound",
        "message": f"{entity} with id 'nope_nope' not found",
    }


def test_prefixed_not_found_codes_behind_a_switch(http: requests.Session) -> None:
    with Simulator(make_config(connections=5, prefixed_not_found_codes=True)) as sim:
        body = http.get(sim.url + "/users/nope_nope").json()
    assert body["code"] == "NotFound_User"


def test_schema_config_missing(shared_sim: Simulator, http: requests.Session) -> None:
    conn = shared_sim.dataset.by_scenario("incomplete")[0]
    response = http.get(f"{shared_sim.url}/connections/{conn.id}/schemas")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound_SchemaConfig"


def test_non_get_is_405(shared_sim: Simulator, http: requests.Session) -> None:
    response = http.post(shared_sim.url + "/groups", json={})
    assert response.status_code == 405


def test_global_latency() -> None:
    with Simulator(make_config(latency_ms=150)) as sim, requests.Session() as session:
        session.auth = AUTH
        started = time.perf_counter()
        get_data(session, sim.url + "/groups")
        assert time.perf_counter() - started >= 0.15


def test_system_key_account_info(http: requests.Session) -> None:
    with Simulator(make_config(system_key=True)) as sim:
        info = get_data(http, sim.url + "/account/info")
        assert "system_key_id" in info
        assert "user_id" not in info
    with Simulator(make_config()) as sim:
        info = get_data(http, sim.url + "/account/info")
        assert info["user_id"] in sim.dataset.users
        assert "system_key_id" not in info
