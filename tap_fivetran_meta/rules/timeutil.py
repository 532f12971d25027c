"""Lenient timestamp parsing and UTC ISO 8601 formatting.

Fivetran sends timestamps with varying fractional precision (none, milliseconds,
microseconds, zero-padded microseconds), almost always with a ``Z`` suffix. Some
fields are dates only. Everything the tap emits is normalised to UTC ISO 8601 with
microseconds and a ``Z`` suffix, so that string comparison equals time comparison.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

_TS_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:[.,](?P<frac>\d+))?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_timestamp(value: object) -> datetime | None:
    """Parse a Fivetran timestamp into an aware UTC datetime.

    Accepts ``datetime`` objects, ISO 8601 strings with any fractional precision
    (digits beyond microseconds are truncated), a date only, or a missing offset
    (taken as UTC). Returns ``None`` for ``None``, empty or unparseable input, and for
    an instant outside what a datetime holds once in UTC (``0001-01-01T00:00:00+01:00``):
    the API's timestamps are metadata, never worth failing a run over.

    Args:
        value: The raw value from the API.

    Returns:
        The timestamp in UTC, or None.
    """
    try:
        return _parse(value)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is past datetime.max in UTC
        return None


def _parse(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if not isinstance(value, str):
        return None
    fast = _parse_canonical(value)
    if fast is not None:
        return fast
    match = _TS_RE.match(value.strip())
    return _from_match(match) if match else None


#: Lengths of ``YYYY-MM-DDTHH:MM:SSZ`` with no, 3 or 6 fraction digits: the forms
#: Fivetran sends almost always, and those ``datetime.fromisoformat`` reads on 3.10 too.
_CANONICAL_LENGTHS = frozenset({20, 24, 27})


def _parse_canonical(value: str) -> datetime | None:
    """The common case without the regular expression (None: take the general path)."""
    if len(value) not in _CANONICAL_LENGTHS or value[10] != "T" or value[-1] != "Z":
        return None
    if len(value) != 20 and value[19] != ".":
        return None
    try:
        parsed = datetime.fromisoformat(f"{value[:-1]}+00:00")
    except ValueError:
        return None
    return parsed if parsed.utcoffset() == timedelta(0) else None


def _from_match(match: re.Match[str]) -> datetime | None:
    time_part = match["time"] or "00:00:00"
    if time_part.count(":") == 1:
        time_part += ":00"
    frac = (match["frac"] or "")[:6].ljust(6, "0")
    tz = match["tz"] or "Z"
    if tz in {"Z", "z"}:
        tz = "+00:00"
    elif ":" not in tz and len(tz) == 5:
        tz = f"{tz[:3]}:{tz[3:]}"
    elif len(tz) == 3:
        tz = f"{tz}:00"
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{time_part}.{frac}{tz}")
    except ValueError:
        return None
    return _as_utc(parsed)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """Format an aware datetime as UTC ISO 8601 with microseconds and ``Z``.

    Args:
        value: The datetime (naive values are taken as UTC).

    Returns:
        For example ``2024-12-01T15:43:29.013000Z``.
    """
    if value.tzinfo is not timezone.utc:
        value = _as_utc(value)
    return f"{value.isoformat(timespec='microseconds')[:26]}Z"


def normalize_timestamp(value: object) -> str | None:
    """Parse leniently and re-format as UTC ISO 8601, or None when unparseable.

    Args:
        value: The raw value from the API.

    Returns:
        The normalised string or None.
    """
    parsed = parse_timestamp(value)
    return None if parsed is None else format_timestamp(parsed)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)
