"""Fivetran cursor pagination (``data.next_cursor``)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from singer_sdk.pagination import BaseAPIPaginator

from tap_fivetran_meta.api.errors import PaginationLoopError
from tap_fivetran_meta.api.payload import response_payload

if TYPE_CHECKING:
    import requests

#: Pages in a row without a new item (empty, or only items already returned), each with
#: a next cursor, after which a list is abandoned as endless. An empty page with a
#: cursor is legitimate, an endless run of them is not; an honest listing of thousands
#: of pages brings new items on every page and is followed to its end.
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


def _page_items(payload: Any) -> list[Any]:
    data = payload.get("data") if isinstance(payload, dict) else None
    items = data.get("items") if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def item_identity(item: Any) -> str:
    """What tells list items apart: the ``id`` when there is one, else a digest of it."""
    if isinstance(item, dict) and isinstance(item.get("id"), str | int):
        return f"id:{item['id']}"
    text = json.dumps(item, sort_keys=True, default=str)
    return "sha:" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class FivetranCursorPaginator(BaseAPIPaginator[str | None]):
    """Follows ``next_cursor`` until it is null; a cursor seen before is an error.

    A page that still carries a cursor but brings no new item (it is empty, or holds
    only items an earlier page returned) is followed (the SDK would stop at an empty
    one), up to :data:`MAX_EMPTY_PAGES` of them in a row: then the list is an error
    naming the endpoint, not a loop that spends the hourly request budget.
    """

    def __init__(self, path: str) -> None:
        super().__init__(None)
        self._path = path
        self._seen: set[str] = set()
        self._items_seen: set[str] = set()
        self._stale_in_a_row = 0
        self._all_stale_empty = True

    def get_next(self, response: requests.Response) -> str | None:
        """Return the next cursor, refusing one already followed or an endless stale run."""
        payload = response_payload(response)
        cursor = next_cursor_of(payload)
        if cursor is None:
            return None
        self._count_stale(_page_items(payload))
        if self._stale_in_a_row > MAX_EMPTY_PAGES:
            raise PaginationLoopError(self._stale_message())
        if cursor in self._seen:
            msg = (
                f"Fivetran returned a cursor it had already returned for {self._path} "
                f"(after {self.count} pages); stopping instead of looping forever."
            )
            raise PaginationLoopError(msg)
        self._seen.add(cursor)
        return cursor

    def _count_stale(self, items: list[Any]) -> None:
        before = len(self._items_seen)
        self._items_seen.update(item_identity(item) for item in items)
        if len(self._items_seen) > before:
            self._stale_in_a_row, self._all_stale_empty = 0, True
            return
        self._stale_in_a_row += 1
        self._all_stale_empty = self._all_stale_empty and not items

    def _stale_message(self) -> str:
        if self._all_stale_empty:
            what = f"{self._stale_in_a_row} empty pages in a row for {self._path}"
        else:
            what = (
                f"{self._stale_in_a_row} pages in a row for {self._path} holding only items "
                "it had already returned"
            )
        return (
            f"Fivetran returned {what}, each with a new cursor (after {self.count + 1} "
            "pages); stopping instead of following them forever."
        )

    def continue_if_empty(self, response: requests.Response) -> bool:
        """Keep going past an empty page when it still names a next cursor."""
        return next_cursor_of(response_payload(response)) is not None
