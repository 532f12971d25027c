"""Command line: ``python -m fivetran_sim serve --connections 50 --seed 7 ...``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType

from fivetran_sim.config import TRIAL_RATE_LIMIT_PER_HOUR, SimConfig
from fivetran_sim.simulator import Simulator
from fivetran_sim.timefmt import from_us, parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fivetran_sim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a simulated account until SIGTERM/SIGINT")
    serve.add_argument("--connections", type=int, default=50)
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--api-key", default="key")
    serve.add_argument("--api-secret", default="secret")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--latency-ms", type=int, default=0)
    serve.add_argument("--history-days", type=int, default=21)
    serve.add_argument(
        "--rate-limit-per-hour", type=int, default=20000, help="0 disables the limit"
    )
    serve.add_argument(
        "--trial",
        action="store_true",
        help=f"a trial account: {TRIAL_RATE_LIMIT_PER_HOUR} requests per hour, then 429 "
        "with Retry-After (overrides --rate-limit-per-hour)",
    )
    serve.add_argument("--min-sync-interval-minutes", type=int, default=360)
    serve.add_argument("--now", help="initial clock, ISO 8601 (default: current time)")
    serve.add_argument("--system-key", action="store_true", help="report a system key")
    serve.add_argument("--ready-file", type=Path, help="also write the ready line here")
    return parser


def _config(args: argparse.Namespace) -> SimConfig:
    now: datetime | None = from_us(parse(args.now)) if args.now else None
    return SimConfig(
        connections=args.connections,
        seed=args.seed,
        api_key=args.api_key,
        api_secret=args.api_secret,
        now=now,
        latency_ms=args.latency_ms,
        history_days=args.history_days,
        rate_limit_per_hour=(
            TRIAL_RATE_LIMIT_PER_HOUR if args.trial else args.rate_limit_per_hour or None
        ),
        port=args.port,
        system_key=args.system_key,
        min_sync_interval_minutes=args.min_sync_interval_minutes,
    )


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file + rename so readers never see a partial line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    Path(tmp).replace(path)


def serve(args: argparse.Namespace) -> int:
    """Serve until a termination signal arrives.

    Args:
        args: Parsed ``serve`` arguments.

    Returns:
        Process exit code.
    """
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sim = Simulator(_config(args)).start()
    try:
        line = json.dumps({"url": sim.url, "admin": sim.admin_url})
        if args.ready_file is not None:
            _write_atomically(args.ready_file, line + "\n")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse enforces the sub-command


if __name__ == "__main__":
    sys.exit(main())
