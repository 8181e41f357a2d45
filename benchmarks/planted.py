"""Does a scan find exactly what the synthetic generator planted? One JSON line per tenant.

    python benchmarks/planted.py                                # small 0, medium 3, large 7
    python benchmarks/planted.py --size large --seed 7 --check dormant-delegate

The test suite checks the small and medium tenants; the large one (50,000 users) is too
slow for it, so this script is how its truth is checked. For each check it counts the
findings planted, found, missed (planted, not found) and extra (found, not planted), and
the errors against the planted "unknown" and licence verdicts. Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from mailwarden.assess import assess, load_custodians
from mailwarden.model.findings import ScanResult, Status
from mailwarden.pipeline import audit_usage
from mailwarden.synth import generate, write_synthetic
from mailwarden.tenant.snapshot import load_snapshot

DEFAULT_TENANTS = (("small", 0), ("medium", 3), ("large", 7))


def _pairs(rows: Any) -> set[tuple[str, str | None]]:
    return {(str(row["check_id"]), row.get("upn")) for row in rows}


def _key(finding: Any) -> tuple[str, str | None]:
    resource = finding.resource
    upn = resource.upn or (f"app:{resource.app_id}" if getattr(resource, "app_id", None)
                           else None)
    return finding.check_id, upn


def _planted_key(row: Any) -> tuple[str, str | None]:
    app = row.get("app_id")
    return str(row["check_id"]), (f"app:{app}" if app else row.get("upn"))


def compare(result: ScanResult, planted: dict[str, Any], checks: set[str]) -> dict[str, Any]:
    def chosen(pairs: set[tuple[str, str | None]]) -> set[tuple[str, str | None]]:
        return {p for p in pairs if not checks or p[0] in checks}

    dormant = planted.get("dormant") or {}  # what the audit log decides, planted with it
    want = chosen({_planted_key(row) for row in [*planted["planted"],
                                                 *dormant.get("planted", [])]})
    got = chosen({_key(f) for f in result.findings if f.status is Status.FAIL})
    undecided = [*planted.get("unknown", []), *planted.get("errors", []),
                 *dormant.get("unknown", [])]
    want_errors = chosen({_planted_key(row) for row in undecided})
    got_errors = chosen({_key(f) for f in result.findings if f.status is Status.ERROR})
    per_check: dict[str, dict[str, int]] = {}
    counts = {"planted": Counter(c for c, _ in want), "found": Counter(c for c, _ in got),
              "missed": Counter(c for c, _ in want - got),
              "extra": Counter(c for c, _ in got - want)}
    for name, counter in counts.items():
        for check, count in counter.items():
            per_check.setdefault(check, {})[name] = count
    return {
        "checks": dict(sorted(per_check.items())),
        "missed": sorted(map(str, want - got))[:10],
        "extra": sorted(map(str, got - want))[:10],
        "errors_missed": sorted(map(str, want_errors - got_errors))[:10],
        "errors_extra": sorted(map(str, got_errors - want_errors))[:10],
        "exact": want == got and want_errors == got_errors,
    }


def run(size: str, seed: int, checks: set[str]) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mailwarden-planted-") as tmp:
        directory = Path(tmp) / f"{size}-{seed}"
        write_synthetic(generate(size, seed=seed), directory)
        # As `scan` does: the audit log under logs/ dates each grant's last use.
        result = assess(load_snapshot(directory),
                        custodians=load_custodians(directory / "custodians.csv"),
                        usage=audit_usage(directory))
        planted = json.loads((directory / "planted.json").read_text(encoding="utf-8"))
    report = compare(result, planted, checks)
    return {"size": size, "seed": seed, "seconds": round(time.perf_counter() - started, 1),
            **report}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--check", action="append", default=[],
                        help="only this check (repeat); default: every check")
    args = parser.parse_args()
    tenants = ([(args.size, args.seed if args.seed is not None else 0)] if args.size
               else list(DEFAULT_TENANTS))
    exact = True
    for size, seed in tenants:
        line = run(size, seed, set(args.check))
        exact &= bool(line["exact"])
        print(json.dumps(line), flush=True)
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
