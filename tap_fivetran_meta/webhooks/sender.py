"""Post signed deliveries the way Fivetran does (for ``send-test`` and load tests)."""

from __future__ import annotations

import http.client
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tap_fivetran_meta.rules.timeutil import utcnow
from tap_fivetran_meta.webhooks.signature import SIGNATURE_HEADER, compute_signature


@dataclass(frozen=True)
class Delivery:
    """A delivery's HTTP outcome.

    Attributes:
        status: The HTTP status code.
        body: The response body.
    """

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted the delivery (2xx)."""
        return 200 <= self.status < 300


def sample_payload(
    event: str = "sync_end",
    *,
    connection_id: str = "_connection_1",
    sync_id: str | None = None,
) -> dict[str, Any]:
    """Build a payload shaped like Fivetran's test deliveries.

    Args:
        event: The event type.
        connection_id: The connection the event is about.
        sync_id: The sync id; a random UUID when omitted.

    Returns:
        The payload, with ``created`` set to now (millisecond precision).
    """
    created = utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    payload: dict[str, Any] = {
        "event": event,
        "created": created,
        "connector_type": "_connector_type",
        "connector_id": connection_id,
        "connector_name": connection_id,
        "sync_id": sync_id or str(uuid.uuid4()),
        "destination_group_id": "_destination_1",
    }
    if event == "sync_end":
        payload["data"] = {"status": "SUCCESSFUL"}
    return payload


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Serialise a payload compactly, as Fivetran does.

    Args:
        payload: The payload.

    Returns:
        UTF-8 JSON without whitespace.
    """
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def post_delivery(
    url: str, body: bytes, *, secret: bytes | None = None, timeout_s: float = 10.0
) -> Delivery:
    """POST a body, signed with upper-case hex HMAC-SHA256 when a secret is given.

    Args:
        url: The receiver URL (http or https).
        body: The exact body bytes.
        secret: The webhook secret, or None for an unsigned delivery.
        timeout_s: Connect and read timeout.

    Returns:
        The receiver's answer.

    Raises:
        ValueError: If the URL is not http(s).
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=timeout_s)
    headers = {"Content-Type": "application/json", "User-Agent": "tap-fivetran-meta-webhooks"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = compute_signature(secret, body)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        return Delivery(status=response.status, body=response.read())
    finally:
        connection.close()
