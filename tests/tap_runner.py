"""Run the tap in-process and collect its Singer messages."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from tap_fivetran_meta.tap import TapFivetranMeta


@dataclass
class TapRun:
    """Messages of one tap run, sorted by kind."""

    messages: list[dict[str, Any]]
    tap: TapFivetranMeta
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records.setdefault(message["stream"], []).append(message["record"])

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        states = self.states
        return states[-1] if states else {}

    def count(self, stream: str) -> int:
        return len(self.records.get(stream, []))


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> TapRun:
    """Sync every selected stream; return the messages written to stdout."""
    tap = TapFivetranMeta(config=config, state=state, catalog=catalog, parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return TapRun(messages=messages, tap=tap)


def catalog_selecting(names: set[str]) -> dict[str, Any]:
    """A catalog (from discovery) with only ``names`` selected."""
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] in names
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = selected
    return catalog
