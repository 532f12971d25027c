"""HTTP receiver for Fivetran webhook deliveries.

A stdlib ``ThreadingHTTPServer`` (one thread per connection, HTTP/1.1 with a
``Content-Length`` body) with two limits that keep it answering under a flood of slow
or idle connections (slowloris):

* **At most** ``max_connections`` **connections have a thread.** When a new
  connection arrives at the limit, the oldest connection that is still sending its
  request is closed to make room. Well-behaved senders (Fivetran, a proxy, a health
  check) send a whole request in milliseconds, so they are never the oldest; a
  connection whose request is complete and being stored is never closed.
* **Each request has one deadline**, ``request_timeout_s`` after its connection was
  taken on, for the request line, the headers and the body together. Sending a byte
  now and then does not extend it.

Under a burst larger than the limit, the accepting thread waits at most 250 ms for a
request being stored to finish (deliveries that arrive together are committed
together, so slots free up in groups), and not at all after such a wait ran out until
a slot frees up: a connection it cannot take on is answered ``503`` with
``Retry-After`` at once and closed gently
(:mod:`.shedding`), so every sender gets an answer quickly and Fivetran retries the
refused ones. A connection closed to make room is answered ``503`` too.

Every response closes its connection; webhook senders open one connection per
delivery anyway, and it keeps shutdown simple: once the listener is closed, the only
threads left are requests in flight, which are allowed to finish (each bounded by its
deadline).

A delivery is answered 2xx only after it is committed to the inbox, so a 2xx means
"on disk"; anything else makes Fivetran retry later.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import socketserver
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tap_fivetran_meta.rules.timeutil import format_timestamp, utcnow
from tap_fivetran_meta.webhooks.events import PayloadError, WebhookEvent, parse_event
from tap_fivetran_meta.webhooks.logsafe import protect, use_secrets
from tap_fivetran_meta.webhooks.ratelog import RateLimitedLog
from tap_fivetran_meta.webhooks.shedding import Shedder, send_busy
from tap_fivetran_meta.webhooks.signature import (
    SIGNATURE_HEADER,
    secret_problem,
    verify_signature,
)
from tap_fivetran_meta.webhooks.store import InboxWriteError

if TYPE_CHECKING:
    from tap_fivetran_meta.webhooks.store import Inbox, StoreResult

LOG = protect(logging.getLogger(__name__))

HEALTH_PATH = "/healthz"
DEFAULT_MAX_CONNECTIONS = 64
_LENGTH_RE = re.compile(r"[0-9]{1,19}")
_LINGER_BYTES = 256 * 1024
_LINGER_SECONDS = 2.0
#: The longest the acceptor waits for room: for a reading connection to become old
#: enough to be closed (10 ms) and for its thread to let go of the slot. It never
#: waits for a request being stored.
_EVICTION_WAIT_SECONDS = 0.25
#: The longest the acceptor waits for a request being stored to finish when every
#: slot is storing one (they finish together: one commit stores them all).
_STORING_WAIT_SECONDS = 0.25
#: Seconds a refused sender is asked to wait (``Retry-After``).
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class ReceiverConfig:
    """Receiver settings.

    Attributes:
        host: Interface to listen on.
        port: TCP port (0 picks a free one).
        path: The path deliveries are POSTed to.
        max_body_bytes: Larger bodies are refused with 413.
        secret: The webhook secret. Required unless ``insecure_no_signature``.
        insecure_no_signature: Accept unsigned deliveries (local testing only).
        request_timeout_s: Deadline for a whole request (request line, headers and
            body), counted from when its connection is taken on.
        max_connections: Connections handled at once (each has a thread).
    """

    host: str = "127.0.0.1"
    port: int = 8787
    path: str = "/webhook"
    max_body_bytes: int = 1_048_576
    secret: bytes | None = field(default=None, repr=False)
    insecure_no_signature: bool = False
    request_timeout_s: float = 10.0
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    def __post_init__(self) -> None:
        """Refuse a receiver that would store forged events without being told to."""
        if self.secret is not None:
            problem = secret_problem(self.secret)
            if problem is not None:
                raise ValueError(f"the webhook secret {problem}")
        if self.secret is None and not self.insecure_no_signature:
            raise ValueError(
                "a webhook secret is required (insecure_no_signature=True accepts "
                "unsigned deliveries, for local testing only)"
            )
        if self.secret is not None and self.insecure_no_signature:
            raise ValueError("a webhook secret and insecure_no_signature exclude each other")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if self.request_timeout_s <= 0:
            raise ValueError("request_timeout_s must be positive")


class _Rejection(Exception):
    """Stop handling a request and answer with an error status."""

    def __init__(
        self,
        status: HTTPStatus,
        message: str,
        *,
        body_unread: bool = False,
        already_logged: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body_unread = body_unread
        self.already_logged = already_logged


class _ClientGone(Exception):
    """The client stopped sending before the body was complete; nothing to answer."""


class ConnectionLimiter:
    """Bounds the connections that have a handler thread.

    A connection is *reading* from when it is admitted until its request has fully
    arrived, then *processing*. At the limit, admitting a new connection closes the
    oldest reading one (its thread sees end-of-file at once and ends) and waits for a
    slot; processing connections are never closed. A connection younger than
    ``min_age_s`` is not closed either: its thread may not even have run yet (under
    load the acceptor can admit many connections before it does).
    """

    def __init__(self, limit: int, *, min_age_s: float = 0.01) -> None:
        """Create a limiter for ``limit`` connections."""
        self.limit = limit
        self.min_age_s = min_age_s
        self.evictions = 0
        self._cond = threading.Condition()
        self._reading: dict[socket.socket, float] = {}  # admission time; oldest first
        self._evicting: set[socket.socket] = set()
        self._live = 0
        self._stalled = False  # a wait for a storing slot ran out; none freed since

    @property
    def live(self) -> int:
        """Connections admitted and not released yet."""
        with self._cond:
            return self._live

    def admit(self, sock: socket.socket, *, wait_s: float, storing_wait_s: float = 0.0) -> bool:
        """Take on a connection, closing the oldest reading one if at the limit.

        When every slot holds a request being stored, waits up to ``storing_wait_s``
        for one to finish (stores finish together, one commit for all), unless the
        last such wait ran out with no slot freed since: then the connection is
        refused at once, so a stalled inbox never holds up the accepting thread.

        Args:
            sock: The new connection.
            wait_s: The longest wait for a reading connection to become old enough
                to be closed, and for a closed one to let go of its slot.
            storing_wait_s: The longest wait for a request being stored to finish.

        Returns:
            False if there is no room (the caller refuses the connection).
        """
        now = time.monotonic()
        deadline = now + wait_s
        storing_deadline = now + storing_wait_s
        with self._cond:
            while self._live >= self.limit:
                now = time.monotonic()
                pause = deadline - now
                if self._live - len(self._evicting) >= self.limit:
                    if not self._reading:  # every slot is storing a request
                        if self._stalled or now >= storing_deadline:
                            self._stalled = True
                            return False
                        pause = storing_deadline - now
                    else:
                        victim, admitted_at = next(iter(self._reading.items()))
                        age = now - admitted_at
                        if age >= self.min_age_s:
                            self._evict(victim)
                        else:
                            pause = min(pause, self.min_age_s - age)
                if pause <= 0:
                    return False
                self._cond.wait(pause)
            self._live += 1
            self._reading[sock] = time.monotonic()
            return True

    def _evict(self, victim: socket.socket) -> None:
        del self._reading[victim]
        self._evicting.add(victim)
        self.evictions += 1
        send_busy(victim)  # an answer, so the sender knows to retry
        with contextlib.suppress(OSError):  # already closed by its own thread
            victim.shutdown(socket.SHUT_RDWR)  # wakes its thread's blocked recv

    def was_closed_for_room(self, sock: socket.socket) -> bool:
        """Whether the connection was closed to make room (until its thread lets go)."""
        with self._cond:
            return sock in self._evicting

    def is_reading(self, sock: socket.socket) -> bool:
        """Whether the connection is admitted and was not closed to make room."""
        with self._cond:
            return sock in self._reading

    def start_processing(self, sock: socket.socket) -> bool:
        """Mark the request as complete, so the connection is never closed for room.

        Returns:
            False if the connection was already closed to make room (drop the request).
        """
        with self._cond:
            if sock not in self._reading:
                return False
            del self._reading[sock]
            return True

    def claim_for_answer(self, sock: socket.socket) -> bool:
        """Before answering: stop the connection from being closed to make room.

        Returns:
            False if it was already closed to make room (it got a 503; answer nothing).
        """
        with self._cond:
            if sock in self._evicting:
                return False
            self._reading.pop(sock, None)
            return True

    def release(self, sock: socket.socket) -> None:
        """The connection's thread is done with it."""
        with self._cond:
            self._reading.pop(sock, None)
            self._evicting.discard(sock)
            self._live -= 1
            self._stalled = False
            self._cond.notify_all()


class _DeadlineReader(io.RawIOBase):
    """A socket reader that enforces one deadline over all its reads."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any, /) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request deadline passed")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class WebhookServer(ThreadingHTTPServer):
    """A threading HTTP server that stores Fivetran deliveries in an :class:`Inbox`."""

    daemon_threads = False  # in-flight requests must finish on shutdown
    block_on_close = True  # server_close() joins the request threads
    #: The listen queue: a burst waits here for the acceptor (which never blocks)
    #: instead of being dropped by the kernel unanswered.
    request_queue_size = 1024

    def __init__(self, config: ReceiverConfig, inbox: Inbox) -> None:
        """Bind the listening socket (it accepts once :meth:`serve_forever` runs).

        Args:
            config: Receiver settings.
            inbox: Where deliveries are stored.
        """
        self.config = config
        self.inbox = inbox
        self.connections = ConnectionLimiter(config.max_connections)
        self.shedder = Shedder()
        self.problems = RateLimitedLog(LOG)
        if config.secret is not None:
            use_secrets([config.secret.decode("utf-8", "replace")])
        if ":" in config.host:
            self.address_family = socket.AF_INET6
        super().__init__((config.host, config.port), WebhookHandler)
        if config.secret is None:
            LOG.warning(
                "INSECURE: signatures are NOT verified (--insecure-no-signature): anyone "
                "who can reach %s can store forged events. Use this only for local tests; "
                "set a webhook secret for real deliveries.",
                config.path,
            )

    def server_close(self) -> None:
        """Close the listener, finish requests in flight, drop refused connections."""
        super().server_close()
        self.shedder.close()

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

    def process_request(self, request: Any, client_address: Any) -> None:
        """Admit the connection (making room if needed), then hand it to a thread."""
        evictions = self.connections.evictions
        admitted = self.connections.admit(
            request, wait_s=_EVICTION_WAIT_SECONDS, storing_wait_s=_STORING_WAIT_SECONDS
        )
        if self.connections.evictions != evictions:
            self.problems.log(
                "evicted",
                logging.WARNING,
                f"connection limit ({self.connections.limit}) reached: closed the oldest "
                f"connection still sending its request ({self.connections.evictions} so far); "
                "many slow or idle clients are connected",
            )
        if not admitted:
            self.problems.log(
                "busy",
                logging.WARNING,
                f"connection limit ({self.connections.limit}) reached with every slot "
                "busy: answered 503 (Retry-After) to a new connection "
                f"({self.shedder.refused + 1} so far)",
            )
            self.shedder.shed(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connections.release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Handle the connection, then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log an unexpected handler error as one line (traceback at DEBUG only)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # the client went away mid-answer
            LOG.debug("connection from %s ended: %r", client_address[0], exc)
            return
        name = type(exc).__name__
        self.problems.log(
            f"error:{name}", logging.ERROR, f"unexpected error handling a request: {name}: {exc}"
        )
        LOG.debug("traceback", exc_info=True)


class WebhookHandler(BaseHTTPRequestHandler):
    """Handles ``POST <path>`` deliveries and ``GET /healthz``."""

    protocol_version = "HTTP/1.1"
    server_version = "tap-fivetran-meta-webhooks"
    server: WebhookServer

    def setup(self) -> None:
        """Make the request streams; reads share one deadline for the whole request."""
        super().setup()
        self.rfile.close()  # replaced: the deadline applies across reads
        deadline = time.monotonic() + self.server.config.request_timeout_s
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, deadline))

    def version_string(self) -> str:
        """Return the ``Server`` header value (without the Python version)."""
        return self.server_version

    def do_POST(self) -> None:
        """Verify, parse and store one delivery, then answer."""
        if not self._still_admitted():
            return
        try:
            self._check_path()
            body = self._read_body(self._content_length())
            self._begin_processing()
            verified = self._verify(body)
            event = self._parse(body)
            result = self._store(event, verified=verified)
        except _Rejection as rejection:
            self._reject(rejection)
            return
        except _ClientGone:
            self.close_connection = True
            return
        except Exception as exc:  # a bug must still get an answer, never a silent close
            self._unexpected(exc)
            return
        status = "duplicate" if result.duplicate else "stored"
        self._send_json(HTTPStatus.OK, {"status": status, "event_id": event.event_id})

    def do_GET(self) -> None:
        """Answer the health check: the inbox's state and the number of stored events."""
        if not self._still_admitted():
            return
        if not self.server.connections.start_processing(self.connection):
            self.close_connection = True
            return
        self._answer_phase()
        if self._request_path() != HEALTH_PATH:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        health = self.server.inbox.health()
        payload = health.as_dict()
        payload["signatures_verified"] = self.server.config.secret is not None
        status = HTTPStatus.OK if health.ok else HTTPStatus.SERVICE_UNAVAILABLE
        self._send_json(status, payload)

    def _unexpected(self, exc: Exception) -> None:
        name = type(exc).__name__
        self.server.problems.log(
            f"bug:{name}",
            logging.ERROR,
            f"unexpected error handling a delivery from {self.client_address[0]}: "
            f"{name}: {exc} (answered 500; Fivetran retries it)",
        )
        LOG.debug("traceback", exc_info=True)
        self._answer_phase()
        self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a malformed request, unless it was closed to make room (it has its 503)."""
        if not self.server.connections.claim_for_answer(self.connection):
            self.close_connection = True
            return
        super().send_error(code, message, explain)

    def handle_expect_100(self) -> bool:
        """Refuse a bad or oversized body before the client sends it.

        Returns:
            True to go on reading the request, False when it was refused.
        """
        if not self.server.connections.is_reading(self.connection):
            return False
        if self.command == "POST" and self._request_path() == self.server.config.path:
            try:
                self._content_length()
            except _Rejection as rejection:
                self._reject(rejection)
                return False
        return super().handle_expect_100()

    def _still_admitted(self) -> bool:
        """False (and nothing answered) if the connection was closed to make room."""
        if self.server.connections.is_reading(self.connection):
            return True
        self.close_connection = True
        return False

    def _answer_phase(self) -> None:
        """The request is in: writing the answer gets its own timeout."""
        self.connection.settimeout(self.server.config.request_timeout_s)

    def _begin_processing(self) -> None:
        """The whole request arrived: from now on the connection is never closed for room."""
        if not self.server.connections.start_processing(self.connection):
            raise _ClientGone  # it was closed to make room just before
        self._answer_phase()

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
        except OSError as exc:  # includes the request deadline
            self._client_problem("body", f"stopped sending its body: {exc}")
            raise _ClientGone from None
        if len(body) != length:
            self._client_problem("body", "closed before sending its whole body")
            raise _ClientGone
        return body

    def _client_problem(self, kind: str, what: str) -> None:
        """Log a misbehaving client at INFO, at most one line per kind per minute."""
        self.server.problems.log(
            f"client:{kind}", logging.INFO, f"client {self.client_address[0]} {what}"
        )

    def _verify(self, body: bytes) -> bool:
        secret = self.server.config.secret
        if secret is None:
            return False
        received = self.headers.get_all(SIGNATURE_HEADER) or []
        if len(received) > 1:  # which one would count? Fivetran sends one
            raise _Rejection(HTTPStatus.UNAUTHORIZED, f"more than one {SIGNATURE_HEADER}")
        if not verify_signature(secret, body, received[0] if received else None):
            problem = "invalid" if received else "missing"
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
        except InboxWriteError:  # the inbox logs it, once per kind of failure
            raise _Rejection(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "could not store the event; retry later",
                already_logged=True,
            ) from None
        except sqlite3.Error as exc:
            self.server.problems.log(
                f"store:{type(exc).__name__}",
                logging.ERROR,
                f"could not store delivery {event.event_id}: {type(exc).__name__}: {exc}",
            )
            raise _Rejection(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "could not store the event; retry later",
                already_logged=True,
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
        if not self.server.connections.claim_for_answer(self.connection):
            self.close_connection = True
            return
        self._answer_phase()
        if not rejection.already_logged:
            self.server.problems.log(
                f"rejected:{rejection.status}:{rejection.message}",
                logging.WARNING,
                f"rejected {self.command} {self._request_path()} from "
                f"{self.client_address[0]}: {rejection.status:d} {rejection.message}",
            )
        self._send_json(rejection.status, {"error": rejection.message})
        if rejection.body_unread:
            self._linger()

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        """Answer and close: status line, headers and body in one write (one packet)."""
        body = json.dumps(payload).encode("utf-8")
        head = [
            f"{self.protocol_version} {status.value} {status.phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            head.append(f"Retry-After: {RETRY_AFTER_SECONDS}")
        head.append("Connection: close")
        self.close_connection = True
        self.log_request(status.value)
        try:
            self.wfile.write("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body)
        except OSError as exc:
            LOG.debug("could not answer %s: %s", self.address_string(), exc)

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
        """Protocol errors (bad request line, deadline passed): INFO, one line a minute each."""
        if self.server.connections.was_closed_for_room(self.connection):
            # Closed to make room: what it sent last is cut off, not a client error.
            LOG.debug("%s %s", self.address_string(), format % args)
            return
        self._client_problem(format.split("%", maxsplit=1)[0].strip() or "protocol", format % args)


def serve_until(server: WebhookServer, stop: threading.Event, *, poll_s: float = 0.25) -> None:
    """Serve until ``stop`` is set, then shut down gracefully.

    Shutdown stops accepting, closes the listening socket, and waits for requests in
    flight to finish (each is bounded by the request deadline). The caller closes the
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
