"""Parse a response body once and keep it with the response; check its envelope.

Fivetran wraps every answer in ``{"code": "Success", "data": ...}``: ``data`` is the
object itself, or for a list ``{"items": [...], "next_cursor": ...}``. An answer that
says Success but has no such shape (``"data": null``, ``items`` an object) is not an
empty list: reading it as one would end a run "successfully" with nothing, and let
ACTIVATE_VERSION mark every row of the target deleted.
"""

from __future__ import annotations

import decimal
import json
import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from tap_fivetran_meta.rules.unstorable import Cleaning, clean_unstorable, may_hold_unstorable

if TYPE_CHECKING:
    import requests

_CACHE_ATTR = "_fivetran_payload"
_LOGGER = logging.getLogger("tap-fivetran-meta")
#: Endpoints already warned about unstorable characters (one warning per endpoint).
_WARNED: set[str] = set()
_WARNED_LOCK = threading.Lock()


class MalformedBodyError(ValueError):
    """The body is not the JSON object the API promises."""


class BodyTooDeepError(MalformedBodyError):
    """The body nests deeper than the JSON parser can follow (never worth a retry)."""


class MalformedEnvelopeError(ValueError):
    """The body is JSON, but not the ``data`` / ``data.items`` shape the endpoint has."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def list_items(payload: Any) -> list[Any]:
    """The ``data.items`` of a list answer.

    Raises:
        MalformedEnvelopeError: If ``data`` is not an object or ``items`` not a list.
    """
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        msg = f"'data' is {_kind(data)}, not an object with 'items'"
        raise MalformedEnvelopeError(msg)
    items = data.get("items")
    if not isinstance(items, list):
        msg = f"'data.items' is {_kind(items)}, not a list"
        raise MalformedEnvelopeError(msg)
    return items


def data_object(payload: Any) -> dict[str, Any]:
    """The ``data`` object of a single-object answer.

    Raises:
        MalformedEnvelopeError: If ``data`` is not an object.
    """
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        msg = f"'data' is {_kind(data)}, not an object"
        raise MalformedEnvelopeError(msg)
    return data


def response_payload(response: requests.Response) -> Any:
    """Return the parsed JSON body, parsing it only once per response.

    Raises:
        MalformedBodyError: If the body is not valid JSON (BodyTooDeepError: if it
            nests deeper than the parser can follow).
    """
    cached = response.__dict__.get(_CACHE_ATTR)
    if cached is not None:
        return cached
    try:
        parsed = json.loads(response.content or b"null", parse_float=decimal.Decimal)
    except RecursionError:
        size = len(response.content or b"")
        msg = f"response body nests too deeply to be read ({size} bytes)"
        raise BodyTooDeepError(msg) from None
    except (ValueError, UnicodeDecodeError) as exc:
        size = len(response.content or b"")
        msg = f"response body is not valid JSON ({size} bytes, {exc.__class__.__name__})"
        raise MalformedBodyError(msg) from None
    if may_hold_unstorable(response.content or b""):
        parsed = _storable(parsed, response)
    response.__dict__[_CACHE_ATTR] = parsed
    return parsed


def _storable(parsed: Any, response: requests.Response) -> Any:
    """``parsed`` with NUL and lone surrogates replaced; warned once per endpoint."""
    found = Cleaning()
    cleaned = clean_unstorable(parsed, found)
    if found.strings:
        path = urlparse(response.url or "").path or "?"
        parts = path.split("/")
        endpoint = "/".join([*parts[:3], parts[-1]])  # one warning per endpoint, not per id
        with _WARNED_LOCK:
            first = endpoint not in _WARNED
            _WARNED.add(endpoint)
        if first:
            objects = ", ".join(repr(o) for o in found.objects[:5]) or "no id"
            _LOGGER.warning(
                "GET %s: %d strings held a NUL or a lone UTF-16 surrogate, which no target "
                "can store (object %s); NUL dropped, surrogate replaced by U+FFFD.",
                path,
                found.strings,
                objects,
            )
    return cleaned
