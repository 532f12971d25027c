"""Golden output: the Singer messages of a fixed simulator account, message for message.

Guards changes that must not change behaviour (the per-record fast path, moving modules
between layers): a first run and an incremental run over a fixed account (seed, size,
frozen clock), at concurrency 1 and 8, must write exactly the messages recorded in
``first.jsonl.gz`` and ``incremental.jsonl.gz`` next to this file — every RECORD,
SCHEMA, ACTIVATE_VERSION and STATE, in order. Each message is compared as canonical JSON
(sorted keys); ``time_extracted`` is the SDK's wall clock, the one value that is not the
tap's to fix, and is left out. The incremental run turns the request-saving cadences off
so that it reads everything again.

A change meant to change the output regenerates the files on purpose, and its commit says
what changed in them:

    FTM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fivetran_sim import SimConfig, Simulator

from tap_runner import run_tap

GOLDEN = Path(__file__).parent
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(minutes=90)
#: Settings that make an incremental run read everything.
READ_EVERYTHING = {"sync_history_recheck_hours": 0, "schema_refresh_hours": 0}


def base_config(sim: Simulator, concurrency: int) -> dict[str, Any]:
    return {
        "api_url": sim.url,
        "api_key": "k",
        "api_secret": "s",
        "page_size": 7,
        "start_date": (NOW - timedelta(days=10)).isoformat(),
        "max_concurrency": concurrency,
        "emit_activate_version_messages": True,
        "column_details": True,
        "column_request_budget": 40,
        "records_per_state_message": 50,
    }


def canonical(messages: list[dict[str, Any]]) -> list[str]:
    """Each message as canonical JSON, without the wall-clock ``time_extracted``."""
    return [
        json.dumps(
            {k: v for k, v in message.items() if k != "time_extracted"},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for message in messages
    ]


def runs(monkeypatch: pytest.MonkeyPatch, concurrency: int) -> dict[str, list[str]]:
    config = SimConfig(connections=24, seed=11, api_key="k", api_secret="s", now=NOW)
    with Simulator(config) as sim:
        monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: NOW)
        first = run_tap(base_config(sim, concurrency))
        sim.advance(90)
        monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: LATER)
        incremental = run_tap(
            {**base_config(sim, concurrency), **READ_EVERYTHING}, state=first.final_state
        )
    return {"first": canonical(first.messages), "incremental": canonical(incremental.messages)}


def read_golden(name: str) -> list[str]:
    with gzip.open(GOLDEN / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def write_golden(name: str, lines: list[str]) -> None:
    with gzip.GzipFile(GOLDEN / f"{name}.jsonl.gz", "wb", mtime=0) as raw:
        raw.write(("\n".join(lines) + "\n").encode())


@pytest.mark.parametrize("concurrency", [1, 8])
def test_output_equals_the_golden_recording(
    monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    produced = runs(monkeypatch, concurrency)
    if os.environ.get("FTM_UPDATE_GOLDEN") == "1" and concurrency == 1:
        for name, lines in produced.items():
            write_golden(name, lines)
    for name, lines in produced.items():
        golden = read_golden(name)
        for index, (got, want) in enumerate(zip(lines, golden, strict=False)):
            assert got == want, f"{name}: message {index} differs"
        assert len(lines) == len(golden), f"{name}: {len(lines)} messages, not {len(golden)}"
