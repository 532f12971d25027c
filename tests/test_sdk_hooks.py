"""The private singer-sdk hooks the tap relies on still exist, with the signatures we use.

Every hook here is listed, with its reason, in ``tap_fivetran_meta/runtime/sdk_hooks.py``;
that module is the only one allowed to name a private SDK attribute (checked below by
reading every module's syntax tree). A singer-sdk upgrade that renames, removes or
re-signs one of them fails here, by name, instead of a run going wrong later.
"""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
from pathlib import Path
from typing import Any, ClassVar

import pytest
from singer_sdk import RESTStream, Stream, Tap
from singer_sdk.exceptions import MaxRecordsLimitException, SyncLifecycleSignal
from singer_sdk.helpers import _state, _typing
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams._state import StreamStateManager

from tap_fivetran_meta.runtime import sdk_hooks
from tap_fivetran_meta.tap import TapFivetranMeta

PACKAGE = Path(__file__).resolve().parents[1] / "tap_fivetran_meta"
HOOKS_MODULE = PACKAGE / "runtime" / "sdk_hooks.py"

#: (owner, method) -> the signature the override in sdk_hooks.py is written against.
METHOD_SIGNATURES: dict[tuple[type, str], str] = {
    (Stream, "_write_schema_message"): "(self) -> 'None'",
    (Stream, "_write_record_message"): "(self, record: 'types.Record') -> 'None'",
    (Stream, "_write_state_message"): "(self) -> 'None'",
    (Stream, "_sync_records"): (
        "(self, context: 'types.Context | None' = None, *, write_messages: 'bool' = True)"
        " -> 't.Generator[dict, t.Any, t.Any]'"
    ),
    (Stream, "_write_starting_replication_value"): (
        "(self, context: 'types.Context | None') -> 'None'"
    ),
    (Stream, "_increment_stream_state"): (
        "(self, latest_record: 'types.Record', *, context: 'types.Context | None' = None) -> 'None'"
    ),
    (Stream, "_write_activate_version_message"): "(self, full_table_version: 'int') -> 'None'",
    (Stream, "_get_state_partition_context"): (
        "(self, context: 'types.Context | None') -> 'types.Context | None'"
    ),
    (Stream, "_check_max_record_limit"): "(self, current_record_index: 'int') -> 'None'",
    (Stream, "_finalize_state"): "(self, state: 'dict | None' = None) -> 'None'",
    (RESTStream, "_request"): (
        "(self, prepared_request: 'requests.PreparedRequest', context: 'Context | None')"
        " -> 'requests.Response'"
    ),
    (Tap, "_validate_config"): "(self, *, raise_errors: 'bool' = True) -> 'list[str]'",
    (Tap, "_handle_termination"): ("(self, signum: 'int', frame: 'FrameType | None') -> 'None'"),
    (StreamStateManager, "__init__"): (
        "(self, *, stream_name: 'str', tap_state: 'types.TapState', is_sorted: 'bool' = False,"
        " check_sorted: 'bool' = True, tap_name: 'str | None' = None,"
        " state_partitioning_keys: 't.Sequence[str] | None' = None) -> 'None'"
    ),
    (StreamStateManager, "get_context_state"): (
        "(self, context: 'types.Context | None') -> 'dict'"
    ),
    (_state.StateWriter, "__init__"): ("(self, message_writer: 'GenericSingerWriter') -> 'None'"),
    (_state.StateWriter, "write_state"): "(self, state: 'types.TapState') -> 'None'",
}

FUNCTION_SIGNATURES: dict[str, tuple[Any, str]] = {
    "helpers._state.get_state_partitions_list": (
        _state.get_state_partitions_list,
        "(tap_state: 'types.TapState', tap_stream_id: 'str') -> 'list[dict] | None'",
    ),
    "helpers._typing.conform_record_data_types": (
        _typing.conform_record_data_types,
        "(stream_name: 'str', record: 'dict[str, t.Any]', schema: 'dict',"
        " level: 'conform.TypeConformanceLevel', logger: 'logging.Logger')"
        " -> 'dict[str, t.Any]'",
    ),
}

#: Private attributes read on SDK objects (set by the SDK's constructors).
STREAM_ATTRIBUTES = ("_tap", "_tap_state", "_stream_version", "_state_manager")


def test_the_verified_sdk_version_is_the_installed_one() -> None:
    """Bump VERIFIED_SDK_VERSION only after re-checking every hook in sdk_hooks.py."""
    installed = importlib.metadata.version("singer-sdk")
    assert installed == sdk_hooks.VERIFIED_SDK_VERSION, (
        f"singer-sdk {installed} is installed; the private hooks were verified "
        f"with {sdk_hooks.VERIFIED_SDK_VERSION}: re-check runtime/sdk_hooks.py"
    )


@pytest.mark.parametrize(
    ("owner", "name"),
    list(METHOD_SIGNATURES),
    ids=[f"{owner.__name__}.{name}" for owner, name in METHOD_SIGNATURES],
)
def test_each_hook_exists_with_its_signature(owner: type, name: str) -> None:
    method = getattr(owner, name, None)
    assert method is not None, f"singer-sdk no longer has {owner.__name__}.{name}"
    assert str(inspect.signature(method)) == METHOD_SIGNATURES[owner, name]


@pytest.mark.parametrize("name", list(FUNCTION_SIGNATURES))
def test_each_private_helper_exists_with_its_signature(name: str) -> None:
    function, expected = FUNCTION_SIGNATURES[name]
    assert str(inspect.signature(function)) == expected


def test_the_env_var_prefix_is_still_a_class_property() -> None:
    assert isinstance(inspect.getattr_static(PluginBase, "_env_var_prefix"), object)
    assert TapFivetranMeta.env_var_prefix() == "TAP_FIVETRAN_META_"


def test_the_private_attributes_the_hooks_read_are_set_by_the_sdk() -> None:
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    stream = tap.streams["connections"]
    for attribute in STREAM_ATTRIBUTES:
        assert hasattr(stream, attribute), f"singer-sdk streams no longer set {attribute}"
    assert stream.services is tap
    assert isinstance(tap._state_writer, sdk_hooks.CompactStateWriter)
    writer = _state.StateWriter(tap.message_writer)
    assert hasattr(writer, "_message_writer")


def test_record_limits_are_still_a_lifecycle_signal() -> None:
    """The stream loop lets these through without stopping the workers (--test)."""
    assert issubclass(MaxRecordsLimitException, SyncLifecycleSignal)


def test_the_tap_overrides_only_hooks_listed_here() -> None:
    """Every private SDK method the package overrides is pinned above."""
    pinned = {name for _, name in METHOD_SIGNATURES} | {"_env_var_prefix"}
    sdk_private = {
        name
        for base in (Stream, RESTStream, Tap, PluginBase, StreamStateManager, _state.StateWriter)
        for name in dir(base)
        if name.startswith("_") and not name.startswith("__")
    }
    tree = ast.parse(HOOKS_MODULE.read_text())
    defined = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in sdk_private
    }
    assert defined <= pinned, f"overridden but not pinned: {sorted(defined - pinned)}"
    documented = HOOKS_MODULE.read_text().split('"""')[1]
    for name in sorted(defined):
        assert f"{name}" in documented, f"{name} is not listed in sdk_hooks' docstring"


def _private_sdk_uses(path: Path) -> list[str]:
    """Private singer_sdk modules imported, and private attributes of SDK objects named.

    An attribute counts when its name is one of the SDK's private names (so the tap's own
    private helpers, e.g. ``self._cursor``, do not).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            module = node.module or ""
            private = [part for part in module.split(".") if part.startswith("_")]
            names = [alias.name for alias in node.names if alias.name.startswith("_")]
            if private or names:
                uses.append(f"line {node.lineno}: from {module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr in _SDK_PRIVATE_NAMES:
            uses.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ClassDef):
            uses.extend(
                f"line {item.lineno}: def {node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name in _SDK_PRIVATE_NAMES
            )
    return uses


class _BareStream(Stream):
    name = "bare"
    schema: ClassVar[dict[str, Any]] = {"properties": {"id": {"type": "string"}}}

    def get_records(self, context: Any) -> Any:
        return iter(())


class _BareTap(Tap):
    name = "tap-bare"
    config_jsonschema: ClassVar[dict[str, Any]] = {"properties": {}}

    def discover_streams(self) -> list[Stream]:
        return [_BareStream(self)]


def _sdk_private_names() -> set[str]:
    """Private names of singer-sdk's classes and of what its constructors set."""
    tap = _BareTap(config={}, parse_env_config=False, validate_config=False)
    objects: list[Any] = [
        Stream,
        RESTStream,
        Tap,
        PluginBase,
        StreamStateManager,
        _state.StateWriter,
        tap,
        tap.streams["bare"],
    ]
    names: set[str] = set()
    for obj in objects:
        names |= {n for n in dir(obj) if n.startswith("_") and not n.startswith("__")}
    return names


_SDK_PRIVATE_NAMES = _sdk_private_names()


def test_no_module_but_sdk_hooks_names_a_private_sdk_attribute() -> None:
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == HOOKS_MODULE:
            continue
        uses = _private_sdk_uses(path)
        if uses:
            offenders[str(path.relative_to(PACKAGE.parent))] = uses
    assert offenders == {}, f"private singer-sdk use outside runtime/sdk_hooks.py: {offenders}"


def test_the_scan_finds_a_private_use() -> None:
    """The check above can fail: a module naming a private SDK hook is caught."""
    sample = HOOKS_MODULE.parent / "_scan_sample_not_a_module.py"
    try:
        sample.write_text(
            "from singer_sdk.helpers._state import StateWriter\n"
            "def f(stream):\n    stream._write_state_message()\n"
        )
        assert len(_private_sdk_uses(sample)) == 2
    finally:
        sample.unlink()


def test_every_stream_reaches_the_tap_through_tap_access() -> None:
    """A stream without TapAccess has no ``services`` and fails at its first row."""
    from tap_fivetran_meta.streams import STREAM_TYPES

    missing = [t.__name__ for t in STREAM_TYPES if not issubclass(t, sdk_hooks.TapAccess)]
    assert missing == []
