"""The run's one HTTP session, without per-request scans of the environment.

``requests`` looks up proxies for every request it sends (``HTTPS_PROXY``, ``NO_PROXY``
and the rest: three full scans of ``os.environ`` per request) and, for a request
prepared without auth, ``~/.netrc``. Over thousands of requests to one API host that
was about a tenth of the tap's CPU. Here the proxies are resolved once per scheme and
host, with the same ``requests`` rules, and the netrc lookup is skipped: the tap sets its
own Authorization header on every request (a netrc entry would be overwritten anyway).
The environment does not change during a run, so requests go where they went before.

``Session.send`` (which the SDK calls) also skips what ``Session.request`` reads from the
environment for TLS: ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` (a company proxy's CA)
are applied here, once, as the session's default ``verify``.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.utils import resolve_proxies


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Session-level auth that adds nothing: the stream's authenticator sets the header."""
    return request


class ApiSession(requests.Session):
    """A keep-alive session that resolves proxies once per scheme and host."""

    def __init__(self) -> None:
        super().__init__()
        self.auth = _no_auth
        self._proxies_by_origin: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.verify = bundle

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send, with the proxies of the request's origin unless given."""
        if "proxies" not in kwargs:
            kwargs["proxies"] = self._proxies_for(request)
        if kwargs.get("verify", True) is True and self.verify is not True:
            kwargs["verify"] = self.verify  # the CA bundle named in the environment
        return super().send(request, **kwargs)

    def _proxies_for(self, request: requests.PreparedRequest) -> dict[str, str]:
        parts = urlsplit(str(request.url))
        origin = (parts.scheme, parts.netloc)
        found = self._proxies_by_origin.get(origin)
        if found is None:
            found = resolve_proxies(request, dict(self.proxies), self.trust_env)
            with self._lock:
                self._proxies_by_origin[origin] = found
        return dict(found)
