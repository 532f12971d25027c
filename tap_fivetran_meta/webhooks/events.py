"""Turn a webhook delivery body into the fields the inbox indexes.

Payloads changed names over time: older deliveries carry ``connector_id``,
``connector_name`` and ``group_id``; newer ones ``destination_group_id`` and,
possibly, ``connection_id``/``connection_name``. The newer name wins when both are
present. The whole parsed body is kept as well, so nothing is lost when Fivetran
adds fields.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from tap_fivetran_meta.rules.timeutil import normalize_timestamp
from tap_fivetran_meta.rules.unstorable import clean_text


class PayloadError(ValueError):
    """The body is not a UTF-8 JSON object."""


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery, parsed.

    Attributes:
        event_id: sha256 hex of the raw body; Fivetran retries resend identical
            bodies, so a retried delivery gets the same id.
        raw_body: The body as text, byte for byte what was received.
        event: Event type, e.g. ``sync_end``.
        created: When Fivetran created the event, normalised to UTC ISO 8601; None
            when it is not a timestamp or not one that exists in UTC (e.g.
            ``9999-12-31T23:59:59-01:00``): the raw value stays in ``raw_body``.
        connector_type: Connector type, e.g. ``postgres``.
        connection_id: ``connection_id``, else ``connector_id``.
        connection_name: ``connection_name``, else ``connector_name``.
        sync_id: The sync the event belongs to, when it has one.
        group_id: ``destination_group_id``, else ``group_id``.
        status: ``data.status``, e.g. ``SUCCESSFUL``.
        reason: ``data.reason``, set on failures.
    """

    event_id: str
    raw_body: str
    event: str | None
    created: str | None
    connector_type: str | None
    connection_id: str | None
    connection_name: str | None
    sync_id: str | None
    group_id: str | None
    status: str | None
    reason: str | None


def event_id_for(body: bytes) -> str:
    """Return the identity of a delivery: the sha256 hex digest of its raw body.

    Args:
        body: The exact request body bytes.

    Returns:
        64 lower-case hex characters.
    """
    return hashlib.sha256(body).hexdigest()


def parse_event(body: bytes) -> WebhookEvent:
    """Parse a delivery body.

    Args:
        body: The exact request body bytes.

    Returns:
        The parsed event.

    Raises:
        PayloadError: If the body is not UTF-8, not JSON, or not a JSON object.
    """
    payload = load_payload(body)
    data = payload.get("data")
    details = data if isinstance(data, dict) else {}
    return WebhookEvent(
        event_id=event_id_for(body),
        raw_body=body.decode("utf-8"),
        event=_text(payload.get("event")),
        created=normalize_timestamp(payload.get("created")),
        connector_type=_text(payload.get("connector_type")),
        connection_id=_first_text(payload, "connection_id", "connector_id"),
        connection_name=_first_text(payload, "connection_name", "connector_name"),
        sync_id=_text(payload.get("sync_id")),
        group_id=_first_text(payload, "destination_group_id", "group_id"),
        status=_text(details.get("status")),
        reason=_text(details.get("reason")),
    )


def load_payload(body: bytes | str) -> dict[str, Any]:
    """Decode a body into a JSON object.

    Args:
        body: The body bytes (must be UTF-8) or text.

    Returns:
        The parsed object.

    Raises:
        PayloadError: If the body is not UTF-8, not strict JSON, or not an object.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        parsed = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise PayloadError("body is not valid UTF-8") from None
    except (ValueError, RecursionError):
        raise PayloadError("body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise PayloadError("body is not a JSON object")
    return parsed


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; letting them in would break the tap's output.
    raise ValueError(name)


def _first_text(payload: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = _text(payload.get(name))
        if value is not None:
            return value
    return None


def _text(value: object) -> str | None:
    """Return non-empty strings (and integers, as text) for indexed columns, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value:
        return None
    # JSON may encode NUL and lone surrogates, which no target (and not SQLite's
    # UTF-8 text) can store; raw_body keeps the escapes as received.
    return clean_text(value) or None
