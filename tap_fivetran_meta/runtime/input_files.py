"""The files a run starts from (``--config``, ``--state``, ``--catalog``), checked first.

Each problem becomes one :class:`InputFileError` naming the file and what is wrong with
it, before any request is made or message written: a missing or unreadable file, bytes
that are not UTF-8 text, text that is not JSON, and JSON of the wrong shape. State and
catalog shapes are JSON Schemas (:data:`STATE_SCHEMA`, :data:`CATALOG_SCHEMA`), written
for what singer-sdk 0.54 reads from them; anything they accept the SDK can load.

A state that is well formed but was written by an older version of the tap (bookmarks of
streams it no longer has, per-connection bookmarks keyed differently, a replication key
that has since changed) is not an error: :func:`drop_outdated_bookmarks` removes those
parts and says what it removed, and the affected streams read from ``start_date``.
"""

from __future__ import annotations

import json
import os
import re
import select
import stat
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import simplejson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import extend

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: The longest excerpt of a problem quoted in an error line.
MAX_DETAIL = 200
#: Largest config, state or catalog file read (a 300,000-connection state is ~60 MB).
MAX_INPUT_BYTES = 256 * 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024
#: Longest a pipe given as an input file may stay silent.
INPUT_READ_SECONDS = 30

BOOKMARK_VALUE = {"type": ["string", "number", "null"]}
STATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Singer state",
    "type": "object",
    "properties": {
        "bookmarks": {"type": "object", "additionalProperties": {"$ref": "#/$defs/stream"}},
        "currently_syncing": {"type": ["string", "null"]},
    },
    "$defs": {
        "markers": {
            "type": "object",
            "properties": {
                "replication_key": {"type": ["string", "null"]},
                "replication_key_value": BOOKMARK_VALUE,
                "replication_key_signpost": BOOKMARK_VALUE,
                "starting_replication_value": BOOKMARK_VALUE,
                "progress_markers": {
                    "type": "object",
                    "properties": {
                        "replication_key": {"type": ["string", "null"]},
                        "replication_key_value": BOOKMARK_VALUE,
                    },
                },
            },
        },
        "partition": {
            "allOf": [{"$ref": "#/$defs/markers"}],
            "required": ["context"],
            "properties": {"context": {"type": "object"}},
        },
        "stream": {
            "allOf": [{"$ref": "#/$defs/markers"}],
            "properties": {"partitions": {"type": "array", "items": {"$ref": "#/$defs/partition"}}},
        },
    },
}

CATALOG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Singer catalog",
    "type": "object",
    "required": ["streams"],
    "properties": {"streams": {"type": "array", "items": {"$ref": "#/$defs/entry"}}},
    "$defs": {
        "entry": {
            "type": "object",
            "required": ["tap_stream_id", "schema"],
            "properties": {
                "tap_stream_id": {"type": "string"},
                "stream": {"type": "string"},
                "schema": {"$ref": "#/$defs/schema", "required": ["properties"]},
                "key_properties": {"type": "array", "items": {"type": "string"}},
                "replication_key": {"type": ["string", "null"]},
                "replication_method": {"enum": ["FULL_TABLE", "INCREMENTAL", "LOG_BASED", None]},
                "metadata": {"type": "array", "items": {"$ref": "#/$defs/metadata"}},
            },
        },
        "schema": {
            "description": "The part of JSON Schema singer-sdk reads from a stream schema.",
            "type": "object",
            "properties": {
                "type": {
                    "anyOf": [
                        {"$ref": "#/$defs/simple_type"},
                        {
                            "type": "array",
                            "items": {"$ref": "#/$defs/simple_type"},
                            "minItems": 1,
                            "uniqueItems": True,
                        },
                    ]
                },
                "properties": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/$defs/typed_schema"},
                },
                "patternProperties": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/$defs/typed_schema"},
                },
                "additionalProperties": {
                    "anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/typed_schema"}]
                },
                "items": {"$ref": "#/$defs/typed_schema"},
                "anyOf": {"$ref": "#/$defs/schema_list"},
                "oneOf": {"$ref": "#/$defs/schema_list"},
                "allOf": {"$ref": "#/$defs/schema_list"},
                "required": {"type": "array", "items": {"type": "string"}},
                "enum": {"type": "array"},
                "format": {"type": "string"},
                "description": {"type": "string"},
                "title": {"type": "string"},
            },
        },
        "typed_schema": {
            "description": "A property's schema: singer-sdk needs its type to read values.",
            "allOf": [{"$ref": "#/$defs/schema"}],
            "anyOf": [{"required": ["type"]}, {"required": ["anyOf"]}],
        },
        "schema_list": {"type": "array", "items": {"$ref": "#/$defs/typed_schema"}},
        "simple_type": {
            "enum": ["array", "boolean", "integer", "null", "number", "object", "string"]
        },
        "metadata": {
            "type": "object",
            "required": ["breadcrumb", "metadata"],
            "properties": {
                "breadcrumb": {"type": "array", "items": {"type": "string"}},
                "metadata": {
                    "type": "object",
                    "properties": {
                        "selected": {"type": ["boolean", "null"]},
                        "selected-by-default": {"type": ["boolean", "null"]},
                        "inclusion": {"enum": ["available", "automatic", "unsupported", None]},
                        "table-key-properties": {"type": "array", "items": {"type": "string"}},
                        "valid-replication-keys": {"type": "array", "items": {"type": "string"}},
                        "replication-key": {"type": ["string", "null"]},
                        "forced-replication-method": {
                            "enum": ["FULL_TABLE", "INCREMENTAL", "LOG_BASED", None]
                        },
                    },
                },
            },
        },
    },
}

#: Parsed JSON from a file has lists; a state or catalog built in Python may have tuples.
_Validator = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
        "array", lambda _checker, instance: isinstance(instance, list | tuple)
    ),
)
_VALIDATORS = {"state": _Validator(STATE_SCHEMA), "catalog": _Validator(CATALOG_SCHEMA)}


class InputFileError(Exception):
    """A --config/--state/--catalog input that cannot be used; one readable line."""

    def __init__(self, kind: str, problem: str, *, source: str | None = None) -> None:
        """Describe the problem.

        Args:
            kind: ``config``, ``state`` or ``catalog``.
            problem: What is wrong, without the file name.
            source: How the user named the input, e.g. ``--state state.json``.
        """
        self.kind = kind
        self.problem = problem
        self.source = source or kind
        super().__init__(f"{self.source}: {problem}")

    def naming(self, source: str) -> InputFileError:
        """The same problem, attributed to ``source`` (the option and file name)."""
        return InputFileError(self.kind, self.problem, source=source)


def parse_json_text(text: str, kind: str) -> Any:
    """Parse JSON text of one input.

    Raises:
        InputFileError: If it is empty, not JSON, or nested too deeply to read.
    """
    if not text.strip():
        raise InputFileError(kind, "is empty (expected a JSON object)")
    try:
        return simplejson.loads(text, parse_float=Decimal)  # as singer-sdk reads them
    except (json.JSONDecodeError, simplejson.JSONDecodeError) as exc:
        raise InputFileError(
            kind, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise InputFileError(kind, "is JSON nested too deeply to read") from None
    except ValueError:  # Python's limit on integer digits (4,300)
        raise InputFileError(
            kind, "holds a number too long to read (thousands of digits): not a real value"
        ) from None


def decode_text(data: bytes, kind: str) -> str:
    """UTF-8 text of an input file's bytes.

    Raises:
        InputFileError: If the bytes are not UTF-8 (a binary or mis-encoded file).
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            kind,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "expected a JSON file",
        ) from None


def read_bounded(path: Path, kind: str) -> bytes:
    """An input file's bytes, at most :data:`MAX_INPUT_BYTES`, without blocking forever.

    A FIFO without a writer reads as empty instead of waiting for one, a device such as
    ``/dev/zero`` stops at the size cap, and a pipe whose writer stays silent for
    :data:`INPUT_READ_SECONDS` is given up on.

    Raises:
        InputFileError: If the input is larger than the cap or arrives too slowly.
        OSError: If it cannot be opened or read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb", buffering=0) as file:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if regular:
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + INPUT_READ_SECONDS
        while True:
            try:
                chunk = file.read(READ_CHUNK_BYTES)
            except BlockingIOError:
                chunk = None  # a pipe with a writer that has not written yet
            if chunk is None:
                remaining = deadline - time.monotonic()
                ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
                if not ready:
                    msg = f"sent nothing for {INPUT_READ_SECONDS} s (a pipe nobody writes to?)"
                    raise InputFileError(kind, msg)
                continue
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_INPUT_BYTES:
                cap = MAX_INPUT_BYTES // (1024 * 1024)
                raise InputFileError(kind, f"is larger than {cap} MB: not a {kind} file")
            chunks.append(chunk)


def read_json_file(path: str | Path, kind: str) -> tuple[str, Any]:
    """Read and parse one JSON input file.

    Returns:
        The file's text and its parsed value.

    Raises:
        InputFileError: If it is missing, a directory, unreadable, not text or not JSON.
    """
    try:
        data = read_bounded(Path(path), kind)
    except FileNotFoundError:
        raise InputFileError(kind, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(kind, "is a directory, not a JSON file") from None
    except PermissionError:
        raise InputFileError(kind, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputFileError(kind, f"cannot be read ({exc.strerror or exc})") from None
    text = decode_text(data, kind)
    return text, parse_json_text(text, kind)


def read_config_file(path: str) -> dict[str, Any]:
    """The settings in one ``--config`` file.

    Raises:
        InputFileError: If the file cannot be read or does not hold a JSON object.
    """
    source = f"--config {path}"
    try:
        _, value = read_json_file(path, "config")
    except InputFileError as exc:
        raise exc.naming(source) from None
    if not isinstance(value, dict):
        problem = f"must hold a JSON object of settings, not {json_type(value)}"
        raise InputFileError("config", problem, source=source)
    return value


def json_type(value: object) -> str:
    """The JSON name of a value's type, with an article ("an array", "a string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"


TYPE_WITH_ARTICLE = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
}


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _where(error: ValidationError) -> str:
    """The failing location as ``bookmarks.sync_history.partitions[0]``, one line."""
    parts = ""
    for step in error.absolute_path:
        if isinstance(step, int):
            parts += f"[{step}]"
        elif _PLAIN_KEY.fullmatch(step):
            parts += f".{step}" if parts else step
        else:  # a key with spaces, dots, newlines...: quoted, and never too long
            parts += f"[{json.dumps(step[:40])}]"
    return parts or "the top level"


def _describe(error: ValidationError) -> str:
    where = _where(error)
    if error.validator == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(TYPE_WITH_ARTICLE.get(str(name), str(name)) for name in names)
        return f"{where} must be {wanted}, not {json_type(error.instance)}"
    if error.validator == "required":
        return f"{where} lacks {error.message.split(' is a required')[0]}"
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        return f"{where} must be one of {allowed}"
    return f"{where}: {error.message[:MAX_DETAIL]}"


def _is_bookmark_value(value: object) -> bool:
    """A JSON Schema ``string``, ``number`` or ``null`` (:data:`BOOKMARK_VALUE`)."""
    return value is None or (
        isinstance(value, str | int | float | Decimal) and not isinstance(value, bool)
    )


_BOOKMARK_KEYS = ("replication_key_value", "replication_key_signpost", "starting_replication_value")


def _markers_pass(markers: object) -> bool:
    """Whether a stream's or partition's markers certainly pass ``$defs/markers``."""
    if not isinstance(markers, dict):
        return False
    key = markers.get("replication_key")
    if key is not None and not isinstance(key, str):
        return False
    if not all(_is_bookmark_value(markers.get(name)) for name in _BOOKMARK_KEYS):
        return False
    if "progress_markers" not in markers:
        return True
    progress = markers["progress_markers"]
    if not isinstance(progress, dict):
        return False
    key = progress.get("replication_key")
    return (key is None or isinstance(key, str)) and _is_bookmark_value(
        progress.get("replication_key_value")
    )


def _stream_passes(stream_state: object) -> bool:
    """Whether one stream's state certainly passes ``$defs/stream``."""
    if not _markers_pass(stream_state):
        return False
    partitions = cast("dict[str, Any]", stream_state).get("partitions", ())
    return isinstance(partitions, list | tuple) and all(
        _markers_pass(partition) and isinstance(partition.get("context"), dict)
        for partition in partitions
    )


def _state_passes(state: object) -> bool:
    """Whether a state certainly passes :data:`STATE_SCHEMA`, checked in plain Python.

    The same rules as the schema, about fifty times faster on a large state (one
    partition per connection and stream). False means "not certain": the schema then
    decides and names the problem.
    """
    if not isinstance(state, dict):
        return False
    syncing = state.get("currently_syncing")
    bookmarks = state.get("bookmarks", {})
    return (
        (syncing is None or isinstance(syncing, str))
        and isinstance(bookmarks, dict)
        and all(_stream_passes(stream_state) for stream_state in bookmarks.values())
    )


def shape_problem(value: Any, kind: str) -> str | None:
    """What is structurally wrong with a parsed state or catalog (None when usable)."""
    if kind == "state" and _state_passes(value):
        return _duplicate_partition(value)
    try:
        error = best_match(_VALIDATORS[kind].iter_errors(value))
    except RecursionError:
        return "is nested too deeply to read"
    if error is not None:
        return _describe(error)
    return _duplicate_partition(value) if kind == "state" else None


def _duplicate_partition(state: dict[str, Any]) -> str | None:
    """Two bookmarks for one context (singer-sdk cannot tell which one holds)."""
    for name, stream_state in (state.get("bookmarks") or {}).items():
        seen: set[object] = set()
        for index, partition in enumerate(stream_state.get("partitions") or ()):
            key = _context_key(partition["context"])
            if key in seen:
                key = json.dumps(partition["context"], sort_keys=True, default=str)
                where = f"bookmarks.{name}" if _PLAIN_KEY.fullmatch(name) else "bookmarks"
                return (
                    f"{where}.partitions[{index}] repeats the context of an earlier "
                    f"bookmark ({key[:MAX_DETAIL]})"
                )
            seen.add(key)
    return None


def _context_key(context: dict[str, Any]) -> object:
    """A partition context as a set member: its items when hashable, else its JSON.

    With each value's type, so that ``1``, ``1.0`` and ``true`` differ as in JSON.
    """
    try:
        return frozenset((key, type(value), value) for key, value in context.items())
    except TypeError:  # a list or object inside the context
        return json.dumps(context, sort_keys=True, default=str)


def check_shape(value: Any, kind: str) -> None:
    """Raise if a parsed state or catalog cannot be used.

    Raises:
        InputFileError: Naming the first structural problem found.
    """
    problem = shape_problem(value, kind)
    if problem:
        raise InputFileError(kind, problem)


@dataclass(frozen=True)
class StreamBookmarkRules:
    """What one stream's bookmarks must look like to be used."""

    replication_key: str | None
    partitioning_keys: Sequence[str] | None


def unwrap_meltano_state(state: Any) -> tuple[Any, str | None]:
    """The Singer state inside Meltano's export format (``{"singer_state": {...}}``).

    ``meltano state get`` prints that wrapper; the tap itself reads the inner object.

    Returns:
        The state to use, and a note when it was unwrapped.
    """
    if isinstance(state, dict) and "singer_state" in state and "bookmarks" not in state:
        return state["singer_state"], "used the singer_state object of Meltano's state export"
    return state, None


def unwrap_state_message(state: Any) -> tuple[Any, str | None]:
    """The state inside a saved Singer STATE message (``{"type": "STATE", "value": {...}}``).

    What people keep from a previous run's output; the tap reads its ``value``.

    Returns:
        The state to use, and a note when it was unwrapped.
    """
    if (
        isinstance(state, dict)
        and state.get("type") == "STATE"
        and "value" in state
        and "bookmarks" not in state
    ):
        return state["value"], "used the value of the Singer STATE message"
    return state, None


def unwrap_saved_state(state: Any) -> tuple[Any, str | None]:
    """The Singer state in a state file as people save it: plain, Meltano's or a message.

    Returns:
        The state to use, and a note saying which wrapper was removed (None for a
        plain state).
    """
    for unwrap in (unwrap_meltano_state, unwrap_state_message):
        inner, note = unwrap(state)
        if note:
            return inner, note
    return state, None


def drop_outdated_bookmarks(
    state: dict[str, Any], rules: Mapping[str, StreamBookmarkRules]
) -> tuple[dict[str, Any], list[str]]:
    """The state without the bookmarks this version would never use, and what went.

    The input is not modified; parts that change are copied.

    Args:
        state: A state of valid shape (see :func:`check_shape`).
        rules: Per stream name, its replication key and state partitioning keys.

    Returns:
        The state to load, and one sentence per kind of removal (for a warning).
    """
    bookmarks = state.get("bookmarks")
    if not bookmarks:
        return state, []
    notes: list[str] = []
    unknown = sorted(name for name in bookmarks if name not in rules)
    if unknown:
        notes.append(f"bookmarks of streams this tap does not have: {', '.join(unknown)}")
    kept: dict[str, Any] = {}
    for name, stream_state in bookmarks.items():
        if name in rules:
            kept[name], stream_notes = _without_outdated_partitions(name, stream_state, rules[name])
            notes.extend(stream_notes)
    if not notes:
        return state, []
    return {**state, "bookmarks": kept}, notes


def _without_outdated_partitions(
    name: str, stream_state: dict[str, Any], rule: StreamBookmarkRules
) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    keys = rule.partitioning_keys
    result = stream_state
    if keys and "replication_key_value" in stream_state:
        result = {
            k: v
            for k, v in stream_state.items()
            if k not in {"replication_key_value", "replication_key"}
        }
        notes.append(
            f"{name}: one bookmark for the whole stream (this version keeps one per "
            f"{', '.join(keys)})"
        )
    partitions = stream_state.get("partitions") or []
    kept, wrong_keys, wrong_replication_key = [], 0, 0
    for partition in partitions:
        if keys is not None and sorted(partition["context"]) != sorted(keys):
            wrong_keys += 1
        elif _bookmarked_key(partition) not in (None, rule.replication_key):
            wrong_replication_key += 1
        else:
            kept.append(partition)
    if wrong_keys:
        keyed_by = ", ".join(keys or ()) or "nothing: one bookmark for the stream"
        notes.append(f"{name}: {wrong_keys} bookmark(s) not keyed by ({keyed_by})")
    if wrong_replication_key:
        notes.append(
            f"{name}: {wrong_replication_key} bookmark(s) on another replication key than "
            f"'{rule.replication_key}'"
        )
    if len(kept) != len(partitions):
        result = {**result, "partitions": kept}
    return result, notes


def _bookmarked_key(partition: Mapping[str, Any]) -> str | None:
    if "replication_key_value" not in partition:
        return None
    key = partition.get("replication_key")
    return key if isinstance(key, str) else None
