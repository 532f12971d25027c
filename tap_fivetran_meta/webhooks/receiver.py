"""HTTP receiver for Fivetran webhook deliveries.

A stdlib ``ThreadingHTTPServer``: one thread per connection, HTTP/1.1 with a
``Content-Length`` body. Every response closes its connection; webhook senders open
one connection per delivery anyway, and it keeps shutdown simple: once the listener
is closed, the only threads left are requests in flight, which are allowed to finish.

A delivery is answered 2xx only after it is committed to the inbox, so a 2xx means
"on disk"; anything else makes Fivetran retry later.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import socketserver
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tap_fivetran_meta.timeutil import format_timestamp, utcnow
from tap_fivetran_meta.webhooks.events import PayloadError, WebhookEvent, parse_event
from tap_fivetran_meta.webhooks.signature import SIGNATURE_HEADER, verify_signature

if TYPE_CHECKING:
    from tap_fivetran_meta.webhooks.store import Inbox, StoreResult

LOG = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
_LENGTH_RE = re.compile(r"[0-9]{1,19}")
_LINGER_BYTES = 256 * 1024
_LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class ReceiverConfig:
    """Receiver settings.

    Attributes:
        host: Interface to listen on.
        port: TCP port (0 picks a free one).
        path: The path deliveries are POSTed to.
        max_body_bytes: Larger bodies are refused with 413.
        secret: The webhook secret; None accepts unsigned deliveries.
        request_timeout_s: Socket timeout for a slow or stalled client.
    """

    host: str = "127.0.0.1"
    port: int = 8787
    path: str = "/webhook"
    max_body_bytes: int = 1_048_576
    secret: bytes | None = field(default=None, repr=False)
    request_timeout_s: float = 10.0


class _Rejection(Exception):
    """Stop handling a request and answer with an error status."""

    def __init__(self, status: HTTPStatus, message: str, *, body_unread: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body_unread = body_unread


class _ClientGone(Exception):
    """The client stopped sending before the body was complete; nothing to answer."""


class WebhookServer(ThreadingHTTPServer):
    """A threading HTTP server that stores Fivetran deliveries in an :class:`Inbox`."""

    daemon_threads = False  # in-flight requests must finish on shutdown
    block_on_close = True  # server_close() joins the request threads
    request_queue_size = 128

    def __init__(self, config: ReceiverConfig, inbox: Inbox) -> None:
        """Bind the listening socket (it accepts once :meth:`serve_forever` runs).

        Args:
            config: Receiver settings.
            inbox: Where deliveries are stored.
        """
        self.config = config
        self.inbox = inbox
        if ":" in config.host:
            self.address_family = socket.AF_INET6
        super().__init__((config.host, config.port), WebhookHandler)
        if config.secret is None:
            LOG.warning(
                "No webhook secret configured: signatures are NOT verified and any POST "
                "to %s is stored.",
                config.path,
            )

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup that ``HTTPServer`` does."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def url(self) -> str:
        """The delivery URL, with the port actually bound."""
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server_port}{self.config.path}"


class WebhookHandler(BaseHTTPRequestHandler):
    """Handles ``POST <path>`` deliveries and ``GET /healthz``."""

    protocol_version = "HTTP/1.1"
    server_version = "tap-fivetran-meta-webhooks"
    server: WebhookServer

    def setup(self) -> None:
        """Make the request streams and apply the per-connection socket timeout."""
        super().setup()
        self.connection.settimeout(self.server.config.request_timeout_s)

    def version_string(self) -> str:
        """Return the ``Server`` header value (without the Python version)."""
        return self.server_version

    def do_POST(self) -> None:
        """Verify, parse and store one delivery, then answer."""
        try:
            self._check_path()
            body = self._read_body(self._content_length())
            verified = self._verify(body)
            event = self._parse(body)
            result = self._store(event, verified=verified)
        except _Rejection as rejection:
            self._reject(rejection)
            return
        except _ClientGone:
            self.close_connection = True
            return
        status = "duplicate" if result.duplicate else "stored"
        self._send_json(HTTPStatus.OK, {"status": status, "event_id": event.event_id})

    def do_GET(self) -> None:
        """Answer the health check with the number of stored events."""
        if self._request_path() != HEALTH_PATH:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        try:
            events = self.server.inbox.count()
        except sqlite3.Error:
            LOG.exception("health check could not read the inbox")
            self._send_json(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "error"})
            return
        self._send_json(HTTPStatus.OK, {"status": "ok", "events": events})

    def handle_expect_100(self) -> bool:
        """Refuse a bad or oversized body before the client sends it.

        Returns:
            True to go on reading the request, False when it was refused.
        """
        if self.command == "POST" and self._request_path() == self.server.config.path:
            try:
                self._content_length()
            except _Rejection as rejection:
                self._reject(rejection)
                return False
        return super().handle_expect_100()

    def _request_path(self) -> str:
        return urlsplit(self.path).path

    def _check_path(self) -> None:
        if self._request_path() != self.server.config.path:
            raise _Rejection(HTTPStatus.NOT_FOUND, "not found", body_unread=True)

    def _content_length(self) -> int:
        lengths = self.headers.get_all("Content-Length") or []
        if self.headers.get("Transfer-Encoding") is not None:
            if lengths:
                raise _Rejection(
                    HTTPStatus.BAD_REQUEST,
                    "both Transfer-Encoding and Content-Length",
                    body_unread=True,
                )
            raise _Rejection(
                HTTPStatus.LENGTH_REQUIRED,
                "chunked bodies are not accepted; send Content-Length",
                body_unread=True,
            )
        if not lengths:
            raise _Rejection(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
        values = {value.strip() for value in lengths}
        value = values.pop()
        if values or not _LENGTH_RE.fullmatch(value):
            raise _Rejection(HTTPStatus.BAD_REQUEST, "invalid Content-Length", body_unread=True)
        length = int(value)
        if length > self.server.config.max_body_bytes:
            raise _Rejection(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"body exceeds {self.server.config.max_body_bytes} bytes",
                body_unread=True,
            )
        return length

    def _read_body(self, length: int) -> bytes:
        try:
            body = self.rfile.read(length)
        except OSError as exc:  # includes the socket timeout
            LOG.info("client %s stopped sending its body: %s", self.address_string(), exc)
            raise _ClientGone from None
        if len(body) != length:
            LOG.info("client %s closed before sending its whole body", self.address_string())
            raise _ClientGone
        return body

    def _verify(self, body: bytes) -> bool:
        secret = self.server.config.secret
        if secret is None:
            return False
        if not verify_signature(secret, body, self.headers.get(SIGNATURE_HEADER)):
            problem = "missing" if self.headers.get(SIGNATURE_HEADER) is None else "invalid"
            raise _Rejection(HTTPStatus.UNAUTHORIZED, f"{problem} {SIGNATURE_HEADER}")
        return True

    @staticmethod
    def _parse(body: bytes) -> WebhookEvent:
        try:
            return parse_event(body)
        except PayloadError as exc:
            raise _Rejection(HTTPStatus.BAD_REQUEST, str(exc)) from None

    def _store(self, event: WebhookEvent, *, verified: bool) -> StoreResult:
        received_at = format_timestamp(utcnow())
        try:
            result = self.server.inbox.add(
                event, received_at=received_at, signature_verified=verified
            )
        except sqlite3.Error:
            LOG.exception("could not store delivery %s", event.event_id)
            raise _Rejection(
                HTTPStatus.SERVICE_UNAVAILABLE, "could not store the event; retry later"
            ) from None
        LOG.info(
            "%s event=%s connection_id=%s sync_id=%s seq=%s verified=%s event_id=%s",
            "duplicate" if result.duplicate else "stored",
            event.event,
            event.connection_id,
            event.sync_id,
            result.seq,
            verified,
            event.event_id,
        )
        return result

    def _reject(self, rejection: _Rejection) -> None:
        LOG.warning(
            "rejected %s %s from %s: %d %s",
            self.command,
            self._request_path(),
            self.client_address[0],
            rejection.status,
            rejection.message,
        )
        self._send_json(rejection.status, {"error": rejection.message})
        if rejection.body_unread:
            self._linger()

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError as exc:
            LOG.info("could not answer %s: %s", self.address_string(), exc)
            self.close_connection = True

    def _linger(self) -> None:
        """Drain what the client is still sending, so the answer is not lost to a reset.

        Closing a socket with unread data makes the kernel send RST, which can
        discard our response before the client reads it.
        """
        self.close_connection = True
        deadline = time.monotonic() + _LINGER_SECONDS
        drained = 0
        try:
            self.connection.shutdown(socket.SHUT_WR)
            while drained < _LINGER_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.connection.settimeout(remaining)
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            return

    def log_message(self, format: str, *args: Any) -> None:
        """Send the access log to ``logging`` at DEBUG instead of stderr."""
        LOG.debug("%s %s", self.address_string(), format % args)

    def log_error(self, format: str, *args: Any) -> None:
        """Send protocol errors (bad request line, timeouts) to ``logging``."""
        LOG.info("%s %s", self.address_string(), format % args)


def serve_until(server: WebhookServer, stop: threading.Event, *, poll_s: float = 0.25) -> None:
    """Serve until ``stop`` is set, then shut down gracefully.

    Shutdown stops accepting, closes the listening socket, and waits for requests in
    flight to finish (each is bounded by the request timeout). The caller closes the
    inbox afterwards.

    Args:
        server: A bound server.
        stop: Set this (e.g. from a signal handler) to stop.
        poll_s: How often the accept loop and this function check for shutdown.
    """
    acceptor = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": poll_s},
        name="webhook-acceptor",
        daemon=True,
    )
    acceptor.start()
    try:
        while not stop.wait(poll_s):
            if not acceptor.is_alive():
                break
    finally:
        server.shutdown()
        acceptor.join()
        server.server_close()
