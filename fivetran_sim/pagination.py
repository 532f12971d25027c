"""Cursor pagination: ``limit`` (1..1000, default 100) and opaque base64-JSON cursors.

A cursor remembers the sort key of the last item served, so deleting items between two
page requests never makes the client skip or repeat other items.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fivetran_sim.errors import invalid

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

Key = str | int
#: Cursor meaning "from the first item" (used by the cursor faults).
RESTART = None


def parse_limit(query: Mapping[str, str]) -> int:
    """Validate the ``limit`` query parameter.

    Args:
        query: Query parameters.

    Returns:
        The page size.

    Raises:
        ApiError: 400 when not an integer in 1..1000.
    """
    raw = query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise invalid(f"Invalid limit '{raw}': must be an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"Invalid limit {limit}: must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(after: Key | None) -> str:
    """Build an opaque cursor pointing after ``after``.

    Args:
        after: Sort key of the last item served (``None``: before the first item).

    Returns:
        Unpadded URL-safe base64 of a small JSON object.
    """
    raw = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key | None:
    """Decode a cursor made by :func:`encode_cursor`.

    Args:
        cursor: The cursor text.

    Returns:
        The sort key it points after (``None``: start from the first item).

    Raises:
        ApiError: 400 for anything that is not a valid cursor.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("Invalid cursor") from None
    if not isinstance(payload, dict) or "after" not in payload:
        raise invalid("Invalid cursor")
    after = payload["after"]
    if after is None:
        return None
    if isinstance(after, bool) or not isinstance(after, str | int):
        raise invalid("Invalid cursor")
    return after


def paginate(
    keys: Sequence[Key], render: Callable[[Any], Any], query: Mapping[str, str]
) -> dict[str, Any]:
    """Serve one page of a list sorted by key.

    Args:
        keys: Sort keys of all items, ascending, all of one type.
        render: Turns a key into the JSON item.
        query: Query parameters (``limit``, ``cursor``).

    Returns:
        ``{"items": [...], "next_cursor": str | None}``.

    Raises:
        ApiError: 400 for a bad limit or cursor.
    """
    limit = parse_limit(query)
    start = 0
    cursor = query.get("cursor")
    if cursor:
        after = decode_cursor(cursor)
        try:
            start = 0 if after is None else bisect.bisect_right(keys, after)
        except TypeError:
            raise invalid("Invalid cursor") from None
    page = keys[start : start + limit]
    more = start + limit < len(keys)
    return {
        "items": [render(key) for key in page],
        "next_cursor": encode_cursor(page[-1]) if more and page else None,
    }
