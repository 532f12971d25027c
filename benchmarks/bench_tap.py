"""Benchmark the tap against the simulator and a plain-script peer (benchmarks/peer_plain.py).

    .venv/bin/python benchmarks/bench_tap.py            # the full table (about 10 minutes)
    .venv/bin/python benchmarks/bench_tap.py --smoke    # seconds, for CI: the checks only

Every run starts at the same fixed instant (the simulator's ``now`` and the tap's clock,
``start_date`` one window earlier), so runs and machines compare. The tap runs as a
subprocess with every stream selected; its output goes to a file and is read afterwards.
Printed:

1. per account size, at a fixed latency per request and concurrency 8: requests (tap, peer,
   the minimum computed from the simulator's data), wall time against the lower bound
   (requests x latency / concurrency), CPU seconds, tap/peer ratios, peak RSS;
2. requests of a first and an incremental run (one hour later, default settings) at
   1,000 and 10,000 connections; the incremental run must not wait for the budget;
3. concurrency 1 against 8 at one size: speed-up; any difference in the records fails;
4. zero latency: records per second and CPU per record, tap against peer.

Checks that fail the benchmark (exit 1): the tap exits non-zero; requests differ from the
minimum; records differ between concurrency levels; the tap's records differ from the
peer's in count (any stream) or content (the per-connection streams); an incremental run
waits for the budget or makes no fewer requests than the first.
Numbers are from one run on a shared machine: quote ratios, and CPU seconds and request
counts, which do not depend on the load, rather than wall times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fivetran_sim import SimConfig, Simulator  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret"
PAGE = 1000
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
START = NOW - timedelta(days=6)  # one window of sync history per connection
#: Streams whose rows the peer builds with the tap's own functions: compared in full.
COMPARED = (
    "sync_history",
    "connection_status_history",
    "connection_status_issues",
    "connection_schema_settings",
    "connection_schemas",
    "connection_tables",
    "connection_columns",
    "table_lineage",
)


@dataclass
class RunResult:
    """One run of the tap or the peer."""

    wall_s: float
    cpu_s: float
    requests: int
    exit_code: int
    records: Counter[str] = field(default_factory=Counter)
    digests: dict[str, str] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    state: dict = field(default_factory=dict)
    log: str = ""

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


def digest_output(path: Path, result: RunResult, *, singer: bool) -> None:
    """Count records per stream and hash each stream's records (order-independent)."""
    rows: dict[str, list[str]] = {}
    with path.open("rb") as handle:
        for line in handle:
            message = json.loads(line)
            if singer and message["type"] == "STATE":
                result.state = message["value"]
            if singer and message["type"] != "RECORD":
                continue
            stream = message["stream"]
            result.records[stream] += 1
            rows.setdefault(stream, []).append(json.dumps(message["record"], sort_keys=True))
    for stream, lines in rows.items():
        result.digests[stream] = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def environment(**extra: str) -> dict[str, str]:
    """This process's environment for a subprocess, without ``PYTHONUNBUFFERED``.

    Some shells and containers set it; a plain script would then write every line with
    its own system call. Both the tap and the peer run with Python's default buffering.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {**env, **extra}


def _run(command: list[str], env: dict[str, str], out: Path, err: Path) -> tuple[float, float, int]:
    started = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    return (
        time.perf_counter() - started,
        usage.ru_utime + usage.ru_stime,
        os.waitstatus_to_exitcode(status),
    )


def run_tap(
    sim: Simulator,
    concurrency: int,
    workdir: Path,
    *,
    now: datetime = NOW,
    state: dict | None = None,
    max_per_hour: int = 20000,
    lift_budget: bool = False,
    log_level: str = "WARNING",
) -> RunResult:
    """Run the tap once as a subprocess (clock frozen at ``now``).

    At ``WARNING`` by default, as before: the SDK logs several INFO lines per connection
    and child stream (issue 13 moves them to DEBUG), which would dominate CPU time.
    """
    config = {
        "api_url": sim.url,
        "api_key": KEY,
        "api_secret": SECRET,
        "start_date": START.isoformat(),
        "max_concurrency": concurrency,
        "max_requests_per_hour": max_per_hour,
    }
    config_path, state_path = workdir / "config.json", workdir / "state.json"
    config_path.write_text(json.dumps(config))
    command = [sys.executable, str(ROOT / "benchmarks" / "peak_rss_tap.py"), "--config"]
    command.append(str(config_path))
    if state is not None:
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    peak_file, out, err = workdir / "peak.txt", workdir / "tap.jsonl", workdir / "tap.log"
    env = environment(
        LOGLEVEL=log_level,
        PEAK_RSS_FILE=str(peak_file),
        FROZEN_NOW=now.isoformat(),
        BENCH_LIFT_BUDGET="1" if lift_budget else "0",
    )
    sim.reset_counts()
    wall, cpu, code = _run(command, env, out, err)
    result = RunResult(wall, cpu, sim.total_requests(), code)
    result.peak_rss_mb = int(peak_file.read_text()) / 1024
    result.log = err.read_text(errors="replace")
    digest_output(out, result, singer=True)
    return result


def run_peer(sim: Simulator, concurrency: int, workdir: Path) -> RunResult:
    """Run the plain-script peer once as a subprocess."""
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "peer_plain.py"),
        "--api-url", sim.url, "--key", KEY, "--secret", SECRET,
        "--now", NOW.isoformat(), "--start", START.isoformat(),
        "--concurrency", str(concurrency),
    ]  # fmt: skip
    out, err = workdir / "peer.jsonl", workdir / "peer.log"
    sim.reset_counts()
    wall, cpu, code = _run(command, environment(), out, err)
    result = RunResult(wall, cpu, sim.total_requests(), code)
    digest_output(out, result, singer=False)
    return result


def pages(n: int) -> int:
    """Requests to list n items at the maximum page size (an empty list still costs one)."""
    return max(1, math.ceil(n / PAGE))


def minimum_requests(sim: Simulator) -> int:
    """The fewest requests that can read everything a first run emits (simulator's data)."""
    data = sim.dataset
    account_lists = [
        data.groups,
        data.destinations,
        data.connections,
        data.connector_types,
        data.users,
        data.teams,
        data.roles,
        data.webhooks,
        data.transformations,
        data.projects,
        data.infra.agents,
        data.infra.proxies,
        data.infra.private_links,
        data.infra.system_keys,
        data.infra.log_services,
    ]
    total = 1 + sum(pages(len(items)) for items in account_lists)  # + account/info
    total += len(data.destinations)  # one detail each (config)
    total += len(data.projects)  # one detail each (status, errors, setup tests)
    for user_id in data.users:
        total += pages(len(data.user_groups.get(user_id, ()))) + pages(
            len(data.user_connections.get(user_id, ()))
        )
    for team_id in data.teams:
        total += sum(
            pages(len(table.get(team_id, ())))
            for table in (data.team_users, data.team_groups, data.team_connections)
        )
    total += len(data.infra.log_services)  # one detail each (config)
    for proxy_id in data.infra.proxies:  # the connections each proxy agent serves
        served = [c for c in data.connections.values() if c.item.get("proxy_agent_id") == proxy_id]
        total += pages(len(served))
    for connection_id in data.connections:
        total += 1  # schema config (a 404 for a connection without one still costs one)
        total += pages(len(sim.sync_history(connection_id)))  # one window, paginated
    return total


def plan_pages(sim: Simulator) -> int:
    """The tap's plan lists the connections once more (progress.py)."""
    return pages(len(sim.dataset.connections))


def simulator(connections: int, latency_ms: float, seed: int = 1) -> Simulator:
    return Simulator(
        SimConfig(
            connections=connections,
            seed=seed,
            api_key=KEY,
            api_secret=SECRET,
            latency_ms=int(latency_ms),
            rate_limit_per_hour=None,
            now=NOW,
        )
    )


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def section_sizes(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    latency = args.latency_ms / 1000
    print(f"\n1. first run, latency {args.latency_ms:.0f} ms per request, concurrency "
          f"{args.concurrency}; load average before: {load()}")  # fmt: skip
    print(
        f"{'connections':>11} {'requests':>8} {'peer':>6} {'minimum':>7} {'tap s':>6} "
        f"{'peer s':>6} {'bound s':>7} {'tap/bound':>9} {'tap/peer':>8} {'tap CPU':>7} "
        f"{'peer CPU':>8} {'CPU ratio':>9} {'RSS MB':>6} {'records':>8}"
    )
    rss: dict[int, float] = {}
    for size in args.sizes:
        with simulator(size, args.latency_ms) as sim:
            tap = run_tap(sim, args.concurrency, workdir)
            peer = run_peer(sim, args.concurrency, workdir)
            minimum = minimum_requests(sim)
            extra = plan_pages(sim)
        bound = tap.requests * latency / args.concurrency
        rss[size] = tap.peak_rss_mb
        print(
            f"{size:>11} {tap.requests:>8} {peer.requests:>6} {minimum:>7} {tap.wall_s:>6.1f} "
            f"{peer.wall_s:>6.1f} {bound:>7.1f} {ratio(tap.wall_s, bound):>9.2f} "
            f"{ratio(tap.wall_s, peer.wall_s):>8.2f} {tap.cpu_s:>7.1f} {peer.cpu_s:>8.1f} "
            f"{ratio(tap.cpu_s, peer.cpu_s):>9.2f} {tap.peak_rss_mb:>6.0f} {tap.total_records:>8}"
        )
        check_run(f"{size} connections", tap, failures)
        if peer.exit_code != 0:
            failures.append(f"peer exited {peer.exit_code} at {size} connections")
        if tap.requests != minimum + extra:
            failures.append(f"{size}: {tap.requests} requests, minimum {minimum} + plan {extra}")
        if peer.requests != minimum:
            failures.append(f"{size}: the peer made {peer.requests} requests, minimum {minimum}")
        compare_with_peer(size, tap, peer, failures)
    if len(args.sizes) > 1:
        first, last = args.sizes[0], args.sizes[-1]
        print(f"peak RSS {last} vs {first} connections: {ratio(rss[last], rss[first]):.2f}x "
              f"({rss[last]:.0f} MB vs {rss[first]:.0f} MB)")  # fmt: skip


def check_run(what: str, result: RunResult, failures: list[str]) -> None:
    if result.exit_code != 0:
        failures.append(f"tap exited {result.exit_code} ({what}): {result.log[-500:]}")


def compare_with_peer(size: int, tap: RunResult, peer: RunResult, failures: list[str]) -> None:
    for stream in sorted(set(tap.records) | set(peer.records)):
        if tap.records[stream] != peer.records[stream]:
            failures.append(
                f"{size}: {stream}: tap {tap.records[stream]} records, peer {peer.records[stream]}"
            )
        elif stream in COMPARED and tap.digests.get(stream) != peer.digests.get(stream):
            failures.append(f"{size}: {stream}: tap and peer records differ in content")


def section_incremental(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    print(f"\n2. requests of a first and an incremental run (an hour later, default settings: "
          f"max_requests_per_hour 10000, re-check and schema refresh 24 h), zero latency; "
          f"load average before: {load()}")  # fmt: skip
    print(f"{'connections':>11} {'first':>7} {'incremental':>11} {'history':>7} "
          f"{'schemas':>7} {'budget waits':>12}  plan of the first run")  # fmt: skip
    for size in args.incremental_sizes:
        with simulator(size, 0, seed=4) as sim:
            first = run_tap(sim, args.concurrency, workdir, lift_budget=True, log_level="INFO")
            sim.advance(60)
            later = NOW + timedelta(minutes=60)
            second = run_tap(
                sim,
                args.concurrency,
                workdir,
                now=later,
                state=first.state,
                max_per_hour=10000,
                log_level="INFO",
            )
            counts = sim.request_counts()
        history = counts.get("GET /v1/connections/{id}/sync-history", 0)
        schemas = counts.get("GET /v1/connections/{id}/schemas", 0)
        waits = second.log.count("Request budget: waiting")
        plan = next((line for line in first.log.splitlines() if "Plan:" in line), "")
        fits = "does not fit" if "does not fit" in plan else "fits"
        print(f"{size:>11} {first.requests:>7} {second.requests:>11} {history:>7} "
              f"{schemas:>7} {waits:>12}  {fits}")  # fmt: skip
        check_run(f"first run, {size}", first, failures)
        check_run(f"incremental run, {size}", second, failures)
        if waits:
            failures.append(f"{size}: the incremental run waited for the budget")
        if second.requests >= first.requests:
            failures.append(f"{size}: the incremental run made no fewer requests")


def section_speedup(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    print(f"\n3. concurrency 1 vs {args.concurrency}; load average before: {load()}")
    with simulator(args.speedup_size, args.latency_ms, seed=2) as sim:
        one = run_tap(sim, 1, workdir)
        many = run_tap(sim, args.concurrency, workdir)
    print(
        f"speed-up at {args.speedup_size} connections: concurrency 1 {one.wall_s:.1f} s, "
        f"{args.concurrency} {many.wall_s:.1f} s -> {ratio(one.wall_s, many.wall_s):.1f}x; "
        f"records identical: {one.digests == many.digests}"
    )
    check_run("concurrency 1", one, failures)
    check_run(f"concurrency {args.concurrency}", many, failures)
    if one.digests != many.digests or one.records != many.records:
        differing = sorted(s for s in one.digests if one.digests[s] != many.digests.get(s))
        failures.append(f"records differ between concurrency 1 and N: {differing}")


def section_zero_latency(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    size = args.sizes[-1]
    print(f"\n4. zero latency, {size} connections; load average before: {load()}")
    with simulator(size, 0) as sim:
        tap = run_tap(sim, args.concurrency, workdir)
        peer = run_peer(sim, args.concurrency, workdir)
    check_run("zero latency", tap, failures)
    per_tap = ratio(tap.cpu_s, tap.total_records) * 1e6
    per_peer = ratio(peer.cpu_s, peer.total_records) * 1e6
    stream, count = tap.records.most_common(1)[0]
    print(
        f"tap:  {tap.total_records} records in {tap.wall_s:.1f} s "
        f"({ratio(tap.total_records, tap.wall_s):.0f} records/s), CPU {tap.cpu_s:.1f} s "
        f"({per_tap:.0f} us per record)\n"
        f"peer: {peer.total_records} records in {peer.wall_s:.1f} s "
        f"({ratio(peer.total_records, peer.wall_s):.0f} records/s), CPU {peer.cpu_s:.1f} s "
        f"({per_peer:.0f} us per record)\n"
        f"CPU per record tap/peer: {ratio(per_tap, per_peer):.2f}; wall tap/peer: "
        f"{ratio(tap.wall_s, peer.wall_s):.2f}; largest stream {stream}: {count} records"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--incremental-sizes", default="1000,10000")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--speedup-size", type=int, default=200)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes for CI: the checks, in seconds"
    )
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.incremental_sizes, args.latency_ms = "20,40", "40", 5
        args.speedup_size = 20
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.incremental_sizes = [int(s) for s in args.incremental_sizes.split(",") if s]
    failures: list[str] = []
    print(f"fixed clock {NOW.isoformat()}, start_date {START.isoformat()}; "
          f"{os.cpu_count()} CPUs, load average {load()}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        section_sizes(args, workdir, failures)
        if args.incremental_sizes:
            section_incremental(args, workdir, failures)
        section_speedup(args, workdir, failures)
        if not args.smoke:
            section_zero_latency(args, workdir, failures)
    print(f"\nload average after: {load()}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
