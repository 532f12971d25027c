"""HTTP plumbing on top of :class:`http.server.ThreadingHTTPServer`."""

from __future__ import annotations

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fivetran_sim.app import ApiApp, Outcome

_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class SimHTTPServer(ThreadingHTTPServer):
    """Threaded server holding the application object."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: ApiApp) -> None:
        """Bind and listen.

        Args:
            address: ``(host, port)``; port 0 picks a free port.
            app: Request pipeline.
        """
        self.app = app
        super().__init__(address, SimRequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hung up (a tap that refused a body); report the rest."""
        if isinstance(sys.exc_info()[1], _CLIENT_GONE):
            return
        super().handle_error(request, client_address)


class SimRequestHandler(BaseHTTPRequestHandler):
    """Reads a request, asks the app, writes the outcome (keep-alive capable)."""

    protocol_version = "HTTP/1.1"
    # One buffered write per response and no Nagle delay: keeps keep-alive requests fast.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server_version = "fivetran-sim/1.0"
    sys_version = ""
    server: SimHTTPServer

    def do_GET(self) -> None:
        """Handle GET."""
        self._serve()

    def do_POST(self) -> None:
        """Handle POST."""
        self._serve()

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._serve()

    def do_PUT(self) -> None:
        """Handle PUT."""
        self._serve()

    def do_PATCH(self) -> None:
        """Handle PATCH."""
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and benchmarks do not want access logs."""

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._read_body()
        outcome = self.server.app.handle(self.command, self.path, self.headers, body)
        try:
            self._write(outcome)
        except _CLIENT_GONE:
            self.close_connection = True

    def _write(self, outcome: Outcome) -> None:
        if outcome.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        if outcome.truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if outcome.truncate:
            self.wfile.write(outcome.body[: max(1, len(outcome.body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            return
        if outcome.drip_s is not None:
            self.wfile.flush()
            for index in range(len(outcome.body)):
                self.wfile.write(outcome.body[index : index + 1])
                self.wfile.flush()
                self.server.app.pause(outcome.drip_s)
            return
        self.wfile.write(outcome.body)


def serve_in_thread(server: SimHTTPServer) -> threading.Thread:
    """Run ``serve_forever`` in a daemon thread.

    Args:
        server: The bound server.

    Returns:
        The started thread.
    """
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # quick shutdown() for short-lived test servers
        name="fivetran-sim",
        daemon=True,
    )
    thread.start()
    return thread
