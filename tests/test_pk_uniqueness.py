"""Primary keys are unique per stream (the SDK's own primary-key test cannot fail)."""

from __future__ import annotations

import requests_mock

from tap_fivetran_meta.streams import STREAM_TYPES

import api_fixtures as fx
from tap_runner import run_tap


def duplicate_keys(records: list[dict], keys: tuple[str, ...]) -> list[tuple]:
    seen: set[tuple] = set()
    dupes = []
    for record in records:
        value = tuple(record.get(k) for k in keys)
        if value in seen:
            dupes.append(value)
        seen.add(value)
    return dupes


def test_every_stream_has_keys_and_no_duplicates(api: requests_mock.Mocker) -> None:
    result = run_tap(fx.CONFIG)
    for stream_type in STREAM_TYPES:
        keys = tuple(stream_type.primary_keys or ())
        assert keys, stream_type.name
        records = result.records.get(stream_type.name, [])
        assert not duplicate_keys(records, keys), stream_type.name
        for record in records:
            assert all(record.get(k) is not None for k in keys), (stream_type.name, record)


def test_duplicate_detector_detects() -> None:
    assert duplicate_keys([{"id": 1}, {"id": 1}], ("id",)) == [(1,)]
