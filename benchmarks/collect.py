"""Time `collect` against the emulator on loopback, with real latency and throttling,
next to the naive sequential baseline; prints one JSON line.

    python benchmarks/collect.py                          # large tenant (~50,000 users)
    python benchmarks/collect.py --size medium            # quicker
    python benchmarks/collect.py --skip-baseline          # the fast collector only

The emulator answers Graph after 50 ms and Exchange after 150 ms per request, throttles
Graph with a token bucket (429 + Retry-After) and refuses Exchange requests beyond its
per-tenant concurrency, as the services do. Both runs use MSAL, the one HTTP client and
the same tenant. The lower bound is the emulator's count of necessary requests, divided
by the concurrency each service allows, times its latency (the larger of the two
services, which are read in parallel).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from typing import Any

from mailwarden.collect.live import collect_live
from mailwarden.collect.parse import snapshot_from_recorded
from mailwarden.collect.recorded import RecordedTenant
from mailwarden.emulator.config import DEFAULT_CLIENT_SECRET, EmulatorConfig
from mailwarden.emulator.serve import Served, serve_in_thread
from mailwarden.emulator.synth import generate
from mailwarden.m365.auth import secret_token_source
from mailwarden.settings import SECRET_ENV, CollectMode, Settings


def settings_for(served: Served, tenant_id: str, mode: CollectMode, exo: int) -> Settings:
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
    served: Served, settings: Settings
) -> tuple[RecordedTenant, float, dict[str, Any]]:
    tokens = secret_token_source(settings, env={SECRET_ENV: DEFAULT_CLIENT_SECRET})
    served.stats.reset()
    started = time.perf_counter()
    recorded = collect_live(settings, tokens=tokens)
    seconds = time.perf_counter() - started
    services = served.stats.as_dict()["services"]
    return recorded, seconds, services


def lower_bound(necessary: dict[str, int], config: EmulatorConfig, graph_concurrency: int) -> float:
    exo_concurrency = config.exo_concurrency or 1
    graph = necessary["graph"] / graph_concurrency * config.graph_latency
    if config.graph_rate:
        graph = max(graph, (necessary["graph"] - config.graph_burst) / config.graph_rate)
    exchange = necessary["exchange"] / exo_concurrency * config.exo_latency
    return max(graph, exchange) + necessary["login"] * config.login_latency


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--graph-latency", type=float, default=0.050)
    parser.add_argument("--exo-latency", type=float, default=0.150)
    parser.add_argument("--graph-rate", type=float, default=40.0, help="Graph requests/s")
    parser.add_argument("--graph-burst", type=int, default=40)
    parser.add_argument("--exo-concurrency", type=int, default=3, help="per tenant")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    synthetic = generate(args.size, seed=args.seed)
    tenant_id = str(synthetic.recorded.data["tenant"]["tenantId"])
    expected = snapshot_from_recorded(synthetic.recorded)
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
    with serve_in_thread(synthetic.recorded, config=config) as served:
        necessary = dict(served.stats.necessary)
        fast = settings_for(served, tenant_id, CollectMode.FAST, args.exo_concurrency)
        recorded, seconds, services = timed_collect(served, fast)
        if recorded.errors:
            raise SystemExit(f"collect failed sources: {recorded.errors}")
        same = snapshot_from_recorded(recorded)
        line["collected_equals_served"] = (
            same.accounts == expected.accounts and same.mailboxes == expected.mailboxes
        )
        bound = lower_bound(necessary, config, fast.graph_concurrency)
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
    line["python"] = platform.python_version()
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
