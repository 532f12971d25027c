"""The fast tier is chosen by marker, and the markers cannot be forgotten."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _root_conftest() -> Any:
    """tests/conftest.py itself (``import conftest`` may find another folder's)."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "tests" / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeItem:
    def __init__(self, nodeid: str, fixturenames: list[str], *, e2e: bool) -> None:
        self.nodeid = nodeid
        self.fixturenames = fixturenames
        self._e2e = e2e

    def get_closest_marker(self, name: str) -> Any:
        return object() if name == "e2e" and self._e2e else None


def test_a_test_using_postgres_or_meltano_must_be_marked_e2e() -> None:
    items: list[Any] = [
        FakeItem("tests/test_a.py::ok", ["tmp_path"], e2e=False),
        FakeItem("tests/e2e/test_b.py::marked", ["pg_dsn", "meltano_installed"], e2e=True),
        FakeItem("tests/test_c.py::forgot", ["warehouse", "pg_dsn"], e2e=False),
    ]
    with pytest.raises(pytest.UsageError, match=r"must be marked e2e: tests/test_c.py::forgot$"):
        _root_conftest().pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    _root_conftest().pytest_collection_modifyitems(None, items[:2])  # type: ignore[arg-type]


def test_unmarked_tests_cannot_reach_postgres() -> None:
    import os

    assert "FTM_TEST_PG_DSN" not in os.environ


def test_every_end_to_end_module_is_marked_e2e() -> None:
    modules = sorted((ROOT / "tests" / "e2e").glob("test_*.py"))
    assert modules
    for module in modules:
        assert "pytest.mark.e2e" in module.read_text(), module.name
