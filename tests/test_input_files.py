"""Input files: shape messages, outdated bookmarks dropped with a warning, Meltano's wrapper."""

from __future__ import annotations

import decimal
import logging
from typing import TYPE_CHECKING

import pytest
from jsonschema.exceptions import best_match

from tap_fivetran_meta.runtime import input_files
from tap_fivetran_meta.runtime.input_files import (
    InputFileError,
    StreamBookmarkRules,
    drop_outdated_bookmarks,
    read_config_file,
    shape_problem,
    unwrap_meltano_state,
    unwrap_saved_state,
    unwrap_state_message,
)
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures as fx

if TYPE_CHECKING:
    from pathlib import Path

RULES = {
    "sync_history": StreamBookmarkRules("started_at", ("connection_id",)),
    "connection_schemas": StreamBookmarkRules(None, ()),
    "groups": StreamBookmarkRules(None, None),
}


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        ({}, None),
        ({"bookmarks": {}}, None),
        ({"bookmarks": {"x": {"partitions": []}}, "currently_syncing": None}, None),
        (
            {"bookmarks": {"x": {"replication_key_value": {"a": 1}}}},
            "bookmarks.x.replication_key_value must be a string or a number or null, not an object",
        ),
        (
            {"bookmarks": {"x": {"partitions": [{"context": "c"}]}}},
            "bookmarks.x.partitions[0].context must be an object, not a string",
        ),
        ({"bookmarks": {"a b": []}}, 'bookmarks["a b"] must be an object, not an array'),
        (
            {"bookmarks": {"x": {"partitions": [{"context": {"c": 1}}, {"context": {"c": 1}}]}}},
            "bookmarks.x.partitions[1] repeats the context of an earlier bookmark",
        ),
        ({"currently_syncing": 5}, "currently_syncing must be a string or null, not a number"),
    ],
)
def test_state_shape_problems_say_where(state: dict, problem: str | None) -> None:
    found = shape_problem(state, "state")
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem), found


def test_catalog_property_schema_without_a_type_is_refused() -> None:
    catalog = {"streams": [{"tap_stream_id": "groups", "schema": {"properties": {"id": {}}}}]}
    assert "streams[0].schema.properties.id" in (shape_problem(catalog, "catalog") or "")


def test_outdated_bookmarks_are_dropped_and_named() -> None:
    kept = {
        "context": {"connection_id": "a"},
        "replication_key": "started_at",
        "replication_key_value": "2026-01-01T00:00:00Z",
    }
    state = {
        "bookmarks": {
            "removed_stream": {"replication_key_value": 1},
            "sync_history": {
                "replication_key": "started_at",
                "replication_key_value": "2026-01-01T00:00:00Z",
                "partitions": [
                    kept,
                    {"context": {"connection_id": "b", "group_id": "g"}},
                    {
                        "context": {"connection_id": "c"},
                        "replication_key": "sync_key",
                        "replication_key_value": "x",
                    },
                ],
            },
            "connection_schemas": {"partitions": [{"context": {"connection_id": "a"}}]},
            "groups": {},
        }
    }
    original = repr(state)
    usable, notes = drop_outdated_bookmarks(state, RULES)
    assert repr(state) == original  # the input is not modified
    assert usable["bookmarks"]["sync_history"] == {"partitions": [kept]}
    assert usable["bookmarks"]["connection_schemas"]["partitions"] == []
    assert set(usable["bookmarks"]) == {"sync_history", "connection_schemas", "groups"}
    text = "; ".join(notes)
    assert "streams this tap does not have: removed_stream" in text
    assert "sync_history: one bookmark for the whole stream" in text
    assert "sync_history: 1 bookmark(s) not keyed by (connection_id)" in text
    assert "sync_history: 1 bookmark(s) on another replication key than 'started_at'" in text
    assert "connection_schemas: 1 bookmark(s) not keyed by" in text


def test_a_current_state_is_used_as_it_is() -> None:
    state = {
        "bookmarks": {
            "sync_history": {
                "partitions": [
                    {
                        "context": {"connection_id": "a"},
                        "replication_key": "started_at",
                        "replication_key_value": "2026-01-01T00:00:00Z",
                    }
                ]
            }
        }
    }
    usable, notes = drop_outdated_bookmarks(state, RULES)
    assert usable is state
    assert notes == []


def test_meltano_state_export_is_unwrapped() -> None:
    inner = {"bookmarks": {}}
    unwrapped, note = unwrap_meltano_state({"singer_state": inner})
    assert unwrapped is inner
    assert note == "used the singer_state object of Meltano's state export"
    assert unwrap_meltano_state(inner) == (inner, None)


def test_tap_warns_once_about_what_it_ignored(caplog: pytest.LogCaptureFixture) -> None:
    state = {
        "singer_state": {
            "bookmarks": {
                "removed_stream": {},
                "sync_history": {"partitions": [{"context": {"connection_id": "a", "old": 1}}]},
            }
        }
    }
    with caplog.at_level(logging.INFO):
        tap = TapFivetranMeta(config=fx.CONFIG, state=state, parse_env_config=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "removed_stream" in warnings[0]
    assert "sync_history: 1 bookmark(s) not keyed by (connection_id)" in warnings[0]
    infos = [r.getMessage() for r in caplog.records if "Reading the state" in r.getMessage()]
    assert "Reading the state: used the singer_state object of Meltano's state export." in infos
    assert "removed_stream" not in tap.state["bookmarks"]
    assert tap.state["bookmarks"]["sync_history"].get("partitions", []) == []


def test_bad_state_in_process_raises_one_input_error() -> None:
    with pytest.raises(InputFileError, match=r"^state: bookmarks must be an object, not an array$"):
        TapFivetranMeta(config=fx.CONFIG, state={"bookmarks": []}, parse_env_config=False)


def test_config_file_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('"just a string"')
    with pytest.raises(InputFileError) as caught:
        read_config_file(str(path))
    assert (
        str(caught.value) == f"--config {path}: must hold a JSON object of settings, not a string"
    )


# --- the fast path for valid states agrees with the schema --------------------------------


def _schema_problem(value: object) -> str | None:
    error = best_match(input_files._VALIDATORS["state"].iter_errors(value))
    return None if error is None else error.message


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"bookmarks": {}},
        {"currently_syncing": None, "bookmarks": {"s": {}}},
        {"bookmarks": {"s": {"replication_key": "k", "replication_key_value": 1.5}}},
        {"bookmarks": {"s": {"replication_key_value": decimal.Decimal("2")}}},
        {"bookmarks": {"s": {"partitions": ({"context": {"a": 1}},)}}},
        {"bookmarks": {"s": {"progress_markers": {"replication_key_value": "x"}}}},
        {"bookmarks": {"s": {"partitions": [{"context": {}, "extra": [1]}]}}},
        # each of these breaks one rule of the schema
        [],
        {"currently_syncing": 3},
        {"bookmarks": []},
        {"bookmarks": {"s": []}},
        {"bookmarks": {"s": {"replication_key": 1}}},
        {"bookmarks": {"s": {"replication_key_value": True}}},
        {"bookmarks": {"s": {"replication_key_signpost": {}}}},
        {"bookmarks": {"s": {"starting_replication_value": [1]}}},
        {"bookmarks": {"s": {"progress_markers": []}}},
        {"bookmarks": {"s": {"progress_markers": {"replication_key": 2}}}},
        {"bookmarks": {"s": {"progress_markers": {"replication_key_value": False}}}},
        {"bookmarks": {"s": {"partitions": {}}}},
        {"bookmarks": {"s": {"partitions": [3]}}},
        {"bookmarks": {"s": {"partitions": [{}]}}},
        {"bookmarks": {"s": {"partitions": [{"context": []}]}}},
        {"bookmarks": {"s": {"partitions": [{"context": {}, "replication_key_value": {}}]}}},
    ],
)
def test_the_fast_state_check_never_passes_what_the_schema_refuses(state: object) -> None:
    if input_files._state_passes(state):
        assert _schema_problem(state) is None
    else:
        assert _schema_problem(state) is not None


def test_duplicate_contexts_are_told_apart_by_type_as_in_json() -> None:
    distinct = {
        "bookmarks": {"s": {"partitions": [{"context": {"a": v}} for v in (1, 1.0, True, "1")]}}
    }
    assert shape_problem(distinct, "state") is None
    twice = {"bookmarks": {"s": {"partitions": [{"context": {"a": [1]}}, {"context": {"a": [1]}}]}}}
    assert "repeats the context" in (shape_problem(twice, "state") or "")


def test_saved_state_message_is_unwrapped() -> None:
    inner = {"bookmarks": {"groups": {}}}
    message = {"type": "STATE", "value": inner}
    assert unwrap_state_message(message) == (inner, "used the value of the Singer STATE message")
    assert unwrap_saved_state(message) == (inner, "used the value of the Singer STATE message")
    assert unwrap_state_message(inner) == (inner, None)
    assert unwrap_state_message({"type": "RECORD", "value": inner})[1] is None
    # A state that has bookmarks is a state, whatever other keys it carries.
    plain = {"bookmarks": {}, "type": "STATE", "value": {}}
    assert unwrap_saved_state(plain) == (plain, None)


def test_tap_reads_a_saved_state_message_with_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bookmark = {"replication_key": "observed_at", "replication_key_value": "2026-11-01T00:00:00Z"}
    inner = {
        "bookmarks": {
            "schema_changes": {"partitions": [{"context": {"connection_id": "a"}, **bookmark}]}
        }
    }
    with caplog.at_level(logging.INFO):
        tap = TapFivetranMeta(
            config=fx.CONFIG, state={"type": "STATE", "value": inner}, parse_env_config=False
        )
    assert tap.state["bookmarks"]["schema_changes"]["partitions"][0]["replication_key_value"] == (
        "2026-11-01T00:00:00Z"
    )
    lines = [r for r in caplog.records if "Reading the state" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in lines] == [
        (logging.INFO, "Reading the state: used the value of the Singer STATE message.")
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_state_message_of_the_wrong_shape_is_refused_in_one_line() -> None:
    with pytest.raises(
        InputFileError, match=r"^state: the top level must be an object, not an array$"
    ):
        TapFivetranMeta(
            config=fx.CONFIG, state={"type": "STATE", "value": []}, parse_env_config=False
        )
