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
