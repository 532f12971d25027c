"""Fivetran cursor pagination (``data.next_cursor``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.pagination import BaseAPIPaginator

from tap_fivetran_meta.errors import PaginationLoopError
from tap_fivetran_meta.payload import response_payload

if TYPE_CHECKING:
    import requests


def next_cursor_of(payload: Any) -> str | None:
    """Return the next cursor of a list payload, or None on the last page.

    Accepts ``next_cursor`` (the wire name) and ``nextCursor`` (the 2023 spec);
    null, absent and empty all mean "last page".
    """
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return None
    cursor = data.get("next_cursor", data.get("nextCursor"))
    if isinstance(cursor, str) and cursor.strip():
        return cursor
    return None


class FivetranCursorPaginator(BaseAPIPaginator[str | None]):
    """Follows ``next_cursor`` until it is null; a cursor seen before is an error.

    An empty page that still carries a cursor is followed (the SDK would stop).
    """

    def __init__(self, path: str) -> None:
        super().__init__(None)
        self._path = path
        self._seen: set[str] = set()

    def get_next(self, response: requests.Response) -> str | None:
        """Return the next cursor, refusing one that was already followed."""
        cursor = next_cursor_of(response_payload(response))
        if cursor is None:
            return None
        if cursor in self._seen:
            msg = (
                f"Fivetran returned a cursor it had already returned for {self._path} "
                f"(after {self.count} pages); stopping instead of looping forever."
            )
            raise PaginationLoopError(msg)
        self._seen.add(cursor)
        return cursor

    def continue_if_empty(self, response: requests.Response) -> bool:
        """Keep going past an empty page when it still names a next cursor."""
        return next_cursor_of(response_payload(response)) is not None
