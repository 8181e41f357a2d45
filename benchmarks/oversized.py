"""Records over the limit per record at the size they were reported at; prints one JSON
line.

    python benchmarks/oversized.py              # 1 GiB long line and row
    python benchmarks/oversized.py --mib 256    # quicker

Two files, each about 1 MB of gzip: Graph sign-ins as JSON Lines with one line of
`--mib` MiB among 100 good ones, and a Log Analytics sign-in CSV with one row of that
size among 100 good ones. The long line is written as gzip members of one mebibyte each,
so it is never held in memory or on disk. `mailwarden detect` reads both in a process of
its own; the script checks that each file gives 100 rows and 1 bad row with its reason
(the issue these were reported in: 100 of 101 rows and 0 bad, nothing said), and reports
the wall time and the child's peak memory against the same command on the files without
the long record (the baseline: what reading 200 good rows costs).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MIB = 1 << 20
_ROW = '"4/28/2021, 2:08:45.221 PM",u{i}@contoso.example,0,192.0.2.1\n'
_HEADER = "CreatedDateTime [UTC],UserPrincipalName,ResultType,IPAddress\n"


def _signin(i: int, agent: str = "Mozilla/5.0") -> str:
    return json.dumps({"createdDateTime": f"2026-03-02T09:{i % 60:02d}:00Z",
                       "userPrincipalName": "ann@contoso.example", "ipAddress": "192.0.2.1",
                       "clientAppUsed": "Browser", "userAgent": agent,
                       "status": {"errorCode": 0}})


def write(directory: Path, mib: int) -> tuple[Path, Path]:
    block = gzip.compress(b"x" * MIB, compresslevel=9)
    jsonl, csv = directory / f"signins-{mib}.jsonl.gz", directory / f"signins-{mib}.csv.gz"
    head, tail = _signin(50, "@@").split("@@")
    good = [_signin(i) + "\n" for i in range(101)]
    rows = [_ROW.format(i=i) for i in range(101)]
    parts = {jsonl: ("".join(good[:50]) + head, tail + "\n" + "".join(good[51:])),
             csv: (_HEADER + "".join(rows[:50]) + '"4/28/2021, 2:08:45.221 PM",',
                   ",0,192.0.2.1\n" + "".join(rows[51:]))}
    for path, (before, after) in parts.items():
        with path.open("wb") as out:
            out.write(gzip.compress(before.encode()))
            for _ in range(mib):
                out.write(block)
            out.write(gzip.compress(after.encode()))
    return jsonl, csv


#: `mailwarden detect ...` in this process, then its own peak memory on stderr.
_CHILD = """
import resource, runpy, sys
sys.argv = ["mailwarden", *sys.argv[1:]]
try:
    runpy.run_module("mailwarden", run_name="__main__")
finally:
    print("peak_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def run(files: tuple[Path, Path], out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, "detect", "--out", str(out),
                           "-q", "--signins", str(files[0]), "--signins", str(files[1])],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "COLUMNS": "200"})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"detect exited {done.returncode}: {done.stderr.strip()[-500:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1].split()[-1])
    inputs = json.loads((out / "alerts.json").read_text(encoding="utf-8"))["inputs"]
    return {"seconds": round(seconds, 2), "peak_mb": round(peak_kb / 1024),
            "files": [{"name": Path(i["path"]).name, "rows": i["rows"], "bad": i["bad_rows"],
                       "reason": (i["bad_samples"][0]["reason"] if i["bad_samples"] else None),
                       "row": (i["bad_samples"][0]["row"] if i["bad_samples"] else None)}
                      for i in inputs]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="size of the long record")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailwarden-oversized-") as work:
        directory = Path(work)
        long_files = write(directory, args.mib)
        sizes = [path.stat().st_size for path in long_files]
        long_run = run(long_files, directory / "out-long")
        baseline = run(write(directory, 0), directory / "out-baseline")
    ok = all(f["rows"] == 100 and f["bad"] == 1 and str(f["reason"]).startswith("record of")
             for f in long_run["files"])
    print(json.dumps({
        "long_record_mib": args.mib, "gzip_bytes": sizes, "counted": ok,
        "with_long_record": long_run, "baseline": baseline,
        "time_vs_baseline": round(long_run["seconds"] / baseline["seconds"], 1),
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
