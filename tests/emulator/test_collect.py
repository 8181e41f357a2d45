"""The live collector end to end against the emulator in process: what it records must
parse to the same snapshot as the tenant the emulator serves, with or without trouble."""

from __future__ import annotations

import dataclasses
from typing import Any

from mailwarden.collect.live import collect_tenant
from mailwarden.emulator import FaultKind, emulator_of, necessary_requests
from mailwarden.m365.http import M365Http
from mailwarden.model.inventory import Snapshot
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.emulator.emulator_helpers import (
    BASE,
    app_for,
    client_for,
    collect_from,
    run,
    settings_for,
    small,
)
from tests.support.emulator_tokens import EmulatorTokens


def _collect(**config: Any) -> tuple[RecordedTenant, dict[str, Any]]:
    app = app_for(**config)
    tenant = str(small().recorded.data["tenant"]["tenantId"])
    recorded = collect_from(app, tenant)
    return recorded, emulator_of(app).stats.as_dict()


def _comparable(recorded: RecordedTenant) -> Snapshot:
    snapshot = snapshot_from_recorded(recorded)
    return dataclasses.replace(snapshot,
                               tenant=dataclasses.replace(snapshot.tenant, collected_at=None))


def _differences(left: Snapshot, right: Snapshot) -> list[str]:
    return [f.name for f in dataclasses.fields(Snapshot)
            if getattr(left, f.name) != getattr(right, f.name)]


def test_a_collection_equals_the_served_tenant_at_exactly_the_necessary_cost() -> None:
    recorded, stats = _collect()
    assert recorded.errors == {}
    assert _differences(_comparable(recorded), _comparable(small().recorded)) == []
    services = stats["services"]
    necessary = necessary_requests(small().recorded)
    assert services["graph"]["requests"] == necessary["graph"]
    assert services["exchange"]["requests"] == necessary["exchange"]
    assert services["login"]["requests"] == necessary["login"] == 2


def test_faults_and_throttling_cost_retries_but_change_nothing() -> None:
    recorded, stats = _collect(fault_rate=0.1, seed=11, graph_rate=200.0, graph_burst=8,
                               exo_concurrency=2, exo_retry_after=0.05, fault_retry_after=0.05)
    assert recorded.errors == {}
    assert _differences(_comparable(recorded), _comparable(small().recorded)) == []
    graph, exchange = stats["services"]["graph"], stats["services"]["exchange"]
    assert graph["throttled"] > 0 and graph["faulted"] + exchange["faulted"] > 0
    necessary = stats["necessary"]
    assert graph["requests"] + exchange["requests"] > necessary["graph"] + necessary["exchange"]


def test_every_fault_kind_is_survived() -> None:
    for kind in FaultKind:
        recorded, _ = _collect(fault_rate=0.15, seed=5, fault_kinds=(kind,),
                               fault_retry_after=0.05)
        assert recorded.errors == {}, kind
        assert _differences(_comparable(recorded), _comparable(small().recorded)) == [], kind


def test_a_permanently_failing_source_is_recorded_as_failed_and_the_rest_are_equal() -> None:
    recorded, _ = _collect(failing_sources={"graph/conditionalAccessPolicies": 403,
                                            "exo/Get-InboxRule": 500})
    assert set(recorded.errors) == {"graph/conditionalAccessPolicies", "exo/Get-InboxRule"}
    assert "Policy.Read.All" in recorded.errors["graph/conditionalAccessPolicies"]
    expected = dict(small().recorded.data)
    for source in recorded.errors:
        expected.pop(source)
    served = RecordedTenant(data=expected, errors=dict(recorded.errors))
    assert _differences(_comparable(recorded), _comparable(served)) == []


def test_a_tenant_missing_a_source_is_collected_missing_it() -> None:
    data = {k: v for k, v in small().recorded.data.items() if k != "graph/settings"}
    app_tenant = RecordedTenant(data=data, errors={})
    app = app_for(app_tenant)
    tenant = str(data["tenant"]["tenantId"])
    settings = settings_for(BASE, tenant)

    async def main() -> RecordedTenant:
        async with client_for(app) as client:
            return await collect_tenant(M365Http(client, EmulatorTokens(client, tenant), settings),
                                        settings)

    recorded = run(main())
    assert set(recorded.errors) == {"graph/settings"}
