"""Benchmark the tap against the simulator and a plain-script peer (benchmarks/peer_plain.py).

    .venv/bin/python benchmarks/bench_tap.py            # the full table (about 15 minutes)
    .venv/bin/python benchmarks/bench_tap.py --smoke    # under a minute, for CI: the checks

Every run starts at the same fixed instant (the simulator's ``now`` and the tap's clock,
``start_date`` one window earlier), so runs and machines compare. The tap runs as a
subprocess with every stream selected; its output goes to a file and is read afterwards.
CPU is user + system time of the process (``wait4``), not wall time. The command line
and the load average are printed, so a quoted figure can be reproduced and its
conditions read. Printed:

0. start-up: CPU of ``--about`` (median and range of a few runs);
1. CPU, tap against peer, in interleaved pairs (tap, peer, tap, peer...: load from other
   work falls on both alike) at 0 and 50 ms per request, on two shapes of data: the
   simulator's defaults and a skewed account (few connections, a sync every 10 minutes:
   sync history dominates); per shape and latency the median and range of each side
   and of the per-pair ratio, records/s and CPU per record;
2. first runs at several sizes: requests (tap, peer, the minimum computed from the
   simulator's data), wall time against the latency bound, CPU, peak RSS;
3. STATE volume of a first and an unchanged run with every stream: STATE bytes against
   the final state, STATE messages, repeats;
4. requests and CPU of a first and an incremental run (one hour later, default settings)
   at 1,000 and 10,000 connections; the incremental run must not wait for the budget;
5. concurrency 1 against 8 at one size: speed-up; any difference in the records fails.

Checks that fail the benchmark (exit 1): the tap exits non-zero; requests differ from the
minimum; records differ between concurrency levels; the tap's records differ from the
peer's in count (any stream) or content (the per-connection streams); STATE bytes exceed
three times the final state, or a STATE repeats the previous one; an incremental run
waits for the budget or makes no fewer requests than the first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
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


#: Shapes of data: the simulator's defaults, and a skewed account where sync history
#: dominates (a sync every 10 minutes on every connection: ~860 per connection and window).
SHAPES: dict[str, dict[str, int]] = {"default": {}, "skewed": {"min_sync_interval_minutes": 10}}


def simulator(
    connections: int, latency_ms: float, seed: int = 1, shape: str = "default"
) -> Simulator:
    return Simulator(
        SimConfig(
            connections=connections,
            seed=seed,
            api_key=KEY,
            api_secret=SECRET,
            latency_ms=int(latency_ms),
            rate_limit_per_hour=None,
            now=NOW,
            **SHAPES[shape],
        )
    )


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def section_sizes(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    latency = args.latency_ms / 1000
    print(f"\n2. first runs (one each: requests and memory; CPU is compared in 1.), latency "
          f"{args.latency_ms:.0f} ms per request, concurrency "
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
        if tap.requests != minimum:
            failures.append(f"{size}: {tap.requests} requests, minimum {minimum}")
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
    print(f"\n4. requests and CPU of a first and an incremental run (an hour later, default "
          f"settings: max_requests_per_hour 10000, re-check and schema refresh 24 h), "
          f"zero latency; "
          f"load average before: {load()}")  # fmt: skip
    print(f"{'connections':>11} {'first':>7} {'incremental':>11} {'history':>7} "
          f"{'schemas':>7} {'budget waits':>12} {'CPU first':>9} {'CPU incr.':>9}  "
          f"plan of the first run")  # fmt: skip
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
              f"{schemas:>7} {waits:>12} {first.cpu_s:>9.2f} {second.cpu_s:>9.2f}  "
              f"{fits}")  # fmt: skip
        check_run(f"first run, {size}", first, failures)
        check_run(f"incremental run, {size}", second, failures)
        if waits:
            failures.append(f"{size}: the incremental run waited for the budget")
        if second.requests >= first.requests:
            failures.append(f"{size}: the incremental run made no fewer requests")


def section_speedup(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    print(f"\n5. concurrency 1 vs {args.concurrency}; load average before: {load()}")
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


def section_startup(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    print(f"\n0. start-up: CPU seconds of `tap-fivetran-meta --about` in {args.startup_runs} "
          f"runs; load average before: {load()}")  # fmt: skip
    command = [sys.executable, "-m", "tap_fivetran_meta", "--about"]
    cpus = []
    for _ in range(args.startup_runs):
        _, cpu, code = _run(command, environment(), workdir / "about.txt", workdir / "about.log")
        if code != 0:
            failures.append(f"--about exited {code}")
        cpus.append(cpu)
    print(f"--about CPU: {spread(cpus)} s")


def spread(values: list[float]) -> str:
    """``median [min-max]`` of a few measurements."""
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def section_pairs(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    print(f"\n1. CPU seconds (user + sys), tap and peer in {args.pairs} interleaved pairs, "
          f"concurrency {args.concurrency}; median [range]")  # fmt: skip
    print(f"{'shape':>8} {'conn.':>6} {'ms':>3} {'tap CPU':>17} {'peer CPU':>17} "
          f"{'tap/peer':>17} {'records':>8} {'tap rec/s CPU':>13} {'us/rec tap':>10} "
          f"{'peer':>5}  load before")  # fmt: skip
    for shape, size in args.pair_shapes:
        for latency in args.pair_latencies:
            before = load()
            taps: list[float] = []
            peers: list[float] = []
            with simulator(size, latency, shape=shape) as sim:
                for _ in range(args.pairs):
                    tap = run_tap(sim, args.concurrency, workdir)
                    peer = run_peer(sim, args.concurrency, workdir)
                    check_run(f"{shape} {size} at {latency} ms", tap, failures)
                    compare_with_peer(size, tap, peer, failures)
                    taps.append(tap.cpu_s)
                    peers.append(peer.cpu_s)
            ratios = [ratio(t, p) for t, p in zip(taps, peers, strict=True)]
            records = tap.total_records
            median_tap = statistics.median(taps)
            print(
                f"{shape:>8} {size:>6} {latency:>3.0f} {spread(taps):>17} {spread(peers):>17} "
                f"{spread(ratios):>17} {records:>8} {ratio(records, median_tap):>13.0f} "
                f"{ratio(median_tap, records) * 1e6:>10.0f} "
                f"{ratio(statistics.median(peers), records) * 1e6:>5.0f}  {before}"
            )


def state_volume(path: Path) -> tuple[int, int, int, int, int]:
    """STATE in a run's output: (count, bytes, bytes of the last, repeats, all output bytes)."""
    count = total = last = repeats = 0
    previous = None
    with path.open("rb") as handle:
        for line in handle:
            if not line.startswith(b'{"type":"STATE"'):
                continue
            bookmarks = json.loads(line)["value"].get("bookmarks")
            repeats += bookmarks == previous
            previous = bookmarks
            count, total, last = count + 1, total + len(line), len(line)
    return count, total, last, repeats, path.stat().st_size


def section_state_volume(args: argparse.Namespace, workdir: Path, failures: list[str]) -> None:
    size = args.state_size
    print(f"\n3. STATE volume, every stream, {size} connections: a first run, then an unchanged "
          f"run a minute later; load average before: {load()}")  # fmt: skip
    print(f"{'run':>9} {'STATEs':>6} {'STATE bytes':>11} {'final state':>11} {'ratio':>5} "
          f"{'repeats':>7} {'all output':>10}")  # fmt: skip
    with simulator(size, 0, seed=3) as sim:
        first = run_tap(sim, args.concurrency, workdir, lift_budget=True)
        volumes = [("first", state_volume(workdir / "tap.jsonl"))]
        check_run("STATE volume, first run", first, failures)
        second = run_tap(
            sim, args.concurrency, workdir, now=NOW + timedelta(minutes=1), state=first.state
        )
        check_run("STATE volume, unchanged run", second, failures)
        volumes.append(("unchanged", state_volume(workdir / "tap.jsonl")))
        for name, (count, total, last, repeats, output) in volumes:
            print(f"{name:>9} {count:>6} {total:>11} {last:>11} {ratio(total, last):>5.2f} "
                  f"{repeats:>7} {output:>10}")  # fmt: skip
            if total > 3 * last:
                failures.append(f"{name} run: STATE bytes {total} > 3 x final state {last}")
            if repeats:
                failures.append(f"{name} run: {repeats} STATE(s) repeat the previous bookmarks")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--pair-sizes", default="default:1000,skewed:100")
    parser.add_argument("--pair-latencies", default="0,50")
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--state-size", type=int, default=2000)
    parser.add_argument("--incremental-sizes", default="1000,10000")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--speedup-size", type=int, default=200)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes for CI: the checks, in seconds"
    )
    args = parser.parse_args()
    if args.smoke:
        args.pairs, args.pair_sizes, args.pair_latencies = 1, "default:30,skewed:5", "0"
        args.startup_runs = 1
        args.sizes, args.incremental_sizes, args.latency_ms = "20,40", "40", 5
        args.speedup_size, args.state_size = 20, 60
    args.pair_shapes = [
        (shape, int(size))
        for shape, size in (item.split(":") for item in args.pair_sizes.split(","))
    ]
    args.pair_latencies = [float(v) for v in args.pair_latencies.split(",")]
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.incremental_sizes = [int(s) for s in args.incremental_sizes.split(",") if s]
    failures: list[str] = []
    command = " ".join([".venv/bin/python", "benchmarks/bench_tap.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(f"fixed clock {NOW.isoformat()}, start_date {START.isoformat()}; "
          f"{os.cpu_count()} CPUs, load average {load()}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        section_startup(args, workdir, failures)
        section_pairs(args, workdir, failures)
        section_sizes(args, workdir, failures)
        section_state_volume(args, workdir, failures)
        if args.incremental_sizes:
            section_incremental(args, workdir, failures)
        section_speedup(args, workdir, failures)
    print(f"\nload average after: {load()}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
