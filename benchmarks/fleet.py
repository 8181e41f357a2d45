"""Time a fleet's posture jobs on 1, 2 and 4 worker processes against the lower bound and
against `collect` run for each tenant one after another; prints one JSON line per run and
a summary.

    python benchmarks/fleet.py                       # 200 small tenants, 1, 2 and 4 workers
    python benchmarks/fleet.py --tenants 40 --workers 2 --sequential 5   # quicker

Everything runs as the operator runs it, on loopback: `mailwarden emulator --synthetic small
--tenants N --throttle` (Graph after 50 ms, Exchange after 150 ms, each tenant throttled on
its own: a Graph token bucket and Exchange's limit of 3 requests in flight), the fleet in a
fresh PostgreSQL database (`--postgres`, an account that may create databases), its queue
in a Redis database that is emptied first (`--redis`), `mailwarden worker` processes (one
Dramatiq process each, `--threads` jobs at once) and `fleet run --now --kind posture`. A
run's time is from the enqueue to the last job finished; each tenant is built in the
emulator before it starts, so building tenants is not counted.

The workers' rate budget is the emulator's Graph rate and burst (`MAILWARDEN_GRAPH_RATE`,
`MAILWARDEN_GRAPH_BURST` from `THROTTLE_GRAPH_RATE`, `THROTTLE_GRAPH_BURST`), shared by
every worker through Redis, so that no tenant is throttled: each run's line says which
were (`exceeded`).

The lower bound is the larger of
- the slowest tenant's own bound, the larger of its two services' (read in parallel):
  Exchange's necessary requests (the emulator's count) times its latency over the
  concurrency the tenant allows it (3); Graph's the larger of its necessary requests
  times its latency over its concurrency (16), and its rate bound: what the tenant's
  Graph bucket was charged beyond the burst, over the rate, (requests - batches +
  subrequests - burst) / rate, from the emulator's counts of the tenant
  (`/_emulator/tenants`, `stats.services.graph`: `requests` counts a `$batch` as one,
  `batches` the `$batch` requests, `subrequests` their parts, and the bucket is charged
  for every request but a batch and for every part);
- the fleet's bound: the necessary request-seconds of every tenant, per service, over
  what the fleet may have in flight at once (jobs at once, min(workers x threads,
  tenants), times the tenant's concurrency for the service). Each tenant has a bucket
  of its own, so the rate bounds no more than its own tenant.
The sequential baseline is `mailwarden collect` (collection only: no assessment, no
detection, nothing stored) for the first `--sequential` tenants one after another, as
processes; its total for the fleet is its mean per tenant times the tenants.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mailwarden.cli.emulator import THROTTLE_GRAPH_BURST, THROTTLE_GRAPH_RATE
from mailwarden.emulator import DEFAULT_CLIENT_SECRET
from mailwarden.fleet.broker import redis_broker
from mailwarden.fleet.queue import enqueue_now
from mailwarden.model.fleet import Credential, FleetTenant, JobKind
from mailwarden.store.fleet import FleetStore
from mailwarden.synth import tenant_identity

SECRET_VAR = "FLEET_BENCH_SECRET"
GRAPH_CONCURRENCY, EXO_CONCURRENCY = 16, 3


def mailwarden(*args: str) -> list[str]:
    return [sys.executable, "-m", "mailwarden", *args]


def tree_cpu(root: int) -> float:
    """CPU seconds (user and system) of a process and its descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


@contextmanager
def emulator(args: argparse.Namespace, folder: Path) -> Iterator[tuple[str, Path, int]]:
    ca = folder / "ca.pem"
    with subprocess.Popen(
        mailwarden("emulator", "--synthetic", "small", "--seed", str(args.seed), "--tenants",
                   str(args.tenants), "--latency-graph", str(args.graph_latency),
                   "--latency-exo", str(args.exo_latency), "--throttle", "--port", "0",
                   "--ca-out", str(ca)),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        try:
            yield base, ca, process.pid
        finally:
            process.terminate()
            process.wait(30)


def fresh_database(admin: str, name: str) -> str:
    url = make_url(admin)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def tenants_stats(base: str, ca: Path) -> list[dict[str, Any]]:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=120) as c:
        found: list[dict[str, Any]] = c.get(f"{base}/_emulator/tenants").json()["tenants"]
        return found


def build_every_tenant(base: str, ca: Path, tenants: list[str]) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=120) as c:
        for tenant in tenants:
            c.get(f"{base}/_emulator/tenants/{tenant}/stats").raise_for_status()


def charged(graph: dict[str, int]) -> int:
    """What a tenant's Graph bucket was charged: every request but a `$batch`, and every
    part of one."""
    return graph["requests"] - graph["batches"] + graph["subrequests"]


def lower_bound(stats: list[dict[str, Any]], jobs_at_once: int, graph_ms: float,
                exo_ms: float) -> dict[str, float]:
    own = []
    graph_total = exo_total = 0.0
    for tenant in stats:
        necessary = tenant["stats"]["necessary"]
        graph = necessary["graph"] * graph_ms / 1000
        exo = necessary["exchange"] * exo_ms / 1000
        rate = (charged(tenant["stats"]["services"]["graph"]) - THROTTLE_GRAPH_BURST
                ) / THROTTLE_GRAPH_RATE
        own.append(max(graph / GRAPH_CONCURRENCY, rate, exo / EXO_CONCURRENCY))
        graph_total += graph
        exo_total += exo
    fleet = max(graph_total / (jobs_at_once * GRAPH_CONCURRENCY),
                exo_total / (jobs_at_once * EXO_CONCURRENCY))
    return {"slowest_tenant": max(own), "fleet": fleet, "bound": max(max(own), fleet)}


def wait_for_jobs(db: str, expected: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    with FleetStore.open(db, create=False) as store:
        while time.monotonic() < deadline:
            jobs = store.jobs.jobs()
            if len(jobs) == expected and all(job.state.finished for job in jobs):
                failed = [job.error for job in jobs if job.state.value != "succeeded"]
                if failed:
                    raise SystemExit(f"{len(failed)} jobs did not succeed: {failed[:3]}")
                return time.perf_counter()
            time.sleep(0.2)
    raise SystemExit(f"the jobs did not finish within {timeout:g} s")


def fleet_run(args: argparse.Namespace, workers: int, threads: int,
              folder: Path) -> dict[str, Any]:
    client = redis.Redis.from_url(args.redis)
    client.flushdb()
    db = fresh_database(args.postgres, f"mailwarden_bench_fleet_{workers}x{threads}")
    tenants = [tenant_identity(args.seed + i).tenant_id for i in range(args.tenants)]
    with FleetStore.open(db) as store:
        for tenant in tenants:
            store.add(FleetTenant(tenant_id=tenant, credential=Credential(
                client_id="bench-app", secret_env=SECRET_VAR, multi_tenant=True)),
                at=datetime.now(UTC))
    with emulator(args, folder) as (base, ca, emulator_pid):
        build_every_tenant(base, ca, tenants)
        env = {**os.environ, "MAILWARDEN_REDIS_URL": args.redis, SECRET_VAR:
               DEFAULT_CLIENT_SECRET, "MAILWARDEN_LOGIN_URL": base, "MAILWARDEN_GRAPH_URL": base,
               "MAILWARDEN_EXO_URL": base, "MAILWARDEN_CA_BUNDLE": str(ca),
               # Each tenant's rate budget, shared by the workers: the emulator's own.
               "MAILWARDEN_GRAPH_RATE": f"{THROTTLE_GRAPH_RATE:g}",
               "MAILWARDEN_GRAPH_BURST": str(THROTTLE_GRAPH_BURST)}
        logs = [(folder / f"worker-{workers}x{threads}-{n}.log").open("wb")
                for n in range(workers)]
        processes = [subprocess.Popen(
            mailwarden("worker", "--db", db,
                       "--state-dir", str(folder / f"state-{workers}x{threads}"),
                       "--processes", "1", "--threads", str(threads),
                       "--metrics-port", "0"), env=env, stdout=log, stderr=log)
            for log in logs]
        try:
            time.sleep(args.warmup)  # the workers import and connect before the clock starts
            pids = [emulator_pid, *(process.pid for process in processes)]
            cpu_before = [tree_cpu(pid) for pid in pids]
            started = time.perf_counter()
            with redis_broker(args.redis) as broker, FleetStore.open(db) as store:
                enqueue_now(store, broker, kinds=(JobKind.POSTURE,), by="benchmark",
                            now=datetime.now(UTC))
            finished = wait_for_jobs(db, args.tenants, args.timeout)
            cpu_used = [tree_cpu(pid) - before for pid, before in zip(pids, cpu_before,
                                                                       strict=True)]
            cpu = sum(cpu_used)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(120)
            for log in logs:
                log.close()
        stats = tenants_stats(base, ca)
    jobs_at_once = min(workers * threads, args.tenants)
    bound = lower_bound(stats, jobs_at_once, args.graph_latency, args.exo_latency)
    seconds = finished - started
    cpus = os.cpu_count() or 1
    return {
        "benchmark": "fleet", "workers": workers, "threads": threads,
        "tenants": args.tenants, "seconds": round(seconds, 2),
        "lower_bound": {k: round(v, 2) for k, v in bound.items()},
        "ratio_to_bound": round(seconds / bound["bound"], 2),
        # The emulator's and the workers' CPU over the run, and the time it takes on this
        # machine's cores at the least: where it is above the bound, CPU is the limit.
        "cpu_seconds": round(cpu, 1), "cpu_bound": round(cpu / cpus, 2),
        "cpu_per_tenant": round(cpu / args.tenants, 3),
        # Of which the emulator's (Microsoft's part, in a real fleet) and the workers'.
        "cpu_per_tenant_emulator": round(cpu_used[0] / args.tenants, 3),
        "cpu_per_tenant_workers": round(sum(cpu_used[1:]) / args.tenants, 3),
        "requests": sum(t["stats"]["services"]["graph"]["requests"]
                        + t["stats"]["services"]["exchange"]["requests"] for t in stats),
        "exceeded": [t["tenantId"] for t in stats if t.get("exceeded")],
    }


def sequential(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """`mailwarden collect` for the first tenants, one after another."""
    with emulator(args, folder) as (base, ca, _):
        tenants = [tenant_identity(args.seed + i).tenant_id for i in range(args.sequential)]
        build_every_tenant(base, ca, tenants)
        env = {**os.environ, "MAILWARDEN_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
        started = time.perf_counter()
        for n, tenant in enumerate(tenants):
            subprocess.run(mailwarden(
                "collect", "--tenant", tenant, "--client-id", "bench-app", "--login-url",
                base, "--graph-url", base, "--exo-url", base, "--ca-bundle", str(ca),
                "--out", str(folder / f"collected-{n}")), env=env, check=True,
                capture_output=True)
        seconds = time.perf_counter() - started
    each = seconds / len(tenants)
    return {"benchmark": "fleet-sequential-collect", "tenants_timed": len(tenants),
            "seconds_each": round(each, 2),
            "estimated_seconds_for_fleet": round(each * args.tenants, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4",
                        help="the runs: worker processes, or WORKERSxTHREADS (1x2,2x8)")
    parser.add_argument("--threads", type=int, default=8,
                        help="jobs each worker runs at once, where a run does not say")
    parser.add_argument("--graph-latency", type=float, default=50.0)
    parser.add_argument("--exo-latency", type=float, default=150.0)
    parser.add_argument("--seed", type=int, default=3000)
    parser.add_argument("--sequential", type=int, default=10,
                        help="tenants `collect` runs one after another (0: skip)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL account that may create databases")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9",
                        help="a Redis database the benchmark may empty")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "load": os.getloadavg()[0]}
    results = []
    with tempfile.TemporaryDirectory(prefix="mailwarden-bench-fleet-") as temp:
        folder = Path(temp)
        for run in args.workers.split(","):
            workers, _, threads = run.partition("x")
            line = {**fleet_run(args, int(workers), int(threads or args.threads), folder),
                    "machine": machine}
            print(json.dumps(line), flush=True)
            results.append(line)
        if args.sequential:
            baseline = sequential(args, folder)
            print(json.dumps(baseline), flush=True)
            for line in results:
                print(f"{line['workers']} worker(s) x {line['threads']} threads: "
                      f"{line['seconds']} s, {line['ratio_to_bound']}x the lower bound "
                      f"({line['lower_bound']['bound']} s; CPU alone {line['cpu_bound']} s), "
                      f"{baseline['estimated_seconds_for_fleet'] / line['seconds']:.1f}x "
                      "faster than collect one tenant after another", flush=True)


if __name__ == "__main__":
    main()
