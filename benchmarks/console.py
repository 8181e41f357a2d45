"""The console's pages under load: latency of each page at 10 concurrent clients over the
history database of the large synthetic tenant with 30 stored runs; prints one JSON line.

    python benchmarks/console.py                                   # large, seed 7, 30 runs
    python benchmarks/console.py --dir /tmp/large --db /tmp/console-bench.db   # reuse both

The tenant is written (when --dir holds none) and scanned once, with its Unified Audit Log
for the grants' last use, and its logs analysed (the alerts rank the mailboxes, and fold
into incidents as the watcher folds them); 30 runs are stored through `store_run`, a day
apart, each a small change from the one before (as a tenant drifts): a few failing
findings fixed, a few passing ones regressed, those mailboxes' risk recomputed from their
failing findings (`assess.risk.risk_score`) and the mailboxes ranked again (`ranked`).
A history database already holding the 30 runs is reused.

`mailwarden console` is then started as a user starts it (a subprocess on loopback; this
script's own `--serve` where the command is not there), signed in with the token it
prints, and every page that reads without more than a tenant in its path is requested
`--requests` times by `--clients` concurrent clients after a warm-up, plus the mailbox
list filtered and one page on, and the riskiest mailbox's page. Every answer must be 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from mailwarden.assess.risk import ranked, risk_score
from mailwarden.detect.lifecycle import observe
from mailwarden.model.findings import Finding, ScanResult, Status
from mailwarden.model.run import Run
from mailwarden.pipeline import detect_logs, rank_by_evidence, scan_directory
from mailwarden.report import make_run
from mailwarden.store import History, dispose_engines, store_run
from mailwarden.store.incidents import IncidentStore
from mailwarden.synth import generate, write_synthetic

T0 = datetime(2026, 10, 1, 6, tzinfo=UTC)
CHANGES_PER_RUN = 6  # findings fixed or regressed between two runs
_URL = re.compile(r"(http://127\.0\.0\.1:\d+/login\?token=\S+)")


def drifted(result: ScanResult, rng: random.Random) -> ScanResult:
    """`result` a day later: some failing findings of ownerless mailboxes fixed, as many
    passing ones regressed, their mailboxes' risk and failing checks recomputed, and the
    mailboxes ranked again."""
    findings = list(result.findings)
    on_box = [i for i, f in enumerate(findings) if f.resource.upn]
    failing = [i for i in on_box if findings[i].status is Status.FAIL]
    passing = [i for i in on_box if findings[i].status is Status.PASS]
    touched: set[str] = set()
    for index in rng.sample(failing, CHANGES_PER_RUN // 2):
        findings[index] = replace(findings[index], status=Status.PASS)
        touched.add(findings[index].resource.key or "")
    for index in rng.sample(passing, CHANGES_PER_RUN // 2):
        findings[index] = replace(findings[index], status=Status.FAIL)
        touched.add(findings[index].resource.key or "")
    by_box: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.resource.key in touched and finding.status is Status.FAIL:
            by_box.setdefault(finding.resource.key or "", []).append(finding)
    assessments = []
    for item in result.assessments:
        if item.upn in touched:
            fails = sorted(by_box.get(item.upn, []), key=lambda f: -f.severity.rank)
            item = replace(item, failing=tuple(f.check_id for f in fails),
                           risk_score=risk_score(fails, sprayable=False))
        assessments.append(item)
    return replace(result, findings=tuple(findings), assessments=tuple(ranked(assessments)))


def build(directory: Path, db_url: str, runs: int, read_logs: bool) -> dict[str, float]:
    times: dict[str, float] = {}
    started = time.perf_counter()
    scan = scan_directory(directory, at=T0, read_logs=read_logs, db_url=db_url)
    detection = detect_logs(directory, scan) if read_logs else None
    times["scan_and_detect_s"] = time.perf_counter() - started
    result = rank_by_evidence(scan, detection).result
    rng = random.Random(7)
    started = time.perf_counter()
    for day in range(runs):
        if day:
            result = drifted(result, rng)
        at = T0 + timedelta(days=day)
        tenant = replace(result.tenant, collected_at=at - timedelta(minutes=20))
        run: Run = make_run(replace(result, tenant=tenant), generated_at=at,
                            snapshot=scan.snapshot, detection=detection)
        store_run(run, db_url)
    times["store_s_per_run"] = (time.perf_counter() - started) / runs
    if detection is not None:  # the incidents, as the watcher folds the alerts into them
        observed = observe({}, detection.alerts, tenant_id=result.tenant.tenant_id,
                           now=T0 + timedelta(days=runs - 1), as_of=None)
        with History.open(db_url) as history:
            IncidentStore(history).save(result.tenant.tenant_id, observed.incidents.values())
    return times


def start_console(db_url: str, port: int) -> tuple[subprocess.Popen[str], str]:
    """Start the console as a user does and return it with the sign-in URL it prints."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    has_command = subprocess.run([sys.executable, "-m", "mailwarden", "console", "--help"],
                                 capture_output=True, env=env).returncode == 0
    command = ([sys.executable, "-m", "mailwarden", "console", "--db", db_url, "--port",
                str(port)] if has_command
               else [sys.executable, __file__, "--serve", db_url, "--port", str(port)])
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        found = _URL.search(line)
        if found:
            # Keep reading what it prints (its access log): a full pipe would stop it.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, found.group(1)
    process.kill()
    raise SystemExit("the console printed no sign-in URL")


def serve(db_url: str, port: int) -> None:
    """`mailwarden console` until that command is there: the same app, loopback, the
    sign-in URL printed."""
    import uvicorn

    from mailwarden.console.app import build_console, create_app
    from mailwarden.console.config import ConsoleConfig

    console = build_console(ConsoleConfig(db_url=db_url, port=port),
                            link_key="benchmark-link-key-0123456789-0123456789")
    print(f"{console.config.base_url}/login?token={console.local_token}", flush=True)
    uvicorn.run(create_app(console), host="127.0.0.1", port=port, log_level="warning")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(base: str, cookies: httpx.Cookies, path: str, *, clients: int,
                  requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: set[int] = set()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as client:
            await client.get(path)  # warm-up: connection and caches
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - started)
                statuses.add(response.status_code)

    await asyncio.gather(*(worker() for _ in range(clients)))
    latencies.sort()

    def at(share: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))], 1)

    return {"path": path, "requests": len(latencies), "p50_ms": at(0.50), "p95_ms": at(0.95),
            "max_ms": round(1000 * latencies[-1], 1), "statuses": sorted(statuses)}


def pages_to_measure(tenant_id: str, riskiest: str) -> dict[str, str]:
    from mailwarden.console.app import all_pages

    tenant = quote(tenant_id, safe="")
    mailboxes = f"/tenants/{tenant}/mailboxes"
    chosen = {"mailboxes": mailboxes,
              "mailboxes filtered": f"{mailboxes}?band=75-100&check=imap-enabled&q=a",
              "mailboxes page 10": f"{mailboxes}?page=10",
              "mailbox": f"{mailboxes}/{quote(riskiest, safe='@')}"}
    for page in all_pages():
        params = set(re.findall(r"{(\w+)", page.path))
        if ("GET" in page.methods and not page.public and page.link is None
                and params <= {"tenant"} and page.name not in ("mailboxes", "tenants")):
            chosen.setdefault(page.name, page.path.replace("{tenant}", tenant))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/console-bench/tenant"))
    parser.add_argument("--db", type=Path, default=Path("/tmp/console-bench/history.db"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--no-logs", action="store_true",
                        help="scan without the logs: no last use, alerts or incidents")
    parser.add_argument("--serve", metavar="DB_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0

    line: dict[str, Any] = {"benchmark": "console", "size": args.size, "seed": args.seed}
    if not (args.dir / "tenant.json").exists():
        started = time.perf_counter()
        write_synthetic(generate(args.size, seed=args.seed), args.dir)
        line["generate_and_write_s"] = round(time.perf_counter() - started, 1)
    db_url = f"sqlite:///{args.db}"
    with History.open(db_url) as history:
        stored = len(history.runs())
    if stored != args.runs:
        args.db.unlink(missing_ok=True)
        dispose_engines()
        line.update({k: round(v, 2) for k, v in build(args.dir, db_url, args.runs,
                                                      not args.no_logs).items()})
    with History.open(db_url) as history:
        runs = history.runs()
        latest = runs[-1]
    from mailwarden.store.mailbox_pages import MailboxFilter, list_mailboxes
    with History.open(db_url) as history:
        top, _ = list_mailboxes(history, latest.id, MailboxFilter(), offset=0, limit=1)
    dispose_engines()
    line.update({"runs": len(runs), "ownerless": latest.ownerless,
                 "db_mb": round(args.db.stat().st_size / 1e6, 1), "clients": args.clients})

    process, url = start_console(db_url, args.port)
    try:
        base = url.split("/login", 1)[0]
        with httpx.Client(base_url=base) as client:
            signed = client.get(url.replace(base, ""), follow_redirects=False)
            assert signed.status_code == 303, signed.status_code
            cookies = client.cookies
        results = {}
        line["load_average_before"] = round(os.getloadavg()[0], 1)
        for name, path in pages_to_measure(latest.tenant_id, top[0].upn).items():
            cpu = cpu_seconds(process.pid)
            results[name] = asyncio.run(measure(base, cookies, path, clients=args.clients,
                                                requests=args.requests))
            # the server's own CPU per request: what the page costs, whatever runs beside
            results[name]["server_cpu_ms_per_request"] = round(
                1000 * (cpu_seconds(process.pid) - cpu) / (args.requests + args.clients), 1)
            if results[name]["statuses"] != [200]:
                raise SystemExit(f"{path} answered {results[name]['statuses']}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    line["load_average_after"] = round(os.getloadavg()[0], 1)
    line["pages"] = results
    line["worst_p95_ms"] = max(r["p95_ms"] for r in results.values())
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
