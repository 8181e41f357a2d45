"""A run paced by its rate budget (`graph_rate`, `exo_rate`) against the emulator throttling
at the same rates: collected in process through the production collector, it reads the
whole tenant and meets no 429 at all, where the same run without the budget is throttled
(and, retries running out, may lose some mailbox's answers).

The budget counts each part of a `$batch` as one request, as the emulator throttles
them: Graph evaluates each request of a JSON batch on its own against its throttling
limits (https://learn.microsoft.com/graph/throttling#throttling-and-batching)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from mailwarden.collect.live import collect_tenant
from mailwarden.emulator import emulator_of
from mailwarden.m365.http import M365Http, Service
from mailwarden.model.inventory import Snapshot
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.emulator.emulator_helpers import (
    BASE,
    app_for,
    client_for,
    run,
    settings_for,
    small,
    tenant_id,
)
from tests.support.emulator_tokens import EmulatorTokens

#: The emulated tenant's limits: Graph and Exchange token buckets, Exchange's concurrency.
LIMITS: dict[str, Any] = {"graph_rate": 150.0, "graph_burst": 20, "exo_rate": 60.0,
                          "exo_burst": 10, "exo_concurrency": 3}


def _collect(**budget: Any) -> tuple[RecordedTenant, dict[str, Any], M365Http, float]:
    app = app_for(**LIMITS, exo_retry_after=0.05)
    settings = settings_for(BASE, tenant_id(), **budget)

    async def main() -> tuple[RecordedTenant, M365Http]:
        async with client_for(app) as client:
            http = M365Http(client, EmulatorTokens(client, tenant_id()), settings)
            return await collect_tenant(http, settings), http

    started = time.monotonic()
    recorded, http = run(main())
    return recorded, emulator_of(app).stats.as_dict(), http, time.monotonic() - started


def _same_as_served(recorded: RecordedTenant) -> bool:
    def comparable(tenant: RecordedTenant) -> Snapshot:
        snapshot = snapshot_from_recorded(tenant)
        return dataclasses.replace(
            snapshot, tenant=dataclasses.replace(snapshot.tenant, collected_at=None))

    return comparable(recorded) == comparable(small().recorded)


@pytest.mark.parametrize("paced", [False, True], ids=["unpaced", "paced"])
def test_a_run_paced_at_the_tenants_rates_is_never_throttled(paced: bool) -> None:
    budget = {"graph_rate": LIMITS["graph_rate"], "graph_burst": LIMITS["graph_burst"],
              "exo_rate": LIMITS["exo_rate"], "exo_burst": LIMITS["exo_burst"]}
    recorded, stats, http, seconds = _collect(**budget if paced else {})
    graph, exchange = stats["services"]["graph"], stats["services"]["exchange"]
    # The budget held back requests and batch parts alike: Exchange's `$batch` of ten
    # InvokeCommand calls and Graph's of group members are both paced by their parts.
    assert graph["subrequests"] > LIMITS["graph_burst"]
    assert exchange["subrequests"] > LIMITS["exo_burst"]
    if paced:
        assert recorded.errors == {} and _same_as_served(recorded)
        assert (graph["throttled"], exchange["throttled"]) == (0, 0)
        assert http.counters[Service.GRAPH].throttled == 0
        assert all(budget.waited > 0 for budget in http.budgets.values())
        # What the emulator's buckets were charged took at least the rate's time to send.
        for counts, rate, burst in ((graph, LIMITS["graph_rate"], LIMITS["graph_burst"]),
                                    (exchange, LIMITS["exo_rate"], LIMITS["exo_burst"])):
            assert counts["batches"] > 0
            charged = counts["requests"] - counts["batches"] + counts["subrequests"]
            assert seconds >= (charged - burst) / rate
    else:
        assert graph["throttled"] > 0 and exchange["throttled"] > 0
        assert http.budgets == {}
