"""Values of the JSON types a schema column promises, or None (pure functions).

Rows the tap builds itself pass every value through these, so each row matches its
stream's schema and the SDK's per-record type conformance can be skipped for them
(see ``trusted_rows`` in message_volume.py and tests/test_trusted_rows.py).
"""

from __future__ import annotations

from typing import Any


def as_str(value: Any) -> str | None:
    """A string as it is; anything else None."""
    return value if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    """A boolean as it is; anything else (``"false"`` included) None."""
    return value if isinstance(value, bool) else None


def as_int(value: Any) -> int | None:
    """An integer as it is (booleans are not integers here); anything else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_object(value: Any) -> dict[str, Any] | None:
    """A JSON object as it is; anything else None."""
    return value if isinstance(value, dict) else None
