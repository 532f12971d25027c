"""HTTP transport limits: a cap on the decoded body size and a deadline for the whole answer.

requests reads a body to its end before the tap sees it, however large it inflates
(a 2 MB gzip bomb took 4 GB of memory) and however slowly it arrives (its timeout is
per socket read, so a status line, headers or body dripped one byte a second never
time out). The adapter here reads the body itself, in chunks of at most
:data:`CHUNK_BYTES` per socket read (urllib3 decompresses no more than that at a
time), and gives up:

* once the decoded body passes ``max_body_bytes``: :class:`ResponseTooLargeError`,
  not retried (the same request would bring the same body);
* once the whole answer (status line, headers and body) has not arrived ``timeout``
  seconds after the request was sent: ``requests.exceptions.ReadTimeout``, retried
  like any other timeout. A watchdog thread (:class:`_Watchdog`) shuts the socket of
  an answer past its deadline, which ends a blocked read of the status line or headers.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

from tap_fivetran_meta.api.errors import ResponseTooLargeError

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from requests import PreparedRequest, Response

CHUNK_BYTES = 64 * 1024
MEBIBYTE = 1024 * 1024
#: How often the watchdog looks for answers past their deadline (seconds).
WATCH_INTERVAL = 0.2


class _Watch:
    """One request's deadline and, once it is sent, its socket."""

    __slots__ = ("deadline", "fired", "sock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: socket.socket | None = None
        self.fired = False


class _Watchdog:
    """One daemon thread that shuts the socket of every answer past its deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: set[_Watch] = set()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float) -> _Watch:
        """Start watching one request that must be answered within ``seconds``."""
        entry = _Watch(time.monotonic() + seconds)
        with self._lock:
            self._watches.add(entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="tap-http-watchdog", daemon=True
                )
                self._thread.start()
        self._wake.set()
        return entry

    def attach(self, entry: _Watch, sock: socket.socket | None) -> None:
        """The socket the request went out on (shut at once if the deadline passed)."""
        with self._lock:
            entry.sock = sock
            if entry.fired:
                _shut(sock)

    def done(self, entry: _Watch) -> None:
        """Stop watching (the answer arrived, or failed)."""
        with self._lock:
            self._watches.discard(entry)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(WATCH_INTERVAL)
            now = time.monotonic()
            with self._lock:
                for entry in self._watches:
                    if not entry.fired and now > entry.deadline:
                        entry.fired = True
                        _shut(entry.sock)
                if not self._watches:
                    self._wake.clear()


def _shut(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
#: The watch of the request this thread is sending (read by the connection classes).
_CURRENT = threading.local()


def _attach_current(sock: socket.socket | None) -> None:
    entry = getattr(_CURRENT, "watch", None)
    if entry is not None:
        _WATCHDOG.attach(entry, sock)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _attach_current(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _attach_current(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class BoundedAdapter(HTTPAdapter):
    """An HTTPAdapter that caps the decoded body size and bounds the body's arrival time."""

    def __init__(self, *, max_body_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_body_bytes = max_body_bytes

    @override
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    @override
    def proxy_manager_for(self, proxy: Any, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager

    @override
    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> Response:
        """Send the request; read the answer within the size cap and the deadline."""
        started = time.monotonic()
        seconds = _total_seconds(timeout)
        entry = None if seconds is None or stream else _WATCHDOG.watch(seconds)
        _CURRENT.watch = entry
        try:
            response = super().send(
                request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
            if stream:
                return response  # the caller reads the body itself
            deadline = None if seconds is None else started + seconds
            try:
                body = self._read_body(response, deadline, seconds)
            except BaseException:
                response.close()
                raise
        except (requests.RequestException, OSError):
            if entry is not None and entry.fired:
                raise requests.exceptions.ReadTimeout(
                    f"The answer to GET {urlparse(request.url or '').path or '?'} was "
                    f"still arriving {seconds:.0f} s after the request: timed out "
                    "(request_timeout covers the status line, headers and body)",
                    request=request,
                ) from None
            raise
        finally:
            _CURRENT.watch = None
            if entry is not None:
                _WATCHDOG.done(entry)
        # What Response.content caches once it has read the body itself.
        response.__dict__.update(_content=body, _content_consumed=True)
        return response

    def _read_body(
        self, response: Response, deadline: float | None, seconds: float | None
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in _chunks(response):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ResponseTooLargeError(_too_large(response, self.max_body_bytes))
            chunks.append(chunk)
            if deadline is not None and time.monotonic() > deadline:
                msg = (
                    f"The answer to GET {_path(response)} was still arriving "
                    f"{seconds:.0f} s after the request (request_timeout): "
                    f"{size} bytes so far"
                )
                raise requests.exceptions.ReadTimeout(msg, response=response)
        return b"".join(chunks)


def _chunks(response: Response) -> Any:
    """The decoded body, one socket read at a time (requests' exception mapping)."""
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    try:
        if read1 is None:  # urllib3 < 2.3: whole chunks, still bounded per read
            yield from raw.stream(CHUNK_BYTES, decode_content=True)
            return
        while True:
            chunk = read1(CHUNK_BYTES, decode_content=True)
            if not chunk:
                return
            yield chunk
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None


def _total_seconds(timeout: Any) -> float | None:
    """The whole-answer deadline for a requests ``timeout`` (number or (connect, read))."""
    if isinstance(timeout, (int, float)):
        return float(timeout)
    if isinstance(timeout, tuple) and all(isinstance(t, (int, float)) for t in timeout):
        return float(sum(timeout))
    return None


def _path(response: Response) -> str:
    return urlparse(response.url or "").path or "?"


def _too_large(response: Response, cap: int) -> str:
    return (
        f"The answer to GET {_path(response)} is larger than max_response_mb="
        f"{cap // MEBIBYTE} MB once decompressed; stopping instead of reading it "
        "(Fivetran's answers are far smaller: a proxy or a hostile server?). Raise "
        "max_response_mb only if such an answer is genuine."
    )
