"""Run the tap CLI and write its own peak RSS (VmHWM, kB) to $PEAK_RSS_FILE at exit.

``ru_maxrss`` from ``wait4`` is not usable here: at exec, Linux carries the forking
parent's high-water mark into the child's, so a benchmark process that holds a large
simulator would be charged to the tap. VmHWM belongs to the tap's own address space.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

from tap_fivetran_meta.tap import TapFivetranMeta


def _report_peak() -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            Path(os.environ["PEAK_RSS_FILE"]).write_text(line.split()[1])


if __name__ == "__main__":
    atexit.register(_report_peak)
    TapFivetranMeta.cli()
