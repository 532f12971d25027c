"""The tap's Singer output stays what it was (golden files), at concurrency 1 and 8.

``tests/golden/*.jsonl.gz`` hold the messages of a first and an incremental run over a
fixed simulator account and a frozen clock, recorded before the per-record path was
rewritten for speed (issue 15). Every RECORD, SCHEMA and ACTIVATE_VERSION message must
come out again in the same order, and the final STATE must hold the same bookmarks.
Compared as parsed JSON: the bytes may differ (e.g. non-ASCII written as UTF-8 instead
of ``\\u`` escapes); ``time_extracted`` is the wall clock and is left out. STATE fields
added since are listed in :data:`NEW_STATE_FIELDS`, and the incremental run turns the
request-saving cadences off so that it reads what the recording read.

Regenerate (only when an output change is intended and documented in the CHANGELOG):
``GOLDEN_WRITE=1 .venv/bin/python -m pytest tests/test_golden_output.py``.
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

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(minutes=90)
#: Per-connection sync-history state fields added by issue 15 (see docs/history.md).
NEW_STATE_FIELDS = frozenset({"read_at", "sync_marker", "sync_running"})
#: Stream-level state added by issue 15 (schema_refresh_hours, see docs/lineage.md).
NEW_STREAM_STATE = frozenset({"schema_read_at"})
#: Settings that make an incremental run read everything, as before issue 15.
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


def comparable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every message but STATE, without the wall-clock ``time_extracted``."""
    out = []
    for message in messages:
        if message["type"] == "STATE":
            continue
        out.append({k: v for k, v in message.items() if k != "time_extracted"})
    return out


def final_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The last STATE, without the fields added since the recording."""
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    state = json.loads(json.dumps(states[-1]))
    for stream_state in state.get("bookmarks", {}).values():
        for name in NEW_STREAM_STATE:
            stream_state.pop(name, None)
        for partition in stream_state.get("partitions", []):
            for name in NEW_STATE_FIELDS:
                partition.pop(name, None)
    return state


def runs(monkeypatch: pytest.MonkeyPatch, concurrency: int) -> dict[str, list[dict[str, Any]]]:
    config = SimConfig(connections=24, seed=11, api_key="k", api_secret="s", now=NOW)
    with Simulator(config) as sim:
        monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: NOW)
        first = run_tap(base_config(sim, concurrency))
        sim.advance(90)
        monkeypatch.setattr("tap_fivetran_meta.tap.utcnow", lambda: LATER)
        incremental = run_tap(
            {**base_config(sim, concurrency), **READ_EVERYTHING}, state=first.final_state
        )
    return {"first": first.messages, "incremental": incremental.messages}


def read_golden(name: str) -> list[dict[str, Any]]:
    with gzip.open(GOLDEN / f"{name}.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def write_golden(name: str, messages: list[dict[str, Any]]) -> None:
    GOLDEN.mkdir(exist_ok=True)
    with gzip.GzipFile(GOLDEN / f"{name}.jsonl.gz", "wb", mtime=0) as raw:
        for message in messages:
            raw.write((json.dumps(message, sort_keys=True) + "\n").encode())


@pytest.mark.parametrize("concurrency", [1, 8])
def test_output_equals_the_golden_recording(
    monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    produced = runs(monkeypatch, concurrency)
    if os.environ.get("GOLDEN_WRITE") and concurrency == 1:
        for name, messages in produced.items():
            write_golden(name, messages)
    for name, messages in produced.items():
        golden = read_golden(name)
        assert len(comparable(messages)) == len(comparable(golden)), name
        for index, (got, want) in enumerate(
            zip(comparable(messages), comparable(golden), strict=True)
        ):
            assert got == want, f"{name}: message {index} differs"
        assert final_state(messages) == final_state(golden), f"{name}: final STATE differs"
