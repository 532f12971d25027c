"""Remove secrets from free-form ``config`` objects before they are emitted.

Fivetran masks secret values as ``******``; some services also return tokens or keys
under names that say what they are. Both kinds are dropped (not replaced), so a
record never carries even the shape of a secret.
"""

from __future__ import annotations

import re
from typing import Any

MASK_RE = re.compile(r"^\*{3,}$")
SECRET_KEY_RE = re.compile(
    r"(pass(word|phrase)?|secret|token|private[_-]?key|api[_-]?key|client[_-]?secret|"
    r"credential|auth[_-]?code|access[_-]?key|session[_-]?key|signing[_-]?key|"
    r"certificate|pem|sas|primary[_-]?key|account[_-]?key)$|^(pwd|key)$",
    re.IGNORECASE,
)


def is_secret_key(name: str) -> bool:
    """Whether a config key names a secret (``password``, ``client_secret``...)."""
    return bool(SECRET_KEY_RE.search(name.strip()))


def is_masked(value: object) -> bool:
    """Whether a value is Fivetran's mask (``******``)."""
    return isinstance(value, str) and bool(MASK_RE.match(value.strip()))


def scrub(value: Any) -> Any:
    """Return a copy of ``value`` without masked values and secret-named keys.

    Args:
        value: Any JSON value (objects and arrays are walked recursively).

    Returns:
        The scrubbed copy.
    """
    if isinstance(value, dict):
        return {
            key: scrub(item)
            for key, item in value.items()
            if not is_secret_key(str(key)) and not is_masked(item)
        }
    if isinstance(value, list):
        return [scrub(item) for item in value if not is_masked(item)]
    return value


#: ``Basic <b64>`` / ``Bearer <token>`` credentials, wherever they appear in a text.
AUTH_TOKEN_RE = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE)


def scrub_auth_tokens(text: str) -> str:
    """Replace HTTP ``Basic``/``Bearer`` credentials in a message with ``<redacted>``.

    For any text the tap logs or raises that may echo a request header back (an API
    error message, an exception from the HTTP stack).
    """
    return AUTH_TOKEN_RE.sub(lambda match: f"{match.group(1)} <redacted>", text)
