"""The shared session resolves proxies like requests does, once per origin."""

from __future__ import annotations

import pytest
import requests

from tap_fivetran_meta.api.http_session import ApiSession


def prepared(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url).prepare()


def test_proxies_follow_the_environment_like_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "bypassed.example")
    session = ApiSession()
    plain = requests.Session()
    for url in ("https://api.fivetran.com/v1/groups", "https://bypassed.example/v1/groups"):
        expected = requests.utils.resolve_proxies(prepared(url), {}, True)
        assert session._proxies_for(prepared(url)) == expected
        assert plain.merge_environment_settings(url, {}, None, None, None)["proxies"].get(
            "https"
        ) == expected.get("https")
    assert session._proxies_for(prepared("https://api.fivetran.com/x")) == {
        "https": "http://proxy.internal:3128"
    }
    assert session._proxies_for(prepared("https://bypassed.example/x")) == {}


def test_the_environment_is_read_once_per_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = requests.utils.get_environ_proxies

    def counting(url: str, no_proxy: str | None = None) -> dict:
        calls.append(url)
        return original(url, no_proxy=no_proxy)

    monkeypatch.setattr("requests.utils.get_environ_proxies", counting)
    session = ApiSession()
    for page in range(5):
        session._proxies_for(prepared(f"https://api.fivetran.com/v1/groups?cursor={page}"))
    assert len(calls) == 1
