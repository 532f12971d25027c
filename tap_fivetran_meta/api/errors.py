"""Readable, secret-free errors raised by the tap."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from singer_sdk.exceptions import FatalAPIError

from tap_fivetran_meta.rules.redact import scrub_url


class FivetranAPIError(FatalAPIError):
    """A request failed for good; the message is safe to log (no credentials)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class FivetranAuthError(FivetranAPIError):
    """The credentials were refused (401) or lack a permission on a core resource (403)."""


class PaginationLoopError(FivetranAPIError):
    """The API returned a cursor it had already returned: following it would never end."""


class UnresolvableHostError(FivetranAPIError):
    """The API host name does not resolve: a typo in api_url, not a transient failure."""

    def __init__(self, host: str, api_url: str) -> None:
        """Name the host and the setting to check."""
        super().__init__(
            f"cannot resolve host {host}: check api_url (now {scrub_url(api_url)}); "
            "Fivetran's API "
            "is https://api.fivetran.com/v1"
        )
        self.host = host


def unresolvable_host(exc: BaseException) -> str | None:
    """The host whose DNS lookup failed somewhere in ``exc``'s chain, or None.

    requests wraps the failure twice (``ConnectionError`` → urllib3 ``MaxRetryError`` →
    ``NameResolutionError`` caused by ``socket.gaierror``); the host comes from the
    request that failed.
    """
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return _failed_host(exc)
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(current.args)
    return None


def _failed_host(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return (urlparse(url).hostname if isinstance(url, str) else None) or "the API host"


class ResponseTooLargeError(FivetranAPIError):
    """A response body inflated past the configured cap (``max_response_mb``)."""
