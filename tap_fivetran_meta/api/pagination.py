"""Fivetran cursor pagination (``data.next_cursor``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.pagination import BaseAPIPaginator

from tap_fivetran_meta.api.errors import PaginationLoopError
from tap_fivetran_meta.api.payload import response_payload

if TYPE_CHECKING:
    import requests

#: Empty pages in a row, each with a next cursor, after which a list is abandoned as
#: endless (an empty page with a cursor is legitimate, an endless run of them is not).
MAX_EMPTY_PAGES = 10


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


def _is_empty_page(payload: Any) -> bool:
    data = payload.get("data") if isinstance(payload, dict) else None
    return isinstance(data, dict) and data.get("items") == []


class FivetranCursorPaginator(BaseAPIPaginator[str | None]):
    """Follows ``next_cursor`` until it is null; a cursor seen before is an error.

    An empty page that still carries a cursor is followed (the SDK would stop), up to
    :data:`MAX_EMPTY_PAGES` of them in a row: then the list is an error, not a loop.
    """

    def __init__(self, path: str) -> None:
        super().__init__(None)
        self._path = path
        self._seen: set[str] = set()
        self._empty_in_a_row = 0

    def get_next(self, response: requests.Response) -> str | None:
        """Return the next cursor, refusing one already followed or an endless empty run."""
        payload = response_payload(response)
        cursor = next_cursor_of(payload)
        if cursor is None:
            return None
        self._empty_in_a_row = self._empty_in_a_row + 1 if _is_empty_page(payload) else 0
        if self._empty_in_a_row > MAX_EMPTY_PAGES:
            msg = (
                f"Fivetran returned {self._empty_in_a_row} empty pages in a row for "
                f"{self._path}, each with a new cursor; stopping instead of following "
                "them forever."
            )
            raise PaginationLoopError(msg)
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
