"""Load benchmark for the webhook receiver.

Starts ``tap-fivetran-meta-webhooks serve`` in a subprocess on loopback, posts N
signed deliveries from S concurrent sender threads, checks they were all stored,
and prints throughput and latency.

    python benchmarks/webhook_load.py --events 2000 --senders 8

The tests in ``tests/webhooks/test_webhook_load.py`` use the same helpers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tap_fivetran_meta.webhooks.events import event_id_for  # noqa: E402
from tap_fivetran_meta.webhooks.sender import (  # noqa: E402
    encode_payload,
    post_delivery,
    sample_payload,
)

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
        with urllib.request.urlopen(self.base_url + "/healthz", timeout=10) as response:  # noqa: S310
            return json.load(response)

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
    """Start a receiver on a free loopback port and wait until it listens."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop(SECRET_ENV, None)
    if secret is not None:
        env[SECRET_ENV] = secret
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args(argv)
    secret = "benchmark-secret"  # noqa: S105  (throwaway, loopback only)
    with tempfile.TemporaryDirectory() as tmp:
        receiver = start_receiver(
            Path(tmp) / "inbox.sqlite", Path(tmp) / "receiver.log", secret=secret
        )
        try:
            bodies = make_bodies(args.events)
            result = run_load(receiver.url, bodies, senders=args.senders, secret=secret.encode())
            stored = receiver.health()["events"]
        finally:
            receiver.stop()
    summary = result.summary()
    summary["stored"] = stored
    print(
        f"{summary['ok']}/{args.events} events acknowledged, {stored} stored, "
        f"{args.senders} senders: {summary['events_per_s']} events/s, "
        f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms"
    )
    print(json.dumps(summary))
    return 0 if summary["ok"] == args.events == stored else 1


if __name__ == "__main__":
    raise SystemExit(main())
