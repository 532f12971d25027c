"""State size of the ``schema_changes`` fingerprints at scale, against the simulator.

    .venv/bin/python benchmarks/schema_changes_state.py --connections 1000

Runs the tap in-process (streams ``connections`` and ``schema_changes``), then prints the
bytes its state holds for ``schema_changes`` (compact JSON, as Meltano stores it), per
connection, table and listed column, next to ``connection_status_history``'s partitions for
comparison, and the rows a second run writes after a few tables changed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from history_helpers import catalog_for  # noqa: E402

from fivetran_sim import SimConfig, Simulator  # noqa: E402
from tap_fivetran_meta.tap import TapFivetranMeta  # noqa: E402

STREAMS = ("connections", "schema_changes", "connection_status_history")


def run(url: str, state: dict | None) -> tuple[dict, int]:
    tap = TapFivetranMeta(
        config={"api_key": "k", "api_secret": "s", "api_url": url},
        state=state,
        catalog=catalog_for(STREAMS),
        parse_env_config=False,
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    rows = sum(1 for m in messages if m["type"] == "RECORD" and m["stream"] == "schema_changes")
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1], rows


def size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    config = SimConfig(
        connections=args.connections,
        seed=7,
        api_key="k",
        api_secret="s",  # noqa: S106 - the simulator's test credential
        rate_limit_per_hour=None,
    )
    with Simulator(config) as sim:
        state, first_rows = run(sim.url, None)
        counts = sim.expected_counts()
        changed = 0
        for conn in sorted(sim.dataset.connections.values(), key=lambda c: c.id)[:10]:
            if not conn.has_schema_config:
                continue
            for schema in sim._state.shape(conn).schemas:
                table = next((t for t in schema.tables if t.enabled and schema.enabled), None)
                if table is not None:
                    sim.edit_table(conn.id, schema.name, table.name, enabled=False)
                    changed += 1
                    break
        _, second_rows = run(sim.url, state)
    bookmarks = state["bookmarks"]
    changes, status = bookmarks["schema_changes"], bookmarks["connection_status_history"]
    tables, columns = counts["connection_tables"], counts["connection_columns"]
    print(f"connections {args.connections}, tables {tables}, listed columns {columns}")
    print(f"schema_changes state: {size(changes):,} bytes")
    print(f"  per connection {size(changes) / args.connections:.0f} B")
    fingerprints = sum(
        len(p.get("tables", "")) + len(p.get("columns", "")) for p in changes["partitions"]
    )
    per_object = fingerprints / max(1, tables + columns)
    print(f"  fingerprints {fingerprints:,} B ({per_object:.1f} B per object)")
    print(f"connection_status_history state: {size(status):,} bytes (for comparison)")
    print(f"whole state: {size(state):,} bytes")
    print(f"rows: first run {first_rows}, after disabling {changed} tables {second_rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
