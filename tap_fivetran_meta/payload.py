"""Parse a response body once and keep it with the response."""

from __future__ import annotations

import decimal
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

_CACHE_ATTR = "_fivetran_payload"


class MalformedBodyError(ValueError):
    """The body is not the JSON object the API promises."""


def response_payload(response: requests.Response) -> Any:
    """Return the parsed JSON body, parsing it only once per response.

    Raises:
        MalformedBodyError: If the body is not valid JSON.
    """
    cached = response.__dict__.get(_CACHE_ATTR)
    if cached is not None:
        return cached
    try:
        parsed = json.loads(response.content or b"null", parse_float=decimal.Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        size = len(response.content or b"")
        msg = f"response body is not valid JSON ({size} bytes, {exc.__class__.__name__})"
        raise MalformedBodyError(msg) from None
    response.__dict__[_CACHE_ATTR] = parsed
    return parsed
