"""Load, attack and crash benchmark for the webhook receiver.

Starts ``tap-fivetran-meta-webhooks serve`` in a subprocess on loopback and measures:

* load: N signed deliveries from S concurrent senders, all checked stored;
  throughput, latency and the receiver's CPU per event (``--senders 1,8`` interleaves
  sender counts, ``--repeat R`` runs each R times and prints the median and range);
* burst (``--burst N``): N signed deliveries opened at the same instant (one
  non-blocking socket each): how many were answered 200, 503 or not at all, and when
  the last answer came; every 200 is checked stored;
* health flood (``--health-flood T``, with ``--prefill N`` events in the inbox first):
  signed deliveries timed alone, then while T clients request ``/healthz`` without
  pause;
* slowloris (``--slow-connections N``): N connections that send a request header a
  byte at a time and never finish it (closed ones are reopened); meanwhile
  ``/healthz`` and signed deliveries are timed, and the receiver's thread count is
  sampled from /proc;
* kill -9 (``--kill-rounds R``): R rounds of load, each ended by SIGKILL at a random
  point, then a restart on the same inbox; every acknowledged event must be stored.

Numbers are printed, not judged against a time.

    python benchmarks/webhook_load.py --events 2000 --senders 1,8 --repeat 3
    python benchmarks/webhook_load.py --events 0 --burst 1200
    python benchmarks/webhook_load.py --events 0 --health-flood 8 --prefill 1000000
    python benchmarks/webhook_load.py --events 0 --slow-connections 6000 --attack-seconds 20
    python benchmarks/webhook_load.py --events 0 --kill-rounds 10

The tests in ``tests/webhooks/`` use the same helpers with smaller numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import resource
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tap_fivetran_meta.webhooks.events import event_id_for  # noqa: E402
from tap_fivetran_meta.webhooks.sender import (  # noqa: E402
    encode_payload,
    post_delivery,
    sample_payload,
)
from tap_fivetran_meta.webhooks.signature import compute_signature  # noqa: E402
from tap_fivetran_meta.webhooks.store import Inbox  # noqa: E402

SECRET_ENV = "FIVETRAN_WEBHOOK_SECRET"  # noqa: S105  (a variable name)
_LISTENING_RE = re.compile(r"listening on (http://\S+)")


@dataclass
class ReceiverProcess:
    """A receiver running as ``python -m tap_fivetran_meta.webhooks serve``."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return self.url.rsplit("/", 1)[0]

    def health(self) -> dict:
        """GET /healthz; a 503 answer is returned too (its body says what is wrong)."""
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=10) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as exc:
            return json.load(exc)

    def threads(self) -> int:
        """The receiver process's current number of threads (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE).group(1))  # type: ignore[union-attr]

    def cpu_seconds(self) -> float:
        """User + system CPU the receiver process used so far (Linux)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout_s: float = 15.0) -> int:
        """SIGTERM and wait; kills it if it does not stop in time."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_receiver(
    inbox: Path,
    log_path: Path,
    *,
    secret: str | None,
    extra_args: tuple[str, ...] = (),
    ready_timeout_s: float = 20.0,
) -> ReceiverProcess:
    """Start a receiver on a free loopback port and wait until it listens.

    Without a secret it runs with ``--insecure-no-signature`` (it refuses to start
    otherwise).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop(SECRET_ENV, None)
    if secret is not None:
        env[SECRET_ENV] = secret
    else:
        extra_args = ("--insecure-no-signature", *extra_args)
    offset = log_path.stat().st_size if log_path.exists() else 0
    command = [sys.executable, "-m", "tap_fivetran_meta.webhooks", "serve"]
    command += ["--inbox", str(inbox), "--host", "127.0.0.1", "--port", "0", *extra_args]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        with log_path.open("rb") as log:
            log.seek(offset)
            match = _LISTENING_RE.search(log.read().decode("utf-8", "replace"))
        if match:
            return ReceiverProcess(process=process, url=match.group(1), log_path=log_path)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"receiver did not start; log:\n{log_path.read_text()}")


def make_bodies(count: int) -> list[bytes]:
    """Distinct sync_end deliveries spread over 50 connections."""
    return [
        encode_payload(
            sample_payload(
                "sync_end" if i % 2 else "sync_start",
                connection_id=f"load_connection_{i % 50}",
                sync_id=str(uuid.uuid4()),
            )
        )
        for i in range(count)
    ]


@dataclass
class LoadResult:
    """What the senders saw."""

    senders: int
    acked: list[str] = field(default_factory=list)
    """event_ids answered 2xx."""
    rejected: list[tuple[str, int]] = field(default_factory=list)
    """(event_id, status) answered non-2xx."""
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(event_id, exception name): no answer (the delivery is in doubt)."""
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def attempted(self) -> int:
        return len(self.acked) + len(self.rejected) + len(self.errors)

    def summary(self) -> dict[str, float | int]:
        latencies = sorted(self.latencies_s)
        return {
            "events": self.attempted,
            "senders": self.senders,
            "ok": len(self.acked),
            "rejected": len(self.rejected),
            "errors": len(self.errors),
            "p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "p99_ms": round(percentile(latencies, 99) * 1000, 2),
            "max_ms": round((latencies[-1] if latencies else 0.0) * 1000, 2),
            "events_per_s": round(len(self.acked) / self.elapsed_s, 1) if self.elapsed_s else 0,
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class LoadRun:
    """Senders posting pre-built bodies concurrently; each sender posts one at a time."""

    def __init__(
        self,
        url: str,
        bodies: list[bytes],
        *,
        senders: int,
        secret: bytes | None,
        stop_on_error: bool = False,
    ) -> None:
        self.url = url
        self.secret = secret
        self.stop_on_error = stop_on_error
        self.result = LoadResult(senders=senders)
        self._lock = threading.Lock()
        self._shares = [bodies[i::senders] for i in range(senders)]
        self._start = threading.Barrier(senders + 1)
        self._threads = [
            threading.Thread(target=self._send_all, args=(share,), name=f"sender-{i}")
            for i, share in enumerate(self._shares)
        ]
        self._began = 0.0

    @property
    def acked_count(self) -> int:
        with self._lock:
            return len(self.result.acked)

    def start(self) -> LoadRun:
        for thread in self._threads:
            thread.start()
        self._began = time.perf_counter()
        self._start.wait()
        return self

    def wait(self) -> LoadResult:
        for thread in self._threads:
            thread.join()
        self.result.elapsed_s = time.perf_counter() - self._began
        return self.result

    def _send_all(self, share: list[bytes]) -> None:
        self._start.wait()
        for body in share:
            if not self._send_one(body) and self.stop_on_error:
                return

    def _send_one(self, body: bytes) -> bool:
        event_id = event_id_for(body)
        began = time.perf_counter()
        try:
            delivery = post_delivery(self.url, body, secret=self.secret, timeout_s=30.0)
        except (OSError, http.client.HTTPException) as exc:  # no (complete) answer
            with self._lock:
                self.result.errors.append((event_id, exc.__class__.__name__))
            return False
        latency = time.perf_counter() - began
        with self._lock:
            self.result.latencies_s.append(latency)
            if delivery.ok:
                self.result.acked.append(event_id)
            else:
                self.result.rejected.append((event_id, delivery.status))
        return delivery.ok


def run_load(url: str, bodies: list[bytes], *, senders: int, secret: bytes | None) -> LoadResult:
    """Post every body and return what the senders saw."""
    return LoadRun(url, bodies, senders=senders, secret=secret).start().wait()


# --- slowloris -------------------------------------------------------------------------


class SlowLoris:
    """Holds connections that send a request header a byte at a time and never end it.

    One thread drives all sockets. Every ``drip_interval_s`` each open connection gets
    one more header byte; a connection the receiver closes is reopened (at most
    ``reconnects_per_s``), the way an attack tool keeps up the pressure.
    """

    def __init__(
        self,
        host: str,
        port: int,
        connections: int,
        *,
        drip_interval_s: float = 0.5,
        reconnects_per_s: float = 1000.0,
    ) -> None:
        self.host = host
        self.port = port
        self.connections = connections
        self.drip_interval_s = drip_interval_s
        self.reconnects_per_s = reconnects_per_s
        self.opened = 0
        self.closed_by_receiver = 0
        self.connect_failures = 0
        self._selector = selectors.DefaultSelector()
        self._open: set[socket.socket] = set()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slowloris", daemon=True)

    @property
    def open_now(self) -> int:
        return len(self._open)

    def start(self, ready_timeout_s: float = 60.0) -> SlowLoris:
        """Start, and return once every connection was opened once."""
        self._thread.start()
        self._ready.wait(ready_timeout_s)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _connect(self) -> bool:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=2)
        except OSError:
            self.connect_failures += 1
            return False
        try:
            sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        except OSError:
            sock.close()
            self.connect_failures += 1
            return False
        sock.setblocking(False)
        self._selector.register(sock, selectors.EVENT_READ)
        self._open.add(sock)
        self.opened += 1
        return True

    def _drop(self, sock: socket.socket) -> None:
        if sock in self._open:
            self._open.discard(sock)
            self._selector.unregister(sock)
            self.closed_by_receiver += 1
        sock.close()

    def _run(self) -> None:
        next_drip = time.monotonic() + self.drip_interval_s
        budget, budget_at = 0.0, time.monotonic()
        try:
            while not self._stop.is_set():
                opening = self.opened < self.connections
                self._drop_closed(timeout_s=0 if opening else 0.05)
                now = time.monotonic()
                if now >= next_drip:  # drip while opening too, as an attack tool would
                    self._drip()
                    next_drip = now + self.drip_interval_s
                if opening:  # the first round: as fast as the receiver accepts
                    for _ in range(50):
                        if self.opened >= self.connections:
                            break
                        self._connect()
                    if self.opened >= self.connections:
                        self._ready.set()
                        budget_at = time.monotonic()
                    continue
                budget = min(self.connections, budget + (now - budget_at) * self.reconnects_per_s)
                budget_at = now
                while len(self._open) < self.connections and budget >= 1:
                    budget -= 1
                    if not self._connect():
                        break
        finally:
            self._ready.set()
            for sock in list(self._open):
                sock.close()
            self._open.clear()

    def _drop_closed(self, timeout_s: float) -> None:
        """Forget the connections the receiver closed (it sends nothing else)."""
        for key, _ in self._selector.select(timeout=timeout_s):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                self._drop(sock)

    def _drip(self) -> None:
        """One more header byte on every open connection."""
        for sock in list(self._open):
            try:
                sock.send(b"x")
            except BlockingIOError:
                pass
            except OSError:
                self._drop(sock)


@dataclass
class AttackReport:
    """What well-behaved clients saw while a :class:`SlowLoris` ran."""

    slow_connections: int
    health_latencies_s: list[float] = field(default_factory=list)
    health_failures: list[str] = field(default_factory=list)
    post_latencies_s: list[float] = field(default_factory=list)
    post_failures: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    max_threads: int = 0
    closed_by_receiver: int = 0
    open_at_end: int = 0

    def summary(self) -> dict[str, float | int | str]:
        health = sorted(self.health_latencies_s)
        posts = sorted(self.post_latencies_s)
        return {
            "slow_connections": self.slow_connections,
            "receiver_threads_max": self.max_threads,
            "slow_closed_by_receiver": self.closed_by_receiver,
            "slow_open_at_end": self.open_at_end,
            "healthz_ok": len(health),
            "healthz_failed": len(self.health_failures),
            "healthz_p50_ms": round(percentile(health, 50) * 1000, 1),
            "healthz_max_ms": round((health[-1] if health else 0.0) * 1000, 1),
            "post_ok": len(self.acked),
            "post_failed": len(self.post_failures),
            "post_p50_ms": round(percentile(posts, 50) * 1000, 1),
            "post_max_ms": round((posts[-1] if posts else 0.0) * 1000, 1),
            "failures": ", ".join(sorted(set(self.health_failures + self.post_failures))),
        }


def probe_during_attack(
    url: str,
    secret: bytes,
    attack: SlowLoris,
    *,
    probes: int,
    duration_s: float = 0.0,
    interval_s: float = 0.2,
    timeout_s: float = 10.0,
    thread_count: Callable[[], int] | None = None,
) -> AttackReport:
    """Time health checks and signed deliveries while ``attack`` runs.

    Args:
        url: The receiver's delivery URL.
        secret: The webhook secret (deliveries are signed).
        attack: A started :class:`SlowLoris`.
        probes: At least this many of each...
        duration_s: ...and go on for at least this long.
        interval_s: Pause between probes.
        timeout_s: Client timeout of each probe; slower counts as a failure.
        thread_count: Optional callable returning the receiver's thread count.
    """
    parts = urlsplit(url)
    report = AttackReport(slow_connections=attack.connections)
    end = time.monotonic() + duration_s
    done = 0
    while done < probes or time.monotonic() < end:
        done += 1
        body = make_bodies(1)[0]
        began = time.perf_counter()
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
            finally:
                connection.close()
            if response.status == 200:
                report.health_latencies_s.append(time.perf_counter() - began)
            else:
                report.health_failures.append(f"HTTP {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            report.health_failures.append(exc.__class__.__name__)
        began = time.perf_counter()
        try:
            delivery = post_delivery(url, body, secret=secret, timeout_s=timeout_s)
            if delivery.ok:
                report.post_latencies_s.append(time.perf_counter() - began)
                report.acked.append(event_id_for(body))
            else:
                report.post_failures.append(f"HTTP {delivery.status}")
        except (OSError, http.client.HTTPException) as exc:
            report.post_failures.append(exc.__class__.__name__)
        if thread_count is not None:
            report.max_threads = max(report.max_threads, thread_count())
        time.sleep(interval_s)
    report.closed_by_receiver = attack.closed_by_receiver
    report.open_at_end = attack.open_now
    return report


def raise_fd_limit(wanted: int) -> None:
    """Raise this process's open-file limit towards ``wanted`` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# --- burst ---------------------------------------------------------------------------------


@dataclass
class BurstResult:
    """What N simultaneous senders saw."""

    statuses: dict[str, int] = field(default_factory=dict)
    """event_id -> HTTP status (0: no answer: reset, closed without a response, timeout)."""
    retry_after: int = 0
    """503 answers that carried Retry-After."""
    last_answer_s: float = 0.0

    def summary(self) -> dict[str, float | int]:
        counts: dict[int, int] = {}
        for status in self.statuses.values():
            counts[status] = counts.get(status, 0) + 1
        return {
            "deliveries": len(self.statuses),
            "answered_200": counts.get(200, 0),
            "answered_503": counts.get(503, 0),
            "answered_other": sum(n for s, n in counts.items() if s not in (0, 200, 503)),
            "no_answer": counts.get(0, 0),
            "503_with_retry_after": self.retry_after,
            "last_answer_s": round(self.last_answer_s, 2),
        }


def burst(url: str, bodies: list[bytes], *, secret: bytes, timeout_s: float = 30.0) -> BurstResult:
    """Open one connection per body at once, send each request, read every answer."""
    parts = urlsplit(url)
    address = (str(parts.hostname), int(parts.port or 80))
    selector = selectors.DefaultSelector()
    pending: dict[socket.socket, list] = {}  # sock -> [event_id, request, sent, response]
    result = BurstResult()
    began = time.monotonic()
    for body in bodies:
        signature = compute_signature(secret, body)
        request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Fivetran-Signature-256: {signature}\r\n\r\n"
        ).encode() + body
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(address)
        pending[sock] = [event_id_for(body), request, 0, b""]
        selector.register(sock, selectors.EVENT_WRITE)
    deadline = began + timeout_s
    while pending and time.monotonic() < deadline:
        for key, events in selector.select(timeout=0.5):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            state = pending[sock]
            try:
                if events & selectors.EVENT_WRITE and state[2] < len(state[1]):
                    state[2] += sock.send(state[1][state[2] :])
                    if state[2] >= len(state[1]):
                        selector.modify(sock, selectors.EVENT_READ)
                    continue
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                state[3] += chunk
                continue
            _finish_burst(result, state, began)
            selector.unregister(sock)
            sock.close()
            del pending[sock]
    for sock, state in pending.items():  # no answer in time
        result.statuses[state[0]] = 0
        sock.close()
    selector.close()
    return result


def _finish_burst(result: BurstResult, state: list, began: float) -> None:
    response: bytes = state[3]
    status = 0
    if response.startswith(b"HTTP/1.1 ") and b"\r\n\r\n" in response:
        status = int(response[9:12])
        head = response.split(b"\r\n\r\n", 1)[0]
        if status == 503 and b"\r\nRetry-After: " in head:
            result.retry_after += 1
    result.statuses[state[0]] = status
    if status:
        result.last_answer_s = max(result.last_answer_s, time.monotonic() - began)


# --- /healthz flood ---------------------------------------------------------------------------


def prefill(inbox: Path, count: int) -> None:
    """Put ``count`` stored events into a new inbox quickly (one transaction)."""
    Inbox(inbox).close()  # the schema and the inbox id
    template = make_bodies(1)[0].decode()
    with contextlib.closing(sqlite3.connect(inbox)) as conn, conn:
        conn.executemany(
            "INSERT INTO webhook_events (event_id, received_at, raw_body, event, created, "
            "connection_id, signature_verified) VALUES (?, ?, ?, 'sync_end', ?, 'c', 1)",
            (
                (f"{i:064x}", "2026-01-01T00:00:00.000000Z", template, "2026-01-01T00:00:00Z")
                for i in range(count)
            ),
        )


def timed_deliveries(url: str, secret: bytes, count: int) -> list[float]:
    """Post ``count`` signed deliveries one after the other; their latencies (failures: inf)."""
    latencies = []
    for body in make_bodies(count):
        began = time.perf_counter()
        try:
            ok = post_delivery(url, body, secret=secret, timeout_s=30.0).ok
        except (OSError, http.client.HTTPException):
            ok = False
        latencies.append(time.perf_counter() - began if ok else float("inf"))
    return latencies


class HealthFlood:
    """``clients`` threads requesting ``/healthz`` back to back until stopped."""

    def __init__(self, base_url: str, clients: int) -> None:
        self.base_url = base_url
        self.requests = 0
        self.failures = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def __enter__(self) -> HealthFlood:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self) -> None:
        parts = urlsplit(self.base_url)
        while not self._stop.is_set():
            ok = False
            try:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                try:
                    connection.request("GET", "/healthz")
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                finally:
                    connection.close()
            except (OSError, http.client.HTTPException):
                pass
            with self._lock:
                self.requests += 1
                self.failures += not ok


# --- kill -9 ------------------------------------------------------------------------------


@dataclass
class KillRound:
    """One round: load, SIGKILL after ``kill_after`` acknowledgements, restart."""

    kill_after: int
    acked: int
    in_doubt: int
    stored_after: int
    lost: int
    unexpected: int
    duplicates: int
    integrity: str


def kill_rounds(
    inbox: Path,
    log_path: Path,
    *,
    rounds: int,
    secret: str,
    senders: int = 6,
    min_acks: int = 200,
    max_acks: int = 600,
    seed: int = 0,
) -> list[KillRound]:
    """Run ``rounds`` rounds of load ended by kill -9, all on the same inbox.

    Each round starts a receiver, posts distinct events from ``senders`` threads,
    kills the receiver with SIGKILL once a random number of events (between
    ``min_acks`` and ``max_acks``) was acknowledged, and checks the inbox after a
    restart: every acknowledged event stored, nothing stored that was not sent,
    no event twice, and ``PRAGMA integrity_check`` ok.
    """
    chooser = random.Random(seed)  # noqa: S311  (picks kill points, not secrets)
    results: list[KillRound] = []
    all_acked: set[str] = set()
    all_in_doubt: set[str] = set()
    for _ in range(rounds):
        kill_after = chooser.randint(min_acks, max_acks)
        receiver = start_receiver(inbox, log_path, secret=secret)
        run = LoadRun(
            receiver.url,
            make_bodies(kill_after * 20),
            senders=senders,
            secret=secret.encode(),
            stop_on_error=True,
        ).start()
        deadline = time.monotonic() + 30
        while run.acked_count < kill_after and time.monotonic() < deadline:
            time.sleep(0.002)
        receiver.process.send_signal(signal.SIGKILL)
        receiver.process.wait(10)
        result = run.wait()
        all_acked.update(result.acked)
        all_in_doubt.update(event_id for event_id, _ in result.errors)
        restarted = start_receiver(inbox, log_path, secret=secret)
        restarted.stop()
        with contextlib.closing(sqlite3.connect(inbox)) as conn:
            integrity = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
            stored = [str(row[0]) for row in conn.execute("SELECT event_id FROM webhook_events")]
        stored_set = set(stored)
        results.append(
            KillRound(
                kill_after=kill_after,
                acked=len(result.acked),
                in_doubt=len(result.errors),
                stored_after=len(stored),
                lost=len(all_acked - stored_set),
                unexpected=len(stored_set - all_acked - all_in_doubt),
                duplicates=len(stored) - len(stored_set),
                integrity=integrity,
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="0 skips the load run")
    parser.add_argument("--senders", default="8", help="e.g. 8, or 1,8 (interleaved)")
    parser.add_argument("--repeat", type=int, default=1, help="load runs per sender count")
    parser.add_argument("--burst", type=int, default=0, help="simultaneous deliveries")
    parser.add_argument("--health-flood", type=int, default=0, help="/healthz clients")
    parser.add_argument("--prefill", type=int, default=0, help="events in the flooded inbox")
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--slow-connections", type=int, default=0, help="slowloris size")
    parser.add_argument("--probes", type=int, default=20, help="health checks and deliveries")
    parser.add_argument(
        "--attack-seconds", type=float, default=60.0, help="probe for at least this long"
    )
    parser.add_argument("--no-reconnect", action="store_true", help="closed slow ones stay closed")
    parser.add_argument("--max-connections", type=int, help="passed to serve")
    parser.add_argument("--kill-rounds", type=int, default=0)
    args = parser.parse_args(argv)
    args.sender_counts = [int(n) for n in str(args.senders).split(",")]
    print("command: python benchmarks/webhook_load.py " + " ".join(argv or sys.argv[1:]))
    secret = "benchmark-secret"  # noqa: S105  (throwaway, loopback only)
    extra = () if args.max_connections is None else ("--max-connections", str(args.max_connections))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        if args.events:
            ok &= _load(Path(tmp), args, secret, extra)
        if args.burst:
            ok &= _burst(Path(tmp), args, secret, extra)
        if args.health_flood:
            ok &= _flood(Path(tmp), args, secret, extra)
        if args.slow_connections:
            ok &= _slowloris(Path(tmp), args, secret, extra)
        if args.kill_rounds:
            ok &= _kill(Path(tmp), args, secret)
    return 0 if ok else 1


def _load(tmp: Path, args: argparse.Namespace, secret: str, extra: tuple[str, ...]) -> bool:
    """Interleaved load runs: every sender count once per repetition, each on a new inbox."""
    runs: dict[int, list[dict[str, float | int]]] = {n: [] for n in args.sender_counts}
    ok = True
    for repetition in range(args.repeat):
        for senders in args.sender_counts:
            summary = _load_once(tmp / f"load-{repetition}-{senders}", args, senders, secret, extra)
            runs[senders].append(summary)
            ok &= summary["ok"] == args.events == summary["stored"]
            print(f"load run {repetition + 1}/{args.repeat}: {json.dumps(summary)}")
    for senders, summaries in runs.items():
        figures = []
        for name, unit in (
            ("events_per_s", "events/s"),
            ("p50_ms", "ms p50"),
            ("p99_ms", "ms p99"),
            ("cpu_ms_per_event", "ms CPU/event"),
        ):
            values = sorted(float(s[name]) for s in summaries)
            median = (
                values[len(values) // 2]
                if len(values) % 2
                else sum(values[len(values) // 2 - 1 : len(values) // 2 + 1]) / 2
            )
            figures.append(f"{median:g} [{values[0]:g}-{values[-1]:g}] {unit}")
        print(
            f"load: {args.events} events, {senders} senders, {len(summaries)} runs, "
            f"median [range]: " + ", ".join(figures)
        )
    return ok


def _load_once(
    tmp: Path, args: argparse.Namespace, senders: int, secret: str, extra: tuple[str, ...]
) -> dict[str, float | int]:
    tmp.mkdir(parents=True, exist_ok=True)
    receiver = start_receiver(
        tmp / "load.sqlite", tmp / "receiver.log", secret=secret, extra_args=extra
    )
    try:
        bodies = make_bodies(args.events)
        cpu_before = receiver.cpu_seconds()
        result = run_load(receiver.url, bodies, senders=senders, secret=secret.encode())
        cpu = receiver.cpu_seconds() - cpu_before
        stored = receiver.health()["events"]
    finally:
        receiver.stop()
    summary = result.summary()
    summary["stored"] = stored
    summary["cpu_ms_per_event"] = round(cpu * 1000 / max(1, len(result.acked)), 3)
    return summary


def _burst(tmp: Path, args: argparse.Namespace, secret: str, extra: tuple[str, ...]) -> bool:
    raise_fd_limit(args.burst + 256)
    receiver = start_receiver(
        tmp / "burst.sqlite", tmp / "burst.log", secret=secret, extra_args=extra
    )
    try:
        result = burst(receiver.url, make_bodies(args.burst), secret=secret.encode())
    finally:
        receiver.stop()
    with contextlib.closing(sqlite3.connect(tmp / "burst.sqlite")) as conn:
        stored = {str(row[0]) for row in conn.execute("SELECT event_id FROM webhook_events")}
    acked = {event_id for event_id, status in result.statuses.items() if status == 200}
    summary = result.summary()
    summary["acked_not_stored"] = len(acked - stored)
    print(
        f"burst: {args.burst} simultaneous deliveries: {summary['answered_200']} stored (200), "
        f"{summary['answered_503']} refused (503, {summary['503_with_retry_after']} with "
        f"Retry-After), {summary['answered_other']} other, {summary['no_answer']} unanswered; "
        f"last answer after {summary['last_answer_s']} s"
    )
    print(json.dumps(summary))
    return summary["no_answer"] == 0 and summary["acked_not_stored"] == 0


def _flood(tmp: Path, args: argparse.Namespace, secret: str, extra: tuple[str, ...]) -> bool:
    inbox = tmp / "flood.sqlite"
    began = time.monotonic()
    prefill(inbox, args.prefill)
    filled_s = time.monotonic() - began
    receiver = start_receiver(inbox, tmp / "flood.log", secret=secret, extra_args=extra)
    try:
        quiet = sorted(timed_deliveries(receiver.url, secret.encode(), args.probes))
        with HealthFlood(receiver.base_url, args.health_flood) as flood:
            end = time.monotonic() + args.flood_seconds
            flooded: list[float] = []
            while time.monotonic() < end or len(flooded) < args.probes:
                flooded += timed_deliveries(receiver.url, secret.encode(), 1)
        flooded.sort()
        health_per_s = flood.requests / max(args.flood_seconds, 1e-9)
    finally:
        receiver.stop()

    def _ms(values: list[float], pct: float) -> str:
        return f"{percentile(values, pct) * 1000:.1f}"

    print(
        f"health flood: inbox of {args.prefill} events (filled in {filled_s:.0f} s); "
        f"signed deliveries alone p50 {_ms(quiet, 50)} ms, max {_ms(quiet, 100)} ms; "
        f"during {args.health_flood} /healthz clients ({health_per_s:.0f} requests/s, "
        f"{flood.failures} failed) p50 {_ms(flooded, 50)} ms, p99 {_ms(flooded, 99)} ms, "
        f"max {_ms(flooded, 100)} ms ({len(flooded)} deliveries)"
    )
    return all(value != float("inf") for value in quiet + flooded)


def _slowloris(tmp: Path, args: argparse.Namespace, secret: str, extra: tuple[str, ...]) -> bool:
    raise_fd_limit(args.slow_connections + 256)
    receiver = start_receiver(
        tmp / "attack.sqlite", tmp / "receiver.log", secret=secret, extra_args=extra
    )
    parts = urlsplit(receiver.url)
    idle_threads = receiver.threads()
    attack = SlowLoris(
        str(parts.hostname),
        int(parts.port or 80),
        args.slow_connections,
        reconnects_per_s=0.0 if args.no_reconnect else 1000.0,
    )
    try:
        attack.start(ready_timeout_s=0)  # probe while the connections are being opened, too
        report = probe_during_attack(
            receiver.url,
            secret.encode(),
            attack,
            probes=args.probes,
            duration_s=args.attack_seconds,
            thread_count=receiver.threads,
        )
        opened_all = attack.opened >= args.slow_connections
    finally:
        attack.stop()
        receiver.stop(timeout_s=60)
    summary = report.summary()
    summary["receiver_threads_idle"] = idle_threads
    summary["attack_seconds"] = args.attack_seconds
    summary["opened_all_during_attack"] = opened_all
    summary["slow_opened_total"] = attack.opened
    summary["connect_failures"] = attack.connect_failures
    print(
        f"slowloris: {args.slow_connections} slow connections "
        f"({'no reconnect' if args.no_reconnect else 'reconnecting'}, "
        f"{args.attack_seconds:g} s), receiver threads "
        f"{idle_threads} idle / {report.max_threads} max; /healthz {summary['healthz_ok']}/"
        f"{summary['healthz_ok'] + summary['healthz_failed']} ok, "
        f"p50 {summary['healthz_p50_ms']} ms, max {summary['healthz_max_ms']} ms; "
        f"signed POST {summary['post_ok']}/{summary['post_ok'] + summary['post_failed']} ok, "
        f"p50 {summary['post_p50_ms']} ms, "
        f"max {summary['post_max_ms']} ms"
    )
    print(json.dumps(summary))
    return not report.health_failures and not report.post_failures


def _kill(tmp: Path, args: argparse.Namespace, secret: str) -> bool:
    results = kill_rounds(
        tmp / "kill.sqlite", tmp / "receiver.log", rounds=args.kill_rounds, secret=secret
    )
    for number, result in enumerate(results, 1):
        print(f"kill -9 round {number}: {json.dumps(vars(result))}")
    lost = sum(result.lost for result in results)
    acked = sum(result.acked for result in results)
    print(
        f"kill -9: {len(results)} rounds, {acked} events acknowledged, {lost} lost, "
        f"{sum(r.duplicates for r in results)} duplicates, "
        f"integrity {'ok' if all(r.integrity == 'ok' for r in results) else 'FAILED'}"
    )
    return lost == 0 and all(r.integrity == "ok" and not r.duplicates for r in results)


if __name__ == "__main__":
    raise SystemExit(main())
