"""Benchmark the tap against the simulator: requests, wall time, speed-up, memory, CPU.

    .venv/bin/python benchmarks/bench_tap.py                       # full table (minutes)
    .venv/bin/python benchmarks/bench_tap.py --sizes 30 --latency-ms 5 --speedup-size 30 --smoke

For each account size the tap runs as a subprocess (all streams selected, output counted
and discarded) against the simulator with a fixed per-request latency. Printed per size:
requests made vs the minimum computed from the simulator's data, wall time vs the lower
bound (requests x latency / concurrency), peak RSS. Then the speed-up of concurrency N over
1 at one size, and records/s with zero latency (CPU cost). Numbers are ratios measured in
one run on this machine: quote them as such.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fivetran_sim import SimConfig, Simulator  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret"
PAGE = 1000


@dataclass
class RunResult:
    """One tap run."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    records: Counter[str]
    requests: int
    by_endpoint: dict[str, int]
    exit_code: int


def run_tap(sim: Simulator, concurrency: int, workdir: Path) -> RunResult:
    """Run the tap once as a subprocess; count its records; read its rusage."""
    config = {
        "api_url": sim.url,
        "api_key": KEY,
        "api_secret": SECRET,
        "max_concurrency": concurrency,
        "max_requests_per_hour": 20000,
    }
    path = workdir / f"config-{concurrency}.json"
    path.write_text(json.dumps(config))
    sim.reset_counts()
    records: Counter[str] = Counter()
    peak_file = workdir / f"peak-{concurrency}.txt"
    env = {**os.environ, "LOGLEVEL": "WARNING", "PEAK_RSS_FILE": str(peak_file)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "peak_rss_tap.py"), "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(b'{"type":"RECORD"') or b'"type": "RECORD"' in line[:40]:
            records[json.loads(line)["stream"]] += 1
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return RunResult(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=int(peak_file.read_text()) / 1024,
        records=records,
        requests=sim.total_requests(),
        by_endpoint=sim.request_counts(),
        exit_code=proc.returncode,
    )


def pages(n: int) -> int:
    """Requests to list n items at the maximum page size (an empty list still costs one)."""
    return max(1, math.ceil(n / PAGE))


def minimum_requests(sim: Simulator) -> int:
    """The fewest requests that can read everything the tap emits, from the simulator's data."""
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--speedup-size", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI: checks, no targets")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    latency = args.latency_ms / 1000
    failures: list[str] = []
    rss: dict[int, float] = {}
    print(f"latency {args.latency_ms:.0f} ms per request, concurrency {args.concurrency}")
    print(
        f"{'connections':>11} {'requests':>9} {'minimum':>8} {'wall s':>8} {'bound s':>8} "
        f"{'wall/bound':>10} {'peak RSS MB':>11} {'records':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for size in sizes:
            cfg = SimConfig(
                connections=size,
                seed=1,
                api_key=KEY,
                api_secret=SECRET,
                latency_ms=int(args.latency_ms),
                rate_limit_per_hour=None,
            )
            with Simulator(cfg) as sim:
                result = run_tap(sim, args.concurrency, workdir)
                minimum = minimum_requests(sim)
            bound = result.requests * latency / args.concurrency
            rss[size] = result.peak_rss_mb
            print(
                f"{size:>11} {result.requests:>9} {minimum:>8} {result.wall_s:>8.1f} "
                f"{bound:>8.1f} {result.wall_s / bound if bound else 0:>10.2f} "
                f"{result.peak_rss_mb:>11.0f} {sum(result.records.values()):>9}"
            )
            if result.exit_code != 0:
                failures.append(f"tap exited {result.exit_code} at {size} connections")
            if result.requests != minimum:
                failures.append(f"{size}: {result.requests} requests, minimum {minimum}")
        if len(sizes) > 1:
            ratio = rss[sizes[-1]] / rss[sizes[0]]
            print(f"peak RSS {sizes[-1]} vs {sizes[0]} connections: {ratio:.2f}x")

        cfg = SimConfig(
            connections=args.speedup_size,
            seed=2,
            api_key=KEY,
            api_secret=SECRET,
            latency_ms=int(args.latency_ms),
            rate_limit_per_hour=None,
        )
        with Simulator(cfg) as sim:
            one = run_tap(sim, 1, workdir)
            many = run_tap(sim, args.concurrency, workdir)
        print(
            f"speed-up at {args.speedup_size} connections: concurrency 1 {one.wall_s:.1f} s, "
            f"{args.concurrency} {many.wall_s:.1f} s -> {one.wall_s / many.wall_s:.1f}x"
        )
        if one.records != many.records:
            failures.append("record counts differ between concurrency 1 and N")

        cfg = SimConfig(
            connections=sizes[-1], seed=1, api_key=KEY, api_secret=SECRET, rate_limit_per_hour=None
        )
        with Simulator(cfg) as sim:
            fast = run_tap(sim, args.concurrency, workdir)
        stream, count = fast.records.most_common(1)[0]
        total = sum(fast.records.values())
        print(
            f"zero latency, {sizes[-1]} connections: {total} records in {fast.wall_s:.1f} s "
            f"({total / fast.wall_s:.0f} records/s, tap CPU {fast.cpu_s:.1f} s); "
            f"largest stream {stream}: {count} records"
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
