"""A hostile Fivetran API on loopback, for answers requests_mock cannot fake.

It listens on 127.0.0.1 only, serves each connection on a daemon thread and gives up on
any connection after :data:`MAX_SECONDS`, so a test that fails cannot hang the suite.

Behaviours (``mode``):

* ``drip``: the status line and headers of every answer, one byte per ``drip_seconds``;
* ``endless``: ``/v1/groups`` pages that each carry a new ``next_cursor`` and the
  same items (``repeat``) or none (``empty``), forever;
* ``honest``: ``/v1/groups`` in ``pages`` pages of one new group each (the last has no
  cursor), everything else like the fixture account's empty lists;
* ``echo``: every answer a 500 whose ``code``, ``message``, ``X-Request-Id`` and
  ``Location`` repeat ``echo`` (a list of strings: the secrets, in any spelling).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

ACCOUNT = {"account_id": "acct_hostile", "account_name": "Hostile", "user_id": "u1"}
#: No connection is served longer than this, whatever happens in the test.
MAX_SECONDS = 60.0


@dataclass
class HostileServer:
    mode: str
    drip_seconds: float = 0.25
    repeat: str = "repeat"
    pages: int = 3
    echo: list[str] = field(default_factory=list)
    #: Characters of padding in each honest group's name (to fill a pipe quickly).
    name_size: int = 0
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def close(self) -> None:
        self._closed.set()
        self._thread.join(5)
        self._sock.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- serving -----------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        started = time.monotonic()
        conn.settimeout(1.0)
        buffer = b""
        try:
            while not self._closed.is_set() and time.monotonic() - started < MAX_SECONDS:
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, buffer = buffer.split(b"\r\n\r\n", 1)
                    target = head.split(b" ")[1].decode()
                    self.requests.append(target)
                    if not self._answer(conn, target, started):
                        return
        except OSError:
            return
        finally:
            conn.close()

    def _answer(self, conn: socket.socket, target: str, started: float) -> bool:
        status, body = self._body(target)
        data = json.dumps(body).encode()
        extra = ""
        if self.mode == "echo":
            echoed = " ".join(self.echo)
            extra = f"X-Request-Id: {echoed}\r\nLocation: https://h/x?s={echoed}\r\n"
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        if self.mode == "drip":
            for byte in head:
                if self._closed.is_set() or time.monotonic() - started > MAX_SECONDS:
                    return False
                conn.sendall(bytes([byte]))
                time.sleep(self.drip_seconds)
            conn.sendall(data)
        else:
            conn.sendall(head + data)  # one write: no Nagle/delayed-ACK pause per page
        return True

    def _body(self, target: str) -> tuple[str, dict[str, Any]]:
        url = urlparse(target)
        cursor = parse_qs(url.query).get("cursor", ["0"])[0]
        if self.mode == "echo":
            echoed = " | ".join(self.echo)
            body = {"code": f"Oops {echoed}", "message": f"you sent {echoed} ({target})"}
            return "500 Internal Server Error", body
        if url.path == "/v1/account/info":
            return "200 OK", {"code": "Success", "data": ACCOUNT}
        if url.path == "/v1/groups":
            return "200 OK", {"code": "Success", "data": self._groups_page(int(cursor))}
        return "200 OK", {"code": "Success", "data": {"items": [], "next_cursor": None}}

    def _groups_page(self, number: int) -> dict[str, Any]:
        if self.mode == "honest":
            last = number + 1 >= self.pages
            return {
                "items": [{"id": f"g{number}", "name": f"group {number} " + "x" * self.name_size}],
                "next_cursor": None if last else str(number + 1),
            }
        items = [] if self.repeat == "empty" else [{"id": "g0", "name": "the same group"}]
        return {"items": items, "next_cursor": str(number + 1)}
