"""Shared test fixtures: offline Fivetran API, tap runner, no real sleeping."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import requests_mock

sys.path.insert(0, str(Path(__file__).parent))

import api_fixtures


@pytest.fixture
def api() -> requests_mock.Mocker:
    """The fixture account on requests-mock; unmatched URLs raise (no real network)."""
    with requests_mock.Mocker() as mocker:
        api_fixtures.register(mocker)
        yield mocker


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record backoff and rate-limit sleeps instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr("backoff._sync.time.sleep", slept.append)
    return slept


@pytest.fixture(autouse=True)
def _no_tap_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Developers' real TAP_FIVETRAN_META_* variables must never leak into tests."""
    for name in list(os.environ):
        if name.startswith("TAP_FIVETRAN_META_"):
            monkeypatch.delenv(name)
