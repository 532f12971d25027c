"""transform/macros/tap_columns.sql lists the tap's tables and columns as its catalog has
them: the package compiles without a connection (var fivetran_meta_introspect false) only
while it does. After changing a stream's schema: .venv/bin/python scripts/tap_columns.py."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import tap_columns  # noqa: E402


def test_the_macro_file_is_current() -> None:
    tables = tap_columns.tap_tables()
    assert tap_columns.TARGET.read_text() == tap_columns.render(tables), (
        "transform/macros/tap_columns.sql is out of date: run scripts/tap_columns.py"
    )


def test_every_table_the_models_read_is_listed() -> None:
    sources = (ROOT / "transform" / "models" / "sources.yml").read_text()
    read = {
        line.split("name:", 1)[1].strip()
        for line in sources.splitlines()
        if line.startswith("      - name:")
    }
    listed = set(tap_columns.tap_tables())
    assert read <= listed, read - listed
    assert {"connections", "connection_status_history", "tap_runs"} <= read
    for name in ("id", "health", "observed_at"):
        assert name in tap_columns.tap_tables()["connections"]
