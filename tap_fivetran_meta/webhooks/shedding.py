"""Refuse connections the receiver has no room for: a quick 503, then a gentle close.

When every connection slot is busy, the accepting thread must not wait (the listen
queue would fill and new senders would get no answer at all), and it must not simply
close the socket either: closing a socket whose request has not been read makes the
kernel send a reset, which can destroy the 503 before the sender reads it. So the
acceptor writes the 503 (it fits in the socket buffer), ends its side of the
connection, and hands the socket to one background thread that reads and discards
whatever the sender still sends until it closes its side (bounded in bytes and time),
then closes the socket.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time

BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Content-Length: 17\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    b'{"error": "busy"}'
)
#: Refused connections drained at once; beyond this they are closed at once.
MAX_DRAINING = 2048
DRAIN_SECONDS = 2.0
DRAIN_BYTES = 256 * 1024


def send_busy(sock: socket.socket) -> None:
    """Write the 503 without blocking and end our side of the connection."""
    with contextlib.suppress(OSError):
        sock.send(BUSY_RESPONSE, socket.MSG_DONTWAIT)
        sock.shutdown(socket.SHUT_WR)


class Shedder:
    """Answers refused connections 503 and closes them once the sender is done."""

    def __init__(
        self,
        *,
        max_draining: int = MAX_DRAINING,
        drain_s: float = DRAIN_SECONDS,
        drain_bytes: int = DRAIN_BYTES,
    ) -> None:
        """Create the shedder; its thread starts with the first refused connection."""
        self.max_draining = max_draining
        self.drain_s = drain_s
        self.drain_bytes = drain_bytes
        self.refused = 0
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._incoming: list[socket.socket] = []
        self._draining: dict[socket.socket, tuple[float, int]] = {}  # deadline, bytes read
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def shed(self, sock: socket.socket) -> None:
        """Answer ``sock`` 503 and take it over (the caller must not close it)."""
        send_busy(sock)
        with self._lock:
            self.refused += 1
            if self._stop.is_set() or len(self._draining) + len(self._incoming) >= (
                self.max_draining
            ):
                sock.close()
                return
            self._incoming.append(sock)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="webhook-shedder", daemon=True
                )
                self._thread.start()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def close(self) -> None:
        """Stop the thread and close every socket still being drained."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(self.drain_s + 1)
        with self._lock:
            pending, self._incoming = self._incoming, []
        for sock in [*pending, *self._draining]:
            sock.close()
        self._draining.clear()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._take_incoming()
            timeout = self._next_deadline_in()
            for key, _ in self._selector.select(timeout):
                sock = key.fileobj
                if sock is self._wake_r:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                assert isinstance(sock, socket.socket)  # noqa: S101
                self._read(sock)
            self._expire()

    def _take_incoming(self) -> None:
        with self._lock:
            incoming, self._incoming = self._incoming, []
        deadline = time.monotonic() + self.drain_s
        for sock in incoming:
            try:
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ)
            except (OSError, ValueError):
                sock.close()
                continue
            self._draining[sock] = (deadline, 0)

    def _next_deadline_in(self) -> float:
        if not self._draining:
            return 1.0
        soonest = min(deadline for deadline, _ in self._draining.values())
        return max(0.0, soonest - time.monotonic())

    def _read(self, sock: socket.socket) -> None:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        deadline, read = self._draining[sock]
        read += len(chunk)
        if not chunk or read >= self.drain_bytes:
            self._finish(sock)
        else:
            self._draining[sock] = (deadline, read)

    def _expire(self) -> None:
        now = time.monotonic()
        for sock in [s for s, (deadline, _) in self._draining.items() if deadline <= now]:
            self._finish(sock)

    def _finish(self, sock: socket.socket) -> None:
        self._draining.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        sock.close()
