"""Config rules that JSON Schema cannot express; each error names its setting."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from tap_fivetran_meta.timeutil import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
#: No Fivetran sync can be older than Fivetran (founded 2012): an earlier start_date
#: only buys requests (one per connection per week of it) that cannot return anything.
EARLIEST_START_DATE = datetime(2012, 1, 1, tzinfo=timezone.utc)


def is_loopback_host(host: str | None) -> bool:
    """Whether a host name or address is this machine (127.0.0.0/8, ::1, localhost)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_url_error(api_url: object) -> str | None:
    """Why ``api_url`` is unacceptable, or None when it is fine."""
    if api_url is None:
        return None
    if not isinstance(api_url, str) or not api_url.strip():
        return "api_url must be a non-empty URL such as https://api.fivetran.com/v1"
    parsed = urlparse(api_url)
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and is_loopback_host(parsed.hostname):
        return None
    if parsed.scheme == "http":
        return (
            f"api_url must use https (got http://{parsed.hostname}); plain http is only "
            "accepted for loopback hosts such as the bundled simulator"
        )
    return f"api_url must be an https URL such as https://api.fivetran.com/v1 (got {api_url!r})"


def start_date_error(start_date: object, now: datetime) -> str | None:
    """Why ``start_date`` is unacceptable (unparseable or in the future), or None."""
    if start_date in (None, ""):
        return None
    parsed = parse_timestamp(start_date)
    if parsed is None:
        return (
            "start_date must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z "
            f"(got {start_date!r})"
        )
    if parsed > now:
        return f"start_date {start_date} is in the future; use a past date (or leave it unset)"
    return None


def start_date_too_old_error(start_date: object) -> str | None:
    """Why ``start_date`` lies before any history the API can hold, or None."""
    parsed = parse_timestamp(start_date) if start_date not in (None, "") else None
    if parsed is None or parsed >= EARLIEST_START_DATE:
        return None
    return (
        f"start_date {start_date} is before {EARLIEST_START_DATE:%Y-%m-%d}: Fivetran holds "
        "no sync history older than that, and each week of it would cost one request per "
        f"connection. Use {EARLIEST_START_DATE:%Y-%m-%d} or later (or leave it unset)"
    )


def semantic_config_errors(config: Mapping[str, Any], *, now: datetime) -> list[str]:
    """All rule violations in ``config`` (empty when valid)."""
    errors = [
        api_url_error(config.get("api_url")),
        start_date_error(config.get("start_date"), now),
        start_date_too_old_error(config.get("start_date")),
    ]
    return [error for error in errors if error]
