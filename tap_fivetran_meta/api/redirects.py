"""The redirect policy for every HTTP session that carries credentials.

``requests`` follows redirects on its own. It drops the ``Authorization`` header when
the host changes, but a 307 or 308 re-sends the *body* to wherever ``Location``
points, and a redirect from https to http sends the next request in clear text.
Neither is ever needed to talk to the Fivetran API, so a session with this policy
follows a redirect only when it stays on the same origin (scheme, host and port),
or when it upgrades plain http to https on the same host. Anything else raises
:class:`UnsafeRedirectError` before a single byte goes to the new location.

Usage, for any ``requests.Session``::

    session = apply_redirect_policy(requests.Session())
    try:
        session.post(url, json=body)
    except UnsafeRedirectError as exc:
        print(f"error: {exc}")  # one line, origins only

The check runs as a ``response`` hook, so it sees every response of the session,
including each hop of a redirect chain. It also applies to requests sent with
``allow_redirects=False``: a redirect to another origin is an error there too, so no
caller can follow it by hand by accident.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeRedirectError(requests.RequestException):
    """A response redirected to another origin, or from https to http.

    The message names both origins (never a path or query string, which may carry
    tokens) and is safe to print.
    """


def origin(url: str) -> tuple[str, str, int | None]:
    """Return ``(scheme, host, port)`` with the default port filled in.

    Args:
        url: An absolute URL.

    Returns:
        The lower-cased scheme and host, and the port (None for unknown schemes).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a malformed port: never equal to a real origin
        port = -1
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def show_origin(url: str) -> str:
    """Format a URL's origin for a message: ``https://host`` or ``https://host:8443``."""
    scheme, host, port = origin(url)
    shown_host = f"[{host}]" if ":" in host else host
    default = _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{shown_host}" + ("" if port == default else f":{port}")


def redirect_refusal(from_url: str, to_url: str) -> str | None:
    """Decide whether a redirect from ``from_url`` to ``to_url`` may be followed.

    Args:
        from_url: The URL that answered with a redirect.
        to_url: Where it points (absolute, or relative to ``from_url``).

    Returns:
        None when the redirect is allowed, else why not (e.g. ``"from https to http"``).
    """
    source = origin(from_url)
    target = origin(urljoin(from_url, to_url))
    if target == source:
        return None
    if source[0] == "https" and target[0] != "https":
        return f"from https to {target[0]}"
    if source[0] == "http" and target[0] == "https" and source[1] == target[1]:
        return None  # the same host, upgraded to TLS
    return "to another origin"


def _refuse_unsafe_redirect(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
    if not response.is_redirect:
        return
    target = response.headers["location"]
    try:
        reason = redirect_refusal(response.url, target)
        absolute = urljoin(response.url, target)
    except ValueError:  # "http://[::1", a bad port...: not a place to go
        response.close()
        raise UnsafeRedirectError(
            f"refused to follow HTTP {response.status_code} redirect from "
            f"{show_origin(response.url)}: its Location is not a valid URL",
            response=response,
            request=response.request,
        ) from None
    if reason is None:
        return
    response.close()  # the body is never read: give the connection back, not leak it
    raise UnsafeRedirectError(
        f"refused to follow HTTP {response.status_code} redirect {reason}: "
        f"{show_origin(response.url)} -> {show_origin(absolute)}",
        response=response,
        request=response.request,
    )


def apply_redirect_policy(session: requests.Session) -> requests.Session:
    """Make a session refuse redirects to another origin or from https to http.

    Safe to call more than once on the same session.

    Args:
        session: Any ``requests.Session`` (also subclasses, e.g. the SDK's).

    Returns:
        The same session, for chaining.
    """
    hooks = session.hooks.setdefault("response", [])
    if _refuse_unsafe_redirect not in hooks:
        hooks.append(_refuse_unsafe_redirect)
    return session
