"""Soak `mailwarden watch --tenant ...` as the user runs it: many cycles against the
emulator on loopback, with attacks logged between cycles; prints one JSON line.

    python benchmarks/watch.py                        # 200 cycles, --interval 1s
    python benchmarks/watch.py --cycles 40            # a quick run
    python benchmarks/watch.py --samples samples.json # also every cycle's figures

The emulator serves the small synthetic tenant in a process of its own; the watcher is
`python -m mailwarden watch --cycles N --interval 1s --posture-every 1m` with nothing
injected (MSAL, the one session, the JSON webhook on 127.0.0.1, the history database in
a file of its own). Through the first half, every tenth cycle the benchmark logs new
records in the emulator (`POST /_emulator/logs/signIns`): five failed sign-ins to a
shared mailbox and one success, so the log window grows and alerts are raised and sent.
The second half reads no new records: the same window, alerts and posture every cycle.

After each cycle (its line in the log file) the benchmark reads, from /proc, the
watcher's resident memory (VmRSS) and its open file descriptors, and the size of the
history database (with its -wal and -journal files). Figures are averaged over
`WINDOW` cycles at three points: after the warm-up (the first `--warmup` cycles import
and cache what later cycles reuse), at the end of the attack half, and at the end.
Memory and descriptors must stay flat throughout. A cycle stores its run only when its
findings or alerts differ from the last run it stored, so in the quiet half the database
grows only when the posture is re-collected (its collection time is part of the run).
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from statistics import mean
from typing import Any

import httpx

from mailwarden.emulator.config import DEFAULT_CLIENT_SECRET
from mailwarden.settings import SECRET_ENV
from mailwarden.synth import generate

SIZE, SEED = "small", 0
WINDOW = 20  # cycles averaged at the start (after the warm-up) and at the end


@contextmanager
def emulator(folder: Path) -> Iterator[tuple[str, Path]]:
    """`mailwarden emulator --synthetic small` as a process: its base URL and CA file."""
    ca_file = folder / "emulator-ca.pem"
    with subprocess.Popen(
        [sys.executable, "-m", "mailwarden", "emulator", "--synthetic", SIZE, "--seed",
         str(SEED), "--port", "0", "--ca-out", str(ca_file)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as process:
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], 120)
            base_url = process.stdout.readline().strip() if ready else ""
            if not base_url.startswith("https://127.0.0.1:"):
                raise SystemExit(f"the emulator did not start: {base_url!r}")
            yield base_url, ca_file
        finally:
            process.terminate()
            process.wait(30)


@contextmanager
def webhook() -> Iterator[tuple[list[int], str]]:
    """A JSON webhook on 127.0.0.1 that accepts everything; yields [posts], its URL."""
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            count[0] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield count, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def shared_mailboxes() -> list[tuple[str, str]]:
    mailboxes = generate(SIZE, seed=SEED).recorded.data["exo/Get-Mailbox"]
    return [(str(m["UserPrincipalName"]), str(m["ExternalDirectoryObjectId"]))
            for m in mailboxes if m.get("RecipientTypeDetails") == "SharedMailbox"]


def attack(client: httpx.Client, base_url: str, target: tuple[str, str], n: int) -> None:
    """Five failed sign-ins and one success to `target`'s account, logged now."""
    upn, user_id = target
    rows = [{"userPrincipalName": upn, "userId": user_id, "ipAddress": f"203.0.113.{n % 250}",
             "clientAppUsed": "IMAP4", "appDisplayName": "Office 365 Exchange Online",
             "status": {"errorCode": 50126 if i < 5 else 0}} for i in range(6)]
    client.post(f"{base_url}/_emulator/logs/signIns", json=rows).raise_for_status()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal"),
                                          path.with_name(path.name + "-journal"))
               if p.exists())


def soak(cycles: int, work: Path) -> tuple[list[dict[str, Any]], int]:
    """Run the watcher; one sample per cycle, and the webhook posts it received."""
    targets = shared_mailboxes()
    samples: list[dict[str, Any]] = []
    with emulator(work) as (base_url, ca_file), webhook() as (posts, hook_url):
        routing = work / "routing.yaml"
        routing.write_text(f"security_team: [secops@contoso.example]\nchannels:\n  hook:\n"
                           f"    type: json\n    url: {hook_url}\nroutes:\n  - match: {{}}\n"
                           "    channels: [hook]\n", encoding="utf-8")
        log, database = work / "watch.log", work / "history.db"
        env = {**os.environ, SECRET_ENV: DEFAULT_CLIENT_SECRET}
        command = [sys.executable, "-m", "mailwarden", "watch", "--routing", str(routing),
                   "--state-dir", str(work / "state"), "--db", str(database),
                   "--log-file", str(log), "--cycles", str(cycles), "--interval", "1s",
                   "--posture-every", "1m", "--tenant", generate(SIZE, seed=SEED).recorded
                   .data["tenant"]["tenantId"], "--client-id", "soak", "--login-url",
                   base_url, "--graph-url", base_url, "--exo-url", base_url,
                   "--ca-bundle", str(ca_file)]
        verify = ssl.create_default_context(cafile=str(ca_file))
        with (httpx.Client(verify=verify, timeout=30) as client,
              subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True) as process):
            while len(samples) < cycles:
                # Whole lines only: the watcher may be writing the next one.
                text = log.read_text(encoding="utf-8") if log.exists() else ""
                lines = text.split("\n")[:-1]
                if len(lines) == len(samples):
                    if process.poll() is not None:
                        stderr = process.stderr.read() if process.stderr else ""
                        raise SystemExit(f"the watcher ended after {len(samples)} cycles: "
                                         f"{stderr.strip()}")
                    time.sleep(0.02)
                    continue
                line = json.loads(lines[len(samples)])
                pid = process.pid
                samples.append({
                    "cycle": len(samples) + 1, "ok": line["ok"],
                    "seconds": line.get("seconds"), "rss_kib": rss_kib(pid),
                    "fds": open_fds(pid), "db_bytes": db_bytes(database),
                    "records_new": line.get("records_new"),
                    "window_records": line.get("window_records"),
                    "alerts": line.get("alerts"), "sent": line.get("deliveries_sent"),
                    "posture": line.get("posture_refreshed"),
                    "stored": line.get("run_stored", True)})
                if len(samples) % 10 == 0 and len(samples) < cycles // 2:
                    attack(client, base_url, targets[(len(samples) // 10) % len(targets)],
                           len(samples))
            if process.wait(120) != 0:
                raise SystemExit(f"the watcher exited with {process.returncode}")
        return samples, posts[0]


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of y over x."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = mean(xs), mean(ys)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)


def summary(samples: list[dict[str, Any]], warmup: int, posts: int) -> dict[str, Any]:
    steady = samples[warmup:]
    half = len(samples) // 2
    start, mid, end = steady[:WINDOW], samples[half - WINDOW:half], samples[-WINDOW:]
    growth = [b["db_bytes"] - a["db_bytes"] for a, b in pairwise(samples)]
    quiet = growth[half + 1:]  # the quiet half, from its second cycle (the first detects
    early, late = quiet[:WINDOW], quiet[-WINDOW:]  # the last attack)

    def rss(part: list[dict[str, Any]]) -> float:
        return mean(s["rss_kib"] for s in part)

    return {
        "benchmark": "watch-soak", "tenant": f"{SIZE}, seed {SEED}",
        "cycles": len(samples), "failed_cycles": sum(1 for s in samples if not s["ok"]),
        "posture_refreshes": sum(1 for s in samples if s["posture"]),
        "window_records_end": samples[-1]["window_records"],
        "alerts_end": samples[-1]["alerts"], "webhook_posts": posts,
        "median_cycle_s": sorted(s["seconds"] for s in samples)[len(samples) // 2],
        "alerts_mid": samples[half - 1]["alerts"],
        "rss_mib_after_warmup": round(rss(start) / 1024, 1),
        "rss_mib_mid": round(rss(mid) / 1024, 1),
        "rss_mib_end": round(rss(end) / 1024, 1),
        "rss_end_vs_after_warmup": round(rss(end) / rss(start), 3),
        "rss_end_vs_mid": round(rss(end) / rss(mid), 3),
        "rss_kib_per_cycle_slope_quiet_half": round(
            slope([(s["cycle"], s["rss_kib"]) for s in samples[half:]]), 2),
        "rss_mib_max": round(max(s["rss_kib"] for s in samples) / 1024, 1),
        "fds_after_warmup": max(s["fds"] for s in start),
        "fds_mid": max(s["fds"] for s in mid),
        "fds_end": max(s["fds"] for s in end),
        "fds_max": max(s["fds"] for s in samples),
        "db_mib_end": round(samples[-1]["db_bytes"] / 2**20, 2),
        "db_kib_per_cycle_first": round(growth[0] / 1024, 1),
        "db_kib_per_cycle_quiet_start": round(mean(early) / 1024, 1),
        "db_kib_per_cycle_quiet_end": round(mean(late) / 1024, 1),
        "db_kib_quiet_half": round(sum(quiet) / 1024, 1),
        "runs_stored": sum(1 for s in samples if s["stored"]),
        "runs_stored_quiet_half": sum(1 for s in samples[half + 1:] if s["stored"]),
        "posture_refreshes_quiet_half": sum(1 for s in samples[half + 1:] if s["posture"]),
        "python": platform.python_version(), "cpus": os.cpu_count(),
    }


def main() -> int:
    if not Path("/proc/self/status").exists():
        raise SystemExit("benchmarks/watch.py reads /proc: run it on Linux")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--samples", type=Path, help="Write every cycle's figures here.")
    args = parser.parse_args()
    if args.cycles < 2 * (args.warmup + 2 * WINDOW):
        raise SystemExit(f"--cycles must be at least {2 * (args.warmup + 2 * WINDOW)}")
    with tempfile.TemporaryDirectory(prefix="mw-watch-soak-") as folder:
        samples, posts = soak(args.cycles, Path(folder))
    if args.samples is not None:
        args.samples.write_text(json.dumps(samples, indent=1), encoding="utf-8")
    print(json.dumps(summary(samples, args.warmup, posts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
