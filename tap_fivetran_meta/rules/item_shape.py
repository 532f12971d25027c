"""Check each API item against its stream's schema before it becomes a record.

The SDK would coerce what it gets: ``"paused": "false"`` becomes ``true`` (a non-empty
string is truthy), ``"id": null`` becomes a null primary key, and ``"status": "oops"``
crashes the code that reads ``status.sync_state``. Here, before any stream code sees an
item:

* an item that is not an object, or lacks a usable primary key (a non-empty string),
  is skipped;
* a field whose JSON type is not one its schema allows is set to null (the rest of
  the item is kept), one level of nested objects and arrays of objects included; an
  array element of the wrong type is left out;
* a free-form object nested deeper than :data:`MAX_FREE_FORM_DEPTH` is set to null
  (no target needs that, and it would exhaust the stack of whatever serialises it).

Each problem is reported to the caller, which counts it and warns (client.py).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from typing import Any

MAX_FREE_FORM_DEPTH = 32

#: Why an item was skipped.
NOT_AN_OBJECT = "not an object"
NO_KEY = "no usable primary key"


@dataclass
class ItemCheck:
    """The outcome of checking one item."""

    #: The item to use (fields of the wrong type set to null), or None to skip it.
    item: dict[str, Any] | None
    #: Why it was skipped (None when it is kept).
    skipped: str | None = None
    #: Dotted paths of the fields set to null or elements left out.
    nulled: list[str] = field(default_factory=list)


def _types_of(schema: dict[str, Any]) -> tuple[str, ...]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return (declared,)
    if isinstance(declared, list):
        return tuple(t for t in declared if isinstance(t, str))
    return ()  # anyOf and friends: not checked


def matches(value: Any, types: tuple[str, ...]) -> bool:
    """Whether a JSON value has one of the JSON-schema ``types`` (empty: anything)."""
    if not types:
        return True
    return any(_is(value, kind) for kind in types)


def _is(value: Any, kind: str) -> bool:  # noqa: PLR0911 - one line per JSON type
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, decimal.Decimal):
            return value.is_finite() and value == value.to_integral_value()
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return True


def deeper_than(value: Any, limit: int) -> bool:
    """Whether a JSON value nests objects/arrays more than ``limit`` levels (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def check_item(item: Any, schema: dict[str, Any], primary_keys: tuple[str, ...]) -> ItemCheck:
    """Check one item against a stream schema (rules in the module docstring).

    Args:
        item: One element of ``data.items`` (or a ``data`` object).
        schema: The stream's JSON schema (``{"properties": {...}}``).
        primary_keys: Primary-key fields the item itself must carry.

    Returns:
        The checked item, or why it is skipped.
    """
    if not isinstance(item, dict):
        return ItemCheck(None, NOT_AN_OBJECT)
    for name in primary_keys:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            return ItemCheck(None, f"{NO_KEY} '{name}'")
    nulled: list[str] = []
    checked = _check_object(item, schema.get("properties") or {}, "", nulled)
    return ItemCheck(checked, None, nulled)


def _check_object(
    value: dict[str, Any], properties: dict[str, Any], prefix: str, nulled: list[str]
) -> dict[str, Any]:
    result = dict(value)
    for name, prop in properties.items():
        if name not in result or not isinstance(prop, dict):
            continue
        path = f"{prefix}{name}"
        result[name] = _check_value(result[name], prop, path, nulled)
    return result


def _check_value(value: Any, prop: dict[str, Any], path: str, nulled: list[str]) -> Any:
    if not matches(value, _types_of(prop)):
        nulled.append(path)
        return None
    if isinstance(value, dict):
        nested = prop.get("properties")
        if isinstance(nested, dict) and nested:
            return _check_object(value, nested, f"{path}.", nulled)
        return None if _too_deep(value, path, nulled) else value
    if isinstance(value, list):
        return _check_array(value, prop.get("items"), path, nulled)
    return value


def _check_array(value: list[Any], items: Any, path: str, nulled: list[str]) -> list[Any] | None:
    if not isinstance(items, dict):
        return None if _too_deep(value, path, nulled) else value
    kept = []
    for element in value:
        if not matches(element, _types_of(items)):
            nulled.append(f"{path}[]")
            continue
        kept.append(_check_value(element, items, f"{path}[]", nulled))
    return kept


def _too_deep(value: Any, path: str, nulled: list[str]) -> bool:
    if deeper_than(value, MAX_FREE_FORM_DEPTH):
        nulled.append(path)
        return True
    return False
