"""Shared test fixtures: offline Fivetran API, tap runner, no real sleeping."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests_mock
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

import api_fixtures

# Property tests check properties, not speed: no per-example deadline and no "too slow"
# health check, which fail by chance on a loaded machine (both cores busy, xdist workers).
settings.register_profile(
    "tap-fivetran-meta", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("tap-fivetran-meta")


@pytest.fixture
def api() -> requests_mock.Mocker:
    """The fixture account on requests-mock; unmatched URLs raise (no real network)."""
    with requests_mock.Mocker() as mocker:
        api_fixtures.register(mocker)
        yield mocker


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record retry and rate-limit waits (the tap's interruptible sleep) instead of waiting."""
    slept: list[float] = []

    def record(self: object, seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("tap_fivetran_meta.runtime.shutdown.StopSignal.sleep", record)
    return slept


@pytest.fixture(autouse=True)
def _no_tap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Developers' real TAP_FIVETRAN_META_* variables must never leak into tests."""
    for name in list(os.environ):
        if name.startswith("TAP_FIVETRAN_META_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _logging_left_enabled() -> Iterator[None]:
    """No test may leave ``logging.disable`` on: every later test in the process (an xdist
    worker runs hundreds) would lose its warnings, and tests that read them fail by order."""
    yield
    level = logging.root.manager.disable
    if level:
        logging.disable(logging.NOTSET)
        pytest.fail(f"the test left logging.disable({level}) on for the rest of the process")


#: Fixtures that bring PostgreSQL, Meltano or dbt: only tests marked e2e may use them.
E2E_FIXTURES = frozenset({"pg_dsn", "meltano_installed", "warehouse"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The fast tier is chosen by marker: a test using an e2e fixture must say e2e."""
    unmarked = [
        item.nodeid
        for item in items
        if E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("e2e") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests using PostgreSQL, Meltano or dbt fixtures must be marked e2e: "
            + ", ".join(unmarked)
        )


@pytest.fixture(autouse=True)
def _no_postgres_outside_e2e(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test not marked e2e cannot reach the throwaway PostgreSQL (the --fast tier)."""
    if request.node.get_closest_marker("e2e") is None:
        monkeypatch.delenv("FTM_TEST_PG_DSN", raising=False)
