"""Detection throughput on a large sign-in log; prints one JSON line.

    python benchmarks/detect.py                     # 5,000,000 events
    python benchmarks/detect.py --events 200000     # a quick run

The log is Graph signIn objects as gzip JSON Lines, written by DuckDB itself (fast) and
cached under --cache, with office traffic, typos and a spray in it. Four runs over the
same file, each in its own process so its peak memory (max RSS) is its own: `detect`
(read, normalize, every rule that runs without a tenant), DuckDB's own
`SELECT count(*) FROM read_json(...)` (the ceiling), a plain Python `json.loads` loop
(the floor), and what keeping the rows costs at all: DuckDB reads five of the fields
(time, account, address, user agent, result) and stores them in a database file under
the same memory limit as `detect`, with no normalization and no rule (`store_vs_ceiling`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: One row per event: ~30 offices' worth of people, a spray from one address every
#: 200,000 events, a typo every 50; shapes as Graph returns them.
_GENERATE = """
COPY (
  SELECT
    strftime(TIMESTAMP '2026-10-01' + to_seconds(i * 2592000 // $n), '%Y-%m-%dT%H:%M:%SZ')
      AS createdDateTime,
    'user' || (hash(i) % 20000) || '@contoso.example' AS userPrincipalName,
    'id-' || (hash(i) % 20000) AS userId,
    'Office 365 Exchange Online' AS appDisplayName,
    CASE WHEN i % 200000 < 40 THEN '203.0.113.' || (i % 200000)
         ELSE '20.' || (hash(i) % 30) || '.' || (hash(i + 1) % 200) || '.4' END AS ipAddress,
    CASE WHEN i % 3 = 0 THEN 'Mobile Apps and Desktop clients' ELSE 'Browser' END
      AS clientAppUsed,
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/120.0.0.0' AS userAgent,
    true AS isInteractive,
    'success' AS conditionalAccessStatus,
    {'errorCode': CASE WHEN i % 200000 < 40 OR i % 50 = 0 THEN 50126 ELSE 0 END,
     'failureReason': CASE WHEN i % 50 = 0 THEN 'Invalid username or password.' END}
      AS status,
    {'countryOrRegion': 'GB', 'city': 'London'} AS location,
    {'deviceId': '', 'operatingSystem': 'Windows10', 'browser': 'Edge 120.0.0'}
      AS deviceDetail
  FROM range($n) t(i)
) TO '{path}' (FORMAT JSON, COMPRESSION GZIP)
"""

_DETECT = """
import sys
from pathlib import Path
from mailwarden.detect import detect_files
result = detect_files([Path(sys.argv[1])])
print(result.readers[0].rows, len(result.alerts))
"""
_CEILING = """
import sys, duckdb
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
print(connection.execute("SELECT count(*) FROM read_json(?, "
                         "format='newline_delimited')", [sys.argv[1]]).fetchall()[0][0])
"""
_STORE = """
import sys, tempfile, duckdb
with tempfile.TemporaryDirectory() as work:
    connection = duckdb.connect(work + "/store.duckdb")
    for setting in ("enable_progress_bar = false", "memory_limit = '1GB'",
                    "preserve_insertion_order = false", f"temp_directory = '{work}/spill'"):
        connection.execute("SET " + setting)
    connection.execute("CREATE TABLE signins AS SELECT TRY_CAST(createdDateTime AS TIMESTAMP) "
                       "AS time, lower(userPrincipalName) AS upn, ipAddress AS ip, userAgent "
                       "AS user_agent, TRY_CAST(status.errorCode AS INTEGER) AS result_code "
                       "FROM read_json(?, format='newline_delimited', columns={"
                       "'createdDateTime': 'VARCHAR', 'userPrincipalName': 'VARCHAR', "
                       "'ipAddress': 'VARCHAR', 'userAgent': 'VARCHAR', "
                       "'status': 'STRUCT(errorCode VARCHAR)'})", [sys.argv[1]])
    print(connection.execute("SELECT count(*) FROM signins").fetchall()[0][0])
    connection.close()
"""
_FLOOR = """
import gzip, json, sys
count = 0
with gzip.open(sys.argv[1], "rt", encoding="utf-8") as handle:
    for line in handle:
        json.loads(line)
        count += 1
print(count)
"""


def generate(events: int, cache: Path) -> Path:
    """Written by a child process: Linux keeps a process's peak RSS across exec, so the
    measured children must be forked from a parent that stayed small."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"signins-{events}.jsonl.gz"
    if not path.exists():
        partial = path.with_suffix(".partial.gz")
        sql = _GENERATE.replace("{path}", str(partial).replace("'", "''"))
        subprocess.run([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(); "
                        "c.execute('SET enable_progress_bar = false'); "
                        "c.execute(sys.argv[1], {'n': int(sys.argv[2])})", sql, str(events)],
                       check=True)
        partial.rename(path)
    return path


def measure(script: str, path: Path, events: int) -> dict[str, float | str]:
    """Run `script` over the file in a child process: wall time, its own peak RSS."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", script, str(path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"benchmark step failed ({child.returncode}): {script.strip()[:60]}")
    return {"seconds": round(seconds, 2), "events_per_s": round(events / seconds),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "output": output.strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "mailwarden-bench-detect")
    args = parser.parse_args()

    started = time.perf_counter()
    path = generate(args.events, args.cache)
    generated = time.perf_counter() - started
    runs = {name: measure(script, path, args.events) for name, script in
            (("detect", _DETECT), ("duckdb_count", _CEILING), ("duckdb_store_5_fields", _STORE),
             ("python_json_loads", _FLOOR))}
    ceiling = float(runs["duckdb_count"]["seconds"])
    print(json.dumps({
        "benchmark": "detect", "events": args.events, "file_mb": round(
            path.stat().st_size / 2**20, 1), "generate_s": round(generated, 2), **runs,
        "detect_vs_ceiling": round(float(runs["detect"]["seconds"]) / ceiling, 2),
        "store_vs_ceiling": round(float(runs["duckdb_store_5_fields"]["seconds"]) / ceiling, 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
