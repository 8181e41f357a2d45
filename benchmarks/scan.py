"""Time an offline scan of a synthetic tenant; prints one JSON line.

    python benchmarks/scan.py                      # large tenant (50,000 users), seed 7
    python benchmarks/scan.py --size medium --dir /tmp/medium   # reuse a written tenant
    python benchmarks/scan.py --dir /tmp/large --repeat 3       # best of three

Phases: generate and write (skipped when --dir already holds a tenant), load (read and
parse the recorded tenant, read custodians.csv), assess, render findings.json. With
--repeat, each phase reports its fastest run: on a shared machine the slower runs
measure the neighbours. CPU seconds are reported beside wall seconds for the same reason.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailwarden.assess import assess, load_custodians
from mailwarden.report.findings_json import render_findings_json
from mailwarden.synth import generate, write_synthetic
from mailwarden.tenant.snapshot import load_snapshot


def _timed_scan(directory: Path) -> tuple[dict[str, float], dict[str, Any]]:
    times: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()
    snapshot = load_snapshot(directory)
    custodians = load_custodians(directory / "custodians.csv")
    times["load_s"] = time.perf_counter() - started
    times["load_cpu_s"] = time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    result = assess(snapshot, custodians=custodians)
    times["assess_s"] = time.perf_counter() - started
    times["assess_cpu_s"] = time.process_time() - cpu

    started = time.perf_counter()
    text = render_findings_json(result, datetime.now(UTC))
    times["render_findings_json_s"] = time.perf_counter() - started
    counts = {
        "users": len(snapshot.accounts),
        "mailboxes": len(snapshot.mailboxes),
        "ownerless": len(result.inventory),
        "findings": len(result.findings),
        "failures": len(result.failures()),
        "findings_json_bytes": len(text.encode("utf-8")),
    }
    return times, counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, help="tenant directory (written when empty)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; each phase's best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mailwarden-bench-") as scratch:
        directory = args.dir or Path(scratch) / "tenant"
        best: dict[str, float] = {}
        if not (directory / "tenant.json").exists():
            started = time.perf_counter()
            write_synthetic(generate(args.size, seed=args.seed), directory)
            best["generate_and_write_s"] = time.perf_counter() - started
        for _ in range(max(1, args.repeat)):
            times, counts = _timed_scan(directory)
            for key, value in times.items():
                best[key] = min(value, best.get(key, value))

    line = {
        "benchmark": "scan",
        "size": args.size,
        "seed": args.seed,
        **counts,
        "runs": max(1, args.repeat),
        **{key: round(value, 3) for key, value in best.items()},
        "python": platform.python_version(),
    }
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
