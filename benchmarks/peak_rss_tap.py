"""Run the tap CLI for the benchmark; write its own peak RSS (VmHWM, kB) to $PEAK_RSS_FILE.

``ru_maxrss`` from ``wait4`` is not usable here: at exec, Linux carries the forking
parent's high-water mark into the child's, so a benchmark process that holds a large
simulator would be charged to the tap. VmHWM belongs to the tap's own address space.

``$FROZEN_NOW`` (ISO 8601) fixes the tap's clock to the simulator's, so runs compare.
``$BENCH_LIFT_BUDGET=1`` lifts the client-side hourly budget, for the one benchmark run
that needs more than an hour's quota by design (a first run over 10,000 connections),
so its requests can be counted; the tap's plan line still says it would not fit.
"""

from __future__ import annotations

import atexit
import os
from datetime import datetime
from pathlib import Path

import tap_fivetran_meta.tap as tap_module
from tap_fivetran_meta.api.ratelimit import RateBudget


def _report_peak() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            Path(os.environ["PEAK_RSS_FILE"]).write_text(line.split()[1])


if __name__ == "__main__":
    atexit.register(_report_peak)
    if os.environ.get("FROZEN_NOW"):
        frozen = datetime.fromisoformat(os.environ["FROZEN_NOW"])
        tap_module.utcnow = lambda: frozen
    if os.environ.get("BENCH_LIFT_BUDGET") == "1":
        RateBudget._window_wait = lambda _self, _now: 0.0  # type: ignore[method-assign]
    tap_module.TapFivetranMeta.cli()
