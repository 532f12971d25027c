"""Create Fivetran webhooks through the REST API (``POST /v1/webhooks/...``).

Fivetran POSTs a test delivery when a webhook is created active, and refuses to
create it (400) if the receiver does not answer 2xx, so the receiver must be
reachable first.

The session follows no redirect to another origin or from https to http
(:mod:`tap_fivetran_meta.api.redirects`): a 307 would otherwise re-send the request body,
webhook secret included, to wherever it points. Every message built from an API
answer goes through :func:`~tap_fivetran_meta.rules.redact.scrub_auth_tokens`, since an
error message may echo the ``Authorization`` header back.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from tap_fivetran_meta import __version__
from tap_fivetran_meta.api.redirects import UnsafeRedirectError, apply_redirect_policy
from tap_fivetran_meta.rules.redact import SecretMask, scrub_auth_tokens

DEFAULT_API_URL = "https://api.fivetran.com/v1"
DEFAULT_EVENTS = ("sync_start", "sync_end")
_EVENT_RE = re.compile(r"[a-z][a-z0-9_]*")


class RegisterError(Exception):
    """A problem to report to the user in one line (never contains credentials)."""


@dataclass(frozen=True)
class Credentials:
    """Fivetran API key and secret (hidden from ``repr``).

    Attributes:
        api_key: The API key.
        api_secret: The API secret.
    """

    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)


def check_url(url: str, *, what: str) -> str:
    """Require https, allowing plain http only to a loopback host (for testing).

    Args:
        url: The URL to check.
        what: What the URL is, for the error message.

    Returns:
        The URL with any trailing slash removed.

    Raises:
        RegisterError: If the URL is not acceptable.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise RegisterError(f"{what} must be an absolute URL, got {url!r}")
    if parts.scheme == "https":
        return url.rstrip("/")
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return url.rstrip("/")
    raise RegisterError(f"{what} must use https:// (plain http is allowed only for loopback)")


def parse_events(text: str) -> list[str]:
    """Split a comma-separated event list and check the names.

    Args:
        text: For example ``sync_start,sync_end``.

    Returns:
        The event names, in order, without repeats.

    Raises:
        RegisterError: If the list is empty or a name is malformed.
    """
    events: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        if not _EVENT_RE.fullmatch(name):
            raise RegisterError(f"not an event name: {name!r}")
        if name not in events:
            events.append(name)
    if not events:
        raise RegisterError("no events given")
    return events


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookAdmin:
    """Minimal client for Fivetran's webhook management endpoints."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_url: str = DEFAULT_API_URL,
        session: requests.Session | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        """Create the client.

        Args:
            credentials: API key and secret (sent as HTTP Basic auth).
            api_url: Base URL including ``/v1``.
            session: A requests session to reuse (the redirect policy is added to it).
            timeout_s: Per-request timeout.
        """
        self._api_url = check_url(api_url, what="--api-url")
        self._auth = (credentials.api_key, credentials.api_secret)
        self._session = apply_redirect_policy(session or requests.Session())
        self._timeout_s = timeout_s

    def create(
        self, *, url: str, events: list[str], secret: str, group_id: str | None = None
    ) -> dict[str, Any]:
        """Create an active account or group webhook.

        Args:
            url: Where Fivetran delivers events.
            events: Event types to subscribe to.
            secret: The signing secret.
            group_id: A group id for a group webhook; None for an account webhook.

        Returns:
            The created webhook (Fivetran masks its secret).

        Raises:
            RegisterError: If the API refuses or answers something unexpected.
        """
        path = "/webhooks/account" if group_id is None else f"/webhooks/group/{_seg(group_id)}"
        body = {"url": url, "events": events, "active": True, "secret": secret}
        data = self._post(path, body, extra_redact=(secret,))
        if not isinstance(data.get("id"), str):
            raise RegisterError("Fivetran answered without a webhook id")
        return data

    def test(self, webhook_id: str, event: str = "sync_end") -> dict[str, Any]:
        """Ask Fivetran to send a test delivery to a webhook.

        Args:
            webhook_id: The webhook id.
            event: The event type to simulate.

        Returns:
            Fivetran's report, e.g. ``{"succeed": true, "status": 200, "message": ...}``.
        """
        return self._post(f"/webhooks/{_seg(webhook_id)}/test", {"event": event})

    def _post(
        self, path: str, body: dict[str, Any], *, extra_redact: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        key, secret = self._auth
        mask = SecretMask.of((key, secret, *extra_redact), basic_pairs=[(key, secret)])
        try:
            response = self._session.post(
                self._api_url + path,
                json=body,
                auth=self._auth,
                headers={
                    "Accept": "application/json",
                    "User-Agent": f"tap-fivetran-meta-webhooks/{__version__}",
                },
                timeout=self._timeout_s,
            )
        except UnsafeRedirectError as exc:
            raise RegisterError(
                f"Fivetran API answered with a redirect that was not followed: {exc} "
                "(check --api-url)"
            ) from None
        except requests.RequestException as exc:
            host = urlsplit(self._api_url).hostname
            raise RegisterError(
                f"cannot reach the Fivetran API at {host}: {exc.__class__.__name__}"
            ) from None
        return _envelope_data(response, mask)


def _envelope_data(response: requests.Response, mask: SecretMask) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise RegisterError(f"Fivetran API error: HTTP {response.status_code}, non-JSON body")
    code = str(payload.get("code") or "?")
    message = str(payload.get("message") or "").strip()
    if not response.ok or code.lower() not in {"success", "created"}:
        detail = f"{code}: {message}" if message else code
        raise RegisterError(
            _redact(f"Fivetran API error: HTTP {response.status_code} {detail}", mask)
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        raise RegisterError("Fivetran answered without data")
    return data


def _redact(text: str, mask: SecretMask) -> str:
    """Hide the known secrets (in any spelling), then ``Basic``/``Bearer`` credentials."""
    return scrub_auth_tokens(mask(text))


def _seg(value: str) -> str:
    return quote(value, safe="")
