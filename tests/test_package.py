"""The built wheel and sdist, installed in a clean environment (scripts/check-package)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_wheel_installs_and_runs_outside_the_repository() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "check-package")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check-package: OK" in result.stdout
