r"""Characters no target can store: NUL and lone UTF-16 surrogates, replaced in API data.

JSON may carry ``\u0000`` and a lone surrogate (``\ud800``) in any string; Python
parses both, but target-postgres refuses a NUL in text (the whole load fails) and a
lone surrogate cannot be encoded as UTF-8 (the record cannot even be written). Such a
string keeps everything else: a NUL is dropped, a lone surrogate becomes U+FFFD.
Object keys are cleaned the same way (a schema or table name is a key of the schema
config).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: The JSON escapes that can produce an unstorable character (checked on raw bytes).
POISON_ESCAPE_RE = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})")
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
#: Deepest nesting cleaned (the JSON parser's own limit is far below Python's stack).
MAX_DEPTH = 200


@dataclass
class Cleaning:
    """What :func:`clean_unstorable` replaced, and in which objects (their ids)."""

    strings: int = 0
    objects: list[str] = field(default_factory=list)


def may_hold_unstorable(raw: bytes) -> bool:
    """Whether a JSON body has an escape that can decode to NUL or a lone surrogate."""
    return POISON_ESCAPE_RE.search(raw) is not None


def clean_text(text: str) -> str:
    """``text`` without NUL, with each lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE_RE.sub(lambda m: "" if m.group(0) == "\x00" else REPLACEMENT, text)


def clean_unstorable(value: Any, found: Cleaning, owner: str | None = None, depth: int = 0) -> Any:
    """A copy of a parsed JSON value whose strings a target can store.

    Args:
        value: The parsed value.
        found: Collects the count of strings changed and the ids of their objects.
        owner: The id of the nearest enclosing object that has one.
        depth: Nesting level (stops at :data:`MAX_DEPTH`).

    Returns:
        The cleaned value (the same object when nothing needed a change).
    """
    if isinstance(value, str):
        if _UNSTORABLE_RE.search(value) is None:
            return value
        found.strings += 1
        if owner is not None and owner not in found.objects:
            found.objects.append(owner)
        return clean_text(value)
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, list):
        return [clean_unstorable(item, found, owner, depth + 1) for item in value]
    if isinstance(value, dict):
        object_id = value.get("id")
        here = clean_text(str(object_id)) if isinstance(object_id, (str, int)) else owner
        return {
            clean_unstorable(key, found, here, depth + 1): clean_unstorable(
                item, found, here, depth + 1
            )
            for key, item in value.items()
        }
    return value
