"""Fixtures for the simulator's own tests (real HTTP on loopback)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from fivetran_sim import Simulator

sys.path.insert(0, str(Path(__file__).parent))

from sim_helpers import AUTH, make_config


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """Read-only simulator shared by a module; do not mutate it."""
    with Simulator(make_config()) as sim:
        yield sim


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """Fresh simulator per test, free to mutate."""
    with Simulator(make_config()) as fresh:
        yield fresh


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = AUTH
        yield session
