"""Property suite: no state or catalog shape gives a traceback.

Every generated input is either refused up front with one ``InputFileError`` (the
command line turns it into one line and exit 1), or the tap runs on it to the end
against the offline API fixture. Nothing else may escape.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
import requests_mock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_fivetran_meta.runtime.input_files import InputFileError, shape_problem
from tap_fivetran_meta.tap import TapFivetranMeta

import api_fixtures as fx
from tap_runner import catalog_selecting, run_tap

#: The streams whose bookmarks a state can hold, plus their parent.
STATEFUL = {"connections", "sync_history", "connection_status_history", "webhook_events"}
SLOW = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.sampled_from(["2026-11-25T10:00:00Z", "2099-01-01T00:00:00Z", "started_at", "seq"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
contexts = st.dictionaries(
    st.sampled_from(["connection_id", "group_id", "service", "x"]),
    st.sampled_from(["speak_inexpensive", "broken_arrow", "nope"]) | json_values,
    max_size=3,
)
partitions = st.dictionaries(
    st.sampled_from(
        [
            "context",
            "replication_key",
            "replication_key_value",
            "progress_markers",
            "replication_key_signpost",
            "starting_replication_value",
            "recent_digests",
            "fingerprint",
            "other",
        ]
    ),
    contexts | json_values,
    max_size=5,
)
stream_states = st.dictionaries(
    st.sampled_from(
        ["partitions", "replication_key", "replication_key_value", "progress_markers", "x"]
    ),
    st.lists(partitions | json_values, max_size=3) | json_values,
    max_size=4,
)
#: Partitions of the right shape with values of any kind: they reach the streams' code.
plausible_partitions = st.fixed_dictionaries(
    {
        "context": st.fixed_dictionaries(
            {"connection_id": st.sampled_from(["speak_inexpensive", "broken_arrow", "x"])}
        )
    },
    optional={
        "replication_key": st.sampled_from(["started_at", "observed_at", "start"]) | scalars,
        "replication_key_value": scalars,
        "recent_digests": json_values,
        "fingerprint": json_values,
        "progress_markers": st.dictionaries(
            st.sampled_from(["replication_key", "replication_key_value", "Note"]), scalars
        ),
    },
)
plausible_states = st.fixed_dictionaries(
    {
        "bookmarks": st.dictionaries(
            st.sampled_from(["sync_history", "connection_status_history", "webhook_events"]),
            st.fixed_dictionaries(
                {"partitions": st.lists(plausible_partitions, max_size=4)},
                optional={"replication_key": scalars, "replication_key_value": scalars},
            ),
            max_size=3,
        )
    }
)
stream_names = st.sampled_from([*sorted(STATEFUL), "old_stream", "groups"]) | st.text(max_size=6)
states = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"bookmarks": st.dictionaries(stream_names, stream_states | json_values, max_size=4)},
        optional={"currently_syncing": json_values, "singer_state": json_values},
    ),
    st.fixed_dictionaries({"singer_state": json_values}),
    plausible_states,
)


def _runs_or_is_refused(**inputs: Any) -> None:
    for kind, value in inputs.items():
        if isinstance(value, str):  # in Python a string names a file; in a file it is refused
            assert shape_problem(value, kind), value
            return
    try:
        TapFivetranMeta(config=fx.CONFIG, parse_env_config=False, **inputs)
    except InputFileError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        assert refusal.startswith(("state: ", "catalog: ")), refusal
        assert "\n" not in refusal
        return
    with requests_mock.Mocker() as mocker:
        fx.register(mocker)
        fx.register_per_connection_data(mocker)
        run_tap(fx.CONFIG, **inputs)


@given(states)
@settings(max_examples=300)
def test_state_shape_check_is_total(state: Any) -> None:
    problem = shape_problem(state, "state")
    assert problem is None or (isinstance(problem, str) and "\n" not in problem)


@given(states)
@SLOW
def test_any_state_is_refused_in_one_line_or_runs(state: Any) -> None:
    _runs_or_is_refused(state=copy.deepcopy(state), catalog=_base_catalog())


@cache
def _catalog_template() -> dict[str, Any]:
    catalog = catalog_selecting(STATEFUL)
    catalog["streams"] = [e for e in catalog["streams"] if e["tap_stream_id"] in STATEFUL]
    return catalog


def _base_catalog() -> dict[str, Any]:
    return copy.deepcopy(_catalog_template())


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(_paths(child, (*prefix, index)))
    return found


def _replace(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = node
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return node


@cache
def _catalog_paths() -> list[tuple]:
    return _paths(_catalog_template())


@given(st.data())
@SLOW
def test_any_catalog_mutation_is_refused_in_one_line_or_runs(data: st.DataObject) -> None:
    catalog = _base_catalog()
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(catalog)
        path = paths[data.draw(st.integers(0, len(paths) - 1))]
        catalog = _replace(catalog, path, data.draw(json_values))
    _runs_or_is_refused(catalog=catalog)


@pytest.mark.parametrize(
    "catalog",
    [{"streams": "oops"}, [], {"streams": [{"tap_stream_id": "groups"}]}, {"streams": [1]}],
)
def test_known_bad_catalogs_are_refused(catalog: Any) -> None:
    with pytest.raises(InputFileError):
        TapFivetranMeta(config=fx.CONFIG, parse_env_config=False, catalog=catalog)
