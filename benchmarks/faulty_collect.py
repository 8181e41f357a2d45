"""`mailwarden collect` against an emulator that fails and throttles requests, as a user
runs it, next to the same collect without faults; prints one JSON line.

    python benchmarks/faulty_collect.py                     # medium tenant, seed 1
    python benchmarks/faulty_collect.py --runs 2 --max-attempts 2
    python benchmarks/faulty_collect.py --size small        # quicker

Every run starts `mailwarden emulator --synthetic SIZE --seed SEED --throttle` as a process
(the faulty ones with `--faults 0.3`: 5xx answers, timeouts, dropped connections and
truncated pages, each `$batch` sub-request failing on its own too) and runs
`mailwarden collect` as another process, one after the other: `--runs` faulty runs with
default settings (six attempts a request), one more with `[retry] max_attempts` from
`--max-attempts` in a settings file when given (more requests then fail for good), and
one without faults. Which request meets a fault is fixed by the seed and how many requests
its route had before, but which call those requests carry depends on how the concurrent
requests interleave, so faulty runs differ. Each run reports its wall time, exit code, the
sources collected and failed, the mailboxes whose per-mailbox calls failed (those whose
whole `$batch` request failed among them), and the emulator's counts of what it served.
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from mailwarden.emulator.config import DEFAULT_CLIENT_SECRET
from mailwarden.synth import generate
from mailwarden.tenant.recorded import ALL_SOURCES, ERRORS_FILE, MAILBOXES_KEY

#: A collect still running after this long is reported as stuck (exit code None).
COLLECT_LIMIT = 3 * 60 * 60.0


@contextmanager
def emulator(options: list[str], ca_file: Path) -> Iterator[str]:
    """`mailwarden emulator OPTIONS` as a process; yields the base URL it prints first."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mailwarden", "emulator", *options, "--port", "0",
         "--ca-out", str(ca_file)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 600)
        base_url = process.stdout.readline().strip() if ready else ""
        if not base_url.startswith("https://"):
            raise SystemExit(f"the emulator did not start (printed {base_url!r})")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stats(base_url: str, ca_file: Path) -> dict[str, Any]:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca_file))) as client:
        answer: dict[str, Any] = client.get(f"{base_url}/_emulator/stats").json()
        return answer


def collect(base_url: str, ca_file: Path, tenant_id: str, out: Path,
            config: Path | None) -> dict[str, Any]:
    """Run `mailwarden collect` as a process and read what it wrote."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["MAILWARDEN_CLIENT_SECRET"] = DEFAULT_CLIENT_SECRET
    env["NO_PROXY"] = "127.0.0.1"
    command = [sys.executable, "-m", "mailwarden", "collect", "--out", str(out),
               "--tenant", tenant_id, "--client-id", "benchmark", "--login-url", base_url,
               "--graph-url", base_url, "--exo-url", base_url, "--ca-bundle", str(ca_file),
               "--quiet", *(["--config", str(config)] if config else [])]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                              timeout=COLLECT_LIMIT)
        exit_code: int | None = done.returncode
        stderr = done.stderr
    except subprocess.TimeoutExpired:
        exit_code, stderr = None, "stuck"
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"wall_s": round(seconds, 1), "exit_code": exit_code,
                              "wrote_tenant": (out / "tenant.json").is_file()}
    if "Traceback" in stderr:
        result["traceback"] = stderr[-2000:]
    errors_path = out / ERRORS_FILE
    errors: dict[str, Any] = (json.loads(errors_path.read_text(encoding="utf-8"))
                              if errors_path.is_file() else {})
    failed = sorted(s for s, e in errors.items() if isinstance(e, dict) and "error" in e)
    written = [s for s in ALL_SOURCES if (out / f"{s}.json").is_file()]
    per_mailbox = {s: e[MAILBOXES_KEY] for s, e in errors.items()
                   if isinstance(e, dict) and MAILBOXES_KEY in e}
    mailboxes = {key for failures in per_mailbox.values() for key in failures}
    in_failed_batch = {key for failures in per_mailbox.values()
                       for key, why in failures.items() if "$batch" in why}
    result.update({
        "sources_collected": len(written),
        "sources_failed": failed,
        "sources_missing": sorted(set(ALL_SOURCES) - set(written) - set(errors)),
        "mailboxes_with_failed_calls": len(mailboxes),
        "of_them_in_a_failed_batch": len(in_failed_batch),
        "failed_calls_by_source": {s: len(f) for s, f in sorted(per_mailbox.items())},
    })
    return result


def run_one(args: argparse.Namespace, faults: float, scratch: Path, tenant_id: str,
            label: str, max_attempts: int | None = None) -> dict[str, Any]:
    ca_file = scratch / f"{label}-ca.pem"
    options = ["--synthetic", args.size, "--seed", str(args.seed), "--throttle"]
    if faults:
        options += ["--faults", str(faults)]
    config = None
    if max_attempts is not None:
        config = scratch / f"{label}.toml"
        config.write_text(f"[retry]\nmax_attempts = {max_attempts}\n", encoding="utf-8")
    with emulator(options, ca_file) as base_url:
        result = collect(base_url, ca_file, tenant_id, scratch / label, config)
        services = stats(base_url, ca_file)["services"]
    if max_attempts is not None:
        result["max_attempts"] = max_attempts
    result["emulator"] = {name: {k: v for k, v in counts.items() if v}
                          for name, counts in services.items() if name != "login"}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=1, help="faulty runs, default settings")
    parser.add_argument("--max-attempts", type=int, default=None,
                        help="one more faulty run with this many attempts a request")
    args = parser.parse_args()

    synthetic = generate(args.size, seed=args.seed)
    tenant_id = str(synthetic.recorded.data["tenant"]["tenantId"])
    line: dict[str, Any] = {
        "benchmark": "faulty_collect",
        "size": args.size,
        "seed": args.seed,
        "faults": args.faults,
        "mailboxes": len(synthetic.recorded.data["exo/Get-Mailbox"]),
        "sources": len(ALL_SOURCES),
    }
    with tempfile.TemporaryDirectory(prefix="mailwarden-bench-") as directory:
        scratch = Path(directory)
        faulty = [run_one(args, args.faults, scratch, tenant_id, f"faulty-{n}")
                  for n in range(1, args.runs + 1)]
        if args.max_attempts is not None:
            faulty.append(run_one(args, args.faults, scratch, tenant_id, "faulty-attempts",
                                  args.max_attempts))
        clean = run_one(args, 0.0, scratch, tenant_id, "clean")
    line["faulty"] = faulty
    line["clean"] = clean
    line["faulty_vs_clean"] = [round(run["wall_s"] / clean["wall_s"], 1) for run in faulty]
    line["python"] = platform.python_version()
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
