"""Golden output: the Singer messages of a fixed simulator account, byte for byte.

Guards refactors that must not change behaviour (e.g. moving modules between layers):
the tap's whole output for a fixed account (seed, size, clock) at concurrency 1 and 8 is
compared with ``singer_output.jsonl.gz`` next to this file. A change that is meant to
change the output regenerates the file on purpose:

    FTM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden

and the commit says what changed in it.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from fivetran_sim import SimConfig, Simulator

from tap_runner import run_tap

GOLDEN = Path(__file__).parent / "singer_output.jsonl.gz"
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)


def canonical_output(monkeypatch: pytest.MonkeyPatch, concurrency: int) -> list[str]:
    """Every message of one full run, each as canonical JSON (sorted keys).

    ``time_extracted`` is the SDK's wall clock, the one value that is not the tap's
    to fix; it is left out.
    """
    monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: NOW)
    config = SimConfig(connections=25, seed=3, api_key="k", api_secret="s", now=NOW)
    with Simulator(config) as sim:
        tap_config: dict[str, Any] = {
            "api_key": "k",
            "api_secret": "s",
            "api_url": sim.url,
            "max_concurrency": concurrency,
            "column_details": True,
            "emit_activate_version_messages": True,
            "records_per_state_message": 50,
        }
        result = run_tap(tap_config)
    for message in result.messages:
        message.pop("time_extracted", None)
    return [json.dumps(m, sort_keys=True, separators=(",", ":")) for m in result.messages]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_output_equals_the_golden_file(monkeypatch: pytest.MonkeyPatch, concurrency: int) -> None:
    lines = canonical_output(monkeypatch, concurrency)
    if os.environ.get("FTM_UPDATE_GOLDEN") == "1" and concurrency == 1:
        with gzip.open(GOLDEN, "wt", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as golden:
        expected = golden.read().splitlines()
    for index, (got, want) in enumerate(zip(lines, expected, strict=False)):
        assert got == want, f"message {index} differs"
    assert len(lines) == len(expected)
