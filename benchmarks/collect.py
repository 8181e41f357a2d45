"""Time `collect` against the emulator on loopback, with real latency and throttling,
next to the naive sequential baseline; prints one JSON line.

    python benchmarks/collect.py                          # large tenant (~50,000 users)
    python benchmarks/collect.py --size medium            # quicker
    python benchmarks/collect.py --skip-baseline          # the fast collector only

The emulator answers Graph after 50 ms and Exchange after 150 ms per request, throttles
Graph with a token bucket (100 requests/s, each `$batch` sub-request counted, 429 +
Retry-After) and refuses Exchange requests beyond its per-tenant concurrency (3), as the
services do. Both runs use MSAL, the one HTTP client and the same tenant. The emulator
runs in a process of its own, so its work does not compete with the collector's for the
interpreter. The lower bound is the emulator's count of necessary requests, divided by
the concurrency each service allows, times its latency (the larger of the two services,
which are read in parallel; for Graph also its rate limit over the sub-requests).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import ssl
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mailwarden.emulator.config import DEFAULT_CLIENT_SECRET, EmulatorConfig
from mailwarden.emulator.necessary import DIRECTORY_PAGE, GRAPH_BATCH_LIMIT, batches, pages
from mailwarden.emulator.serve import run
from mailwarden.m365.auth import secret_token_source
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import collect_live_tenant
from mailwarden.settings import SECRET_ENV, CollectMode, Settings
from mailwarden.synth import generate
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded


@dataclass(frozen=True, slots=True)
class Emulator:
    base_url: str
    ca_file: Path

    def stats(self) -> dict[str, Any]:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca_file))) as c:
            answer: dict[str, Any] = c.get(f"{self.base_url}/_emulator/stats").json()
            return answer

    def reset(self) -> None:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca_file))) as c:
            c.post(f"{self.base_url}/_emulator/stats/reset").raise_for_status()


def serve_child(size: str, seed: int, config: EmulatorConfig, ca_out: str, ready: Any) -> None:
    run(generate(size, seed=seed).recorded, config=config, ca_out=Path(ca_out),
        on_ready=ready.put)


def settings_for(served: Emulator, tenant_id: str, mode: CollectMode, exo: int) -> Settings:
    return Settings(
        tenant=tenant_id,
        client_id="benchmark",
        login_url=served.base_url,
        graph_url=served.base_url,
        exo_url=served.base_url,
        ca_bundle=served.ca_file,
        collect_mode=mode,
        exo_concurrency=exo,
    )


def timed_collect(
    served: Emulator, settings: Settings
) -> tuple[RecordedTenant, float, dict[str, Any]]:
    tokens = secret_token_source(settings, env={SECRET_ENV: DEFAULT_CLIENT_SECRET})
    served.reset()
    started = time.perf_counter()
    with M365Session(settings, tokens=tokens) as session:
        recorded = collect_live_tenant(session)
    seconds = time.perf_counter() - started
    services: dict[str, Any] = served.stats()["services"]
    return recorded, seconds, services


def member_units(recorded: RecordedTenant) -> tuple[int, int]:
    """(sub-requests, `$batch` requests) that reading every group's members needs."""
    members = recorded.data.get("graph/groupMembers") or {}
    depths = [pages(len(rows), DIRECTORY_PAGE) for rows in members.values()]
    return sum(depths), batches(depths, GRAPH_BATCH_LIMIT)


def lower_bound(
    necessary: dict[str, int],
    config: EmulatorConfig,
    graph_concurrency: int,
    recorded: RecordedTenant,
) -> float:
    """Graph charges its throttling bucket per sub-request of a batch, so its rate bound
    counts the member sub-requests instead of the batches that carry them."""
    exo_concurrency = config.exo_concurrency or 1
    graph = necessary["graph"] / graph_concurrency * config.graph_latency
    if config.graph_rate:
        subrequests, carriers = member_units(recorded)
        units = necessary["graph"] - carriers + subrequests
        graph = max(graph, (units - config.graph_burst) / config.graph_rate)
    exchange = necessary["exchange"] / exo_concurrency * config.exo_latency
    return max(graph, exchange) + necessary["login"] * config.login_latency


def measure(
    served: Emulator,
    args: argparse.Namespace,
    recorded: RecordedTenant,
    config: EmulatorConfig,
    line: dict[str, Any],
) -> None:
    tenant_id = str(recorded.data["tenant"]["tenantId"])
    expected = snapshot_from_recorded(recorded)
    necessary = dict(served.stats()["necessary"])
    fast = settings_for(served, tenant_id, CollectMode.FAST, args.exo_concurrency)
    collected, seconds, services = timed_collect(served, fast)
    if collected.errors:
        raise SystemExit(f"collect failed sources: {collected.errors}")
    same = snapshot_from_recorded(collected)
    line["collected_equals_served"] = (
        same.accounts == expected.accounts and same.mailboxes == expected.mailboxes
        and same.service_principals == expected.service_principals
        and same.app_role_assignments == expected.app_role_assignments
        and same.application_access_policies == expected.application_access_policies
        and same.management_role_assignments == expected.management_role_assignments
        and same.organization_config == expected.organization_config
    )
    bound = lower_bound(necessary, config, fast.graph_concurrency, recorded)
    line.update({
        "collect_s": round(seconds, 2),
        "lower_bound_s": round(bound, 2),
        "collect_vs_lower_bound": round(seconds / bound, 2),
        "necessary_requests": necessary,
        "collect_requests": services,
    })
    if not args.skip_baseline:
        naive = settings_for(served, tenant_id, CollectMode.SEQUENTIAL, args.exo_concurrency)
        _, baseline, baseline_services = timed_collect(served, naive)
        line.update({
            "baseline_s": round(baseline, 2),
            "baseline_requests": baseline_services,
            "speedup_vs_baseline": round(baseline / seconds, 1),
        })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--graph-latency", type=float, default=0.050)
    parser.add_argument("--exo-latency", type=float, default=0.150)
    parser.add_argument("--graph-rate", type=float, default=100.0, help="Graph requests/s")
    parser.add_argument("--graph-burst", type=int, default=100)
    parser.add_argument("--exo-concurrency", type=int, default=3, help="per tenant")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    synthetic = generate(args.size, seed=args.seed)
    config = EmulatorConfig(
        graph_latency=args.graph_latency,
        exo_latency=args.exo_latency,
        graph_rate=args.graph_rate,
        graph_burst=args.graph_burst,
        exo_concurrency=args.exo_concurrency,
        seed=args.seed,
    )
    line: dict[str, Any] = {
        "benchmark": "collect",
        "size": args.size,
        "seed": args.seed,
        "users": len(synthetic.recorded.data["graph/users"]),
        "mailboxes": len(synthetic.recorded.data["exo/Get-Mailbox"]),
        "latency_ms": {"graph": args.graph_latency * 1000, "exchange": args.exo_latency * 1000},
        "graph_rate_per_s": args.graph_rate,
        "exo_concurrency": args.exo_concurrency,
    }
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    with tempfile.TemporaryDirectory(prefix="mailwarden-bench-") as scratch:
        ca_file = Path(scratch) / "ca.pem"
        child = context.Process(
            target=serve_child, args=(args.size, args.seed, config, str(ca_file), ready),
            daemon=True,
        )
        child.start()
        try:
            served = Emulator(base_url=ready.get(timeout=600), ca_file=ca_file)
            measure(served, args, synthetic.recorded, config, line)
        finally:
            child.terminate()
            child.join(timeout=10)
    line["python"] = platform.python_version()
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
