"""Fivetran webhook signatures.

Fivetran signs a delivery with HMAC-SHA256 over the exact body bytes, keyed with the
webhook's secret, and sends the hex digest in ``X-Fivetran-Signature-256`` (no
``sha256=`` prefix, no timestamp). Fivetran is reported to send upper-case hex while
most verifiers produce lower-case, so the comparison ignores case.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Fivetran-Signature-256"
#: The shortest webhook secret accepted. The secret is the only thing that tells
#: Fivetran's deliveries from forged ones, and a short one is guessed offline from a
#: single signed delivery; 16 characters of ``secrets.token_urlsafe`` are 96 bits.
MIN_SECRET_LENGTH = 16


def secret_problem(secret: bytes | str) -> str | None:
    """What is wrong with a webhook secret, or None when it is long enough.

    Args:
        secret: The secret (bytes as configured, or text).

    Returns:
        A phrase such as ``"is 1 character(s) long; ..."``, to follow "the webhook secret".
    """
    length = len(secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret)
    if length >= MIN_SECRET_LENGTH:
        return None
    if length == 0:
        return "is empty"
    return (
        f"is {length} character(s) long; use at least {MIN_SECRET_LENGTH} "
        '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
    )


def compute_signature(secret: bytes, body: bytes) -> str:
    """Sign a body the way Fivetran does.

    Args:
        secret: The webhook secret.
        body: The exact request body bytes.

    Returns:
        The HMAC-SHA256 digest as upper-case hex.
    """
    return hmac.new(secret, body, hashlib.sha256).hexdigest().upper()


def verify_signature(secret: bytes, body: bytes, received: str | None) -> bool:
    """Check a received signature header in constant time, ignoring hex case.

    Args:
        secret: The webhook secret.
        body: The exact request body bytes, as received.
        received: The header value, or None when the header is missing.

    Returns:
        True only if the header is present and matches the body.
    """
    if not received:
        return False
    expected = compute_signature(secret, body).lower().encode("ascii")
    # Header values can hold any byte; surrogateescape keeps them comparable
    # instead of raising, and they simply fail to match.
    candidate = received.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected, candidate)
