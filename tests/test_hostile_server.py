"""Hangs a server can cause (issue 22, item 5), against a hostile loopback server.

A status line dripped one byte at a time must end the request within request_timeout
(plus retries), and a list that keeps handing out fresh cursors without new items must
stop with an error naming the endpoint long before 1,000 pages, while an honest long
listing is followed to its end.
"""

from __future__ import annotations

import time

import pytest
import requests
from history_helpers import run_capture
from hostile_server import HostileServer

from tap_fivetran_meta.api.errors import PaginationLoopError
from tap_fivetran_meta.api.http_session import ApiSession
from tap_fivetran_meta.api.pagination import MAX_EMPTY_PAGES
from tap_fivetran_meta.api.transport import BoundedAdapter

CONFIG = {"api_key": "k", "api_secret": "s3cr3t-hostile", "max_retries": 0}


def _session() -> requests.Session:
    session = ApiSession()
    session.mount("http://", BoundedAdapter(max_body_bytes=1 << 20))
    return session


def test_a_dripped_status_line_times_out_at_the_deadline() -> None:
    with HostileServer("drip", drip_seconds=0.25) as server:
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout, match="request_timeout"):
            _session().get(f"{server.url}/account/info", timeout=1)
        elapsed = time.monotonic() - started
    # A per-read timeout alone would wait for the whole dripped head (~20 s here).
    assert elapsed < 5, elapsed


def test_a_dripping_server_ends_the_run_within_the_timeout_and_retries() -> None:
    with HostileServer("drip", drip_seconds=0.25) as server:
        config = {**CONFIG, "api_url": server.url, "request_timeout": 1, "max_retries": 1}
        config["retry_backoff_base"] = 0.01
        started = time.monotonic()
        run = run_capture(config, streams={"account"})
        elapsed = time.monotonic() - started
    assert isinstance(run.error, requests.exceptions.ReadTimeout)
    assert "GET /v1/account/info" in str(run.error)
    assert len(server.requests) == 2  # the first attempt and one retry
    assert elapsed < 8, elapsed  # 2 x request_timeout, plus the watchdog's granularity


@pytest.mark.parametrize("repeat", ["repeat", "empty"])
def test_endless_fresh_cursors_without_new_items_stop_with_an_error(repeat: str) -> None:
    with HostileServer("endless", repeat=repeat) as server:
        run = run_capture({**CONFIG, "api_url": server.url}, streams={"groups"})
    assert isinstance(run.error, PaginationLoopError)
    assert "/groups" in str(run.error)
    assert "each with a new cursor" in str(run.error)
    pages = [r for r in server.requests if r.startswith("/v1/groups")]
    assert len(pages) <= MAX_EMPTY_PAGES + 2  # long before 1,000 pages


def test_an_honest_listing_of_thousands_of_pages_is_followed_to_its_end() -> None:
    with HostileServer("honest", pages=2500) as server:
        run = run_capture({**CONFIG, "api_url": server.url}, streams={"groups"})
    assert run.error is None
    assert len(run.records("groups")) == 2500
