"""Readable, secret-free errors raised by the tap."""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError


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


class ResponseTooLargeError(FivetranAPIError):
    """A response body inflated past the configured cap (``max_response_mb``)."""
