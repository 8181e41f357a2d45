"""A sign-in log far larger than its records would be as Python objects streams through
`detect` in bounded memory: every row read, none lost, peak memory a fraction of the
file's decompressed size."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

EVENTS = 1_000_000
#: 527 MB of JSON decompressed (17 MB gzip); as json.loads dicts it would take several GB.
PEAK_LIMIT_MB = 700  # measured: about 320 MB

# The child's own peak: Linux keeps ru_maxrss across fork and execve, so a child of a test
# worker that once held 2 GB would report 2 GB; VmHWM belongs to the new address space.
_CHILD = """
import json, resource, sys
from pathlib import Path
from mailwarden.detect import DetectOptions, detect_files
result = detect_files([Path(sys.argv[1])], options=DetectOptions(memory_limit="256MB"))
report = result.readers[0]
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
status = Path("/proc/self/status")
if status.is_file():
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_kb = int(line.split()[1])
print(json.dumps({"rows": report.rows, "bad": report.bad_rows, "error": report.error,
                  "peak_mb": peak_kb / 1024}))
"""


def benchmark_module() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "detect.py"
    spec = importlib.util.spec_from_file_location("detect_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_million_sign_ins_stream_through_in_bounded_memory(tmp_path: Path) -> None:
    path = benchmark_module().generate(EVENTS, tmp_path)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["error"] is None
    assert figures["rows"] == EVENTS and figures["bad"] == 0
    assert figures["peak_mb"] < PEAK_LIMIT_MB, figures
