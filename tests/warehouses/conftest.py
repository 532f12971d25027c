"""Fixtures of the warehouse engine tests (pytest -m warehouse; see README "Every warehouse").

Each engine runs in its own venv (scripts/warehouse-env ENGINE), never in .venv: the
adapters, the Snowflake emulator and pyspark stay out of the demo and the default tests.
The simulator data is captured once per session (capture.py); DuckDB's build of it is
the reference every other engine is compared with.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))


def engine_python(engine: str) -> str:
    """The python of the engine's venv, created (or reused) by scripts/warehouse-env;
    prints how long that took and how big the venv is."""
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "scripts" / "warehouse-env"), engine],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    python = result.stdout.strip().splitlines()[-1]
    venv = Path(python).parents[1]
    size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    print(
        f"\nwarehouse-env {engine}: {time.monotonic() - started:.1f} s, "
        f"venv {size / 1e6:.0f} MB ({venv.relative_to(ROOT)})"
    )
    return python


def run_engine(python: str, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """engine_run.py (or another script of this folder) in an engine venv, in ``work``."""
    return subprocess.run(
        [python, *args],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )


@pytest.fixture(scope="session")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(work directory with messages.jsonl and project/, the frozen build time)."""
    from capture import capture

    work = tmp_path_factory.mktemp("warehouses")
    capture(work)
    built = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=1)
    return work, built.strftime("%Y-%m-%d %H:%M:%S")


def engine_work(captured: tuple[Path, str], engine: str) -> Path:
    """A copy of the captured data for one engine (engines write beside it)."""
    source, _ = captured
    work = source.parent / f"{source.name}-{engine}"
    if not work.exists():
        shutil.copytree(source, work, ignore=shutil.ignore_patterns("*.json", "target-*"))
    return work


def build(captured: tuple[Path, str], engine: str, python: str, *extra: str) -> dict[str, Any]:
    """``engine_run.py build ENGINE``: the report, with the build's wall time printed."""
    work = engine_work(captured, engine)
    started = time.monotonic()
    result = run_engine(
        python,
        work,
        str(HERE / "engine_run.py"),
        "build",
        engine,
        "--work",
        str(work),
        "--build-time",
        captured[1],
        *extra,
    )
    report_path = work / f"{engine}.json"
    assert report_path.exists(), (result.stdout + result.stderr)[-6000:]
    report: dict[str, Any] = json.loads(report_path.read_text())
    timings = ", ".join(f"{k} {v:.1f}" for k, v in report["timings"].items())
    print(f"{engine}: build {time.monotonic() - started:.1f} s wall ({timings})")
    assert not report["failures"], "\n".join(report["failures"]) + result.stdout[-4000:]
    return report


@pytest.fixture(scope="session")
def reference(captured: tuple[Path, str]) -> dict[str, Any]:
    """DuckDB's build of the captured data (the demo's engine)."""
    return build(captured, "duckdb", engine_python("duckdb"))
