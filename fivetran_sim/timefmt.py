"""Timestamp helpers.

Internally every instant is an integer number of microseconds since the Unix epoch (UTC).
On the wire Fivetran mixes fractional precisions, which :func:`fmt` reproduces.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

#: Precision styles seen on the live API.
MICRO = "micro"  # 2024-12-01T15:43:29.013729Z
MILLI = "milli"  # 2023-01-05T18:12:49.562Z
MICRO0 = "micro0"  # 2025-10-06T22:55:45.275000Z
NONE = "none"  # 2024-01-01T00:00:00Z
PRECISIONS = (MICRO, MILLI, MICRO0, NONE)


def to_us(moment: datetime) -> int:
    """Convert an aware (or naive UTC) datetime to epoch microseconds.

    Args:
        moment: The datetime; naive values are taken as UTC.

    Returns:
        Microseconds since the epoch.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_us(value: int) -> datetime:
    """Convert epoch microseconds to an aware UTC datetime.

    Args:
        value: Microseconds since the epoch.

    Returns:
        The corresponding aware datetime.
    """
    return EPOCH + timedelta(microseconds=value)


def fmt(value: int, precision: str = MICRO) -> str:
    """Format epoch microseconds as an ISO 8601 UTC string ending in ``Z``.

    Args:
        value: Microseconds since the epoch.
        precision: One of :data:`PRECISIONS`.

    Returns:
        The formatted timestamp.
    """
    moment = from_us(value)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micro = moment.microsecond
    if precision == MILLI:
        return f"{base}.{micro // 1000:03d}Z"
    if precision == MICRO0:
        return f"{base}.{(micro // 1000) * 1000:06d}Z"
    if precision == NONE:
        return f"{base}Z"
    return f"{base}.{micro:06d}Z"


def fmt_date(value: int) -> str:
    """Format epoch microseconds as a plain ``YYYY-MM-DD`` date.

    Args:
        value: Microseconds since the epoch.

    Returns:
        The date string.
    """
    return from_us(value).strftime("%Y-%m-%d")


def parse(text: str) -> int:
    """Parse an ISO 8601 timestamp (``Z`` or offset; naive means UTC).

    Args:
        text: The timestamp text.

    Returns:
        Microseconds since the epoch.

    Raises:
        ValueError: If the text is not a valid timestamp.
    """
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    return to_us(datetime.fromisoformat(cleaned))


def floor_ms(value: int) -> int:
    """Drop sub-millisecond digits.

    Args:
        value: Microseconds since the epoch.

    Returns:
        The value rounded down to a whole millisecond.
    """
    return value - value % 1000
