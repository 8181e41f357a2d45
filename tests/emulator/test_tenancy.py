"""One emulator serving many tenants: each request reaches the tenant it names (sign-in and
Exchange by path, Graph by the token's tenant), each tenant has its own state, throttling
and counts, tenants are built when first named, and a token of one tenant is refused on
another tenant's Exchange path."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mailwarden.emulator import (
    EmulatorConfig,
    TenantSpec,
    create_tenants_app,
    emulator_of,
    tenancy_of,
)
from mailwarden.errors import ConfigError
from mailwarden.synth import generate, tenant_identity
from mailwarden.tenant.recorded import RecordedTenant
from tests.emulator.emulator_helpers import EXO_SCOPE, GRAPH_SCOPE, client_for, collect_from, run
from tests.support.emulator_tokens import emulator_token

SEEDS = (11, 12, 13)


@functools.cache
def _recorded(seed: int) -> RecordedTenant:
    return generate(60, seed=seed).recorded


def _specs(seeds: tuple[int, ...] = SEEDS, built: list[str] | None = None) -> list[TenantSpec]:
    def builder(seed: int) -> Any:
        def build() -> RecordedTenant:
            if built is not None:
                built.append(f"tenant {seed}")
            return _recorded(seed)
        return build

    def logs(seed: int) -> Any:
        def read() -> dict[str, Any]:
            if built is not None:
                built.append(f"logs {seed}")
            return {"signIns": [{"id": f"s{seed}", "createdDateTime": "2026-11-01T00:00:00Z",
                                 "userPrincipalName": f"user{seed}@example.com"}]}
        return read

    return [TenantSpec(tenant_id=tenant_identity(s).tenant_id,
                       domains=tenant_identity(s).verified_domains, build=builder(s),
                       logs=logs(s))
            for s in seeds]


def _ids(seeds: tuple[int, ...] = SEEDS) -> list[str]:
    return [tenant_identity(s).tenant_id for s in seeds]


def _app(**config: Any) -> Starlette:
    return create_tenants_app(_specs(), config=EmulatorConfig(**config))


async def _invoke(client: httpx.AsyncClient, path_tenant: str, token: str) -> httpx.Response:
    return await client.post(f"/adminapi/beta/{path_tenant}/InvokeCommand",
                             headers={"Authorization": f"Bearer {token}"},
                             json={"CmdletInput": {"CmdletName": "Get-OrganizationConfig"}})


def test_tenants_are_built_when_a_request_names_them_and_logs_when_read() -> None:
    built: list[str] = []
    app = create_tenants_app(_specs(built=built))
    first, second, third = _ids()

    async def main() -> list[dict[str, Any]]:
        async with client_for(app) as client:
            assert tenancy_of(app).built() == {}
            await emulator_token(client, GRAPH_SCOPE, second)
            token = await emulator_token(client, GRAPH_SCOPE, third)
            assert built == ["tenant 12", "tenant 13"]
            answer = await client.get("/v1.0/auditLogs/signIns",
                                      headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
            return list(answer.json()["value"])

    assert [row["id"] for row in run(main())] == ["s13"]
    assert built == ["tenant 12", "tenant 13", "logs 13"]
    assert list(tenancy_of(app).built()) == [second, third]
    assert first not in tenancy_of(app).built()


def test_two_hundred_tenants_are_listed_without_being_built() -> None:
    built: list[str] = []
    app = create_tenants_app(_specs(tuple(range(1000, 1200)), built=built))
    assert len(tenancy_of(app).tenant_ids) == 200
    assert built == []


def test_graph_answers_from_the_tenant_the_token_was_issued_for() -> None:
    app = _app()

    async def main() -> list[str]:
        async with client_for(app) as client:
            seen = []
            for tenant in _ids():
                token = await emulator_token(client, GRAPH_SCOPE, tenant)
                answer = await client.get("/v1.0/organization",
                                          headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 200, answer.text
                seen.append(answer.json()["value"][0]["id"])
            return seen

    assert run(main()) == _ids()


def test_the_production_collector_reads_each_tenant_from_its_own_state() -> None:
    app = _app()
    for seed, tenant in zip(SEEDS[:2], _ids()[:2], strict=True):
        collected = collect_from(app, tenant)
        assert collected.data["tenant"]["tenantId"] == tenant
        own = {u["id"] for u in _recorded(seed).data["graph/users"]}
        assert {u["id"] for u in collected.data["graph/users"]} == own
        mailboxes = {m["ExchangeGuid"] for m in collected.data["exo/Get-Mailbox"]}
        assert mailboxes == {m["ExchangeGuid"] for m in _recorded(seed).data["exo/Get-Mailbox"]}


def test_a_token_of_one_tenant_is_refused_on_another_tenants_exchange_path() -> None:
    app = _app()
    first, second, _ = _ids()

    async def main() -> tuple[httpx.Response, httpx.Response]:
        async with client_for(app) as client:
            token = await emulator_token(client, EXO_SCOPE, first)
            return await _invoke(client, first, token), await _invoke(client, second, token)

    own, other = run(main())
    assert own.status_code == 200, own.text
    assert other.status_code == 401
    challenge = other.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in challenge and 'client_id="' in challenge
    assert "another tenant" in other.json()["error"]["message"]
    # The refusal is the named tenant's to count; the token's tenant answered once.
    built = tenancy_of(app).built()
    assert built[second].stats.service("exchange").refused == 1
    assert built[first].stats.service("exchange").refused == 0


def test_a_domain_names_its_tenant_unless_two_tenants_share_it() -> None:
    # Seeds 0 and 24 draw the same organisation: the domains they share name neither.
    shared = set(tenant_identity(0).verified_domains) & set(tenant_identity(24).verified_domains)
    assert shared
    app = create_tenants_app(_specs((0, 24, 2)))
    tenancy = tenancy_of(app)
    domain = next(iter(shared))
    assert tenancy.named(domain) is None
    own = tenant_identity(2)
    found = tenancy.named(own.verified_domains[0])
    assert found is not None and found.state.tenant_id == own.tenant_id


def test_a_tenant_nobody_serves_is_refused_as_the_services_refuse_it() -> None:
    app = _app()
    stranger = "5f0c7d2e-0000-4000-8000-000000000001"

    async def main() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with client_for(app) as client:
            login = await client.post(f"/{stranger}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": "app",
                "client_secret": "emulator-secret", "scope": GRAPH_SCOPE})
            token = await emulator_token(client, EXO_SCOPE, _ids()[0])
            exchange = await _invoke(client, stranger, token)
            graph = await client.get("/v1.0/users", headers={"Authorization": "Bearer a.b.c"})
            return login, exchange, graph

    login, exchange, graph = run(main())
    assert login.status_code == 400 and "AADSTS90002" in login.json()["error_description"]
    assert exchange.status_code == 400 and "could not be found" in exchange.text
    assert graph.status_code == 401
    assert stranger not in tenancy_of(app).built()
    unattributed = tenancy_of(app).nobody.stats.as_dict()["services"]
    assert unattributed["login"]["requests"] == 1
    assert unattributed["graph"]["requests"] == 1


def test_each_tenant_is_throttled_on_its_own_and_its_counts_show_it() -> None:
    app = _app(graph_rate=0.001, graph_burst=3)
    first, second, _ = _ids()

    async def main() -> dict[str, list[int]]:
        statuses: dict[str, list[int]] = {}
        async with client_for(app) as client:
            for tenant, count in ((first, 4), (second, 3)):
                token = await emulator_token(client, GRAPH_SCOPE, tenant)
                headers = {"Authorization": f"Bearer {token}"}
                statuses[tenant] = [(await client.get("/v1.0/organization", headers=headers))
                                    .status_code for _ in range(count)]
        return statuses

    statuses = run(main())
    assert statuses == {first: [200, 200, 200, 429], second: [200, 200, 200]}
    built = tenancy_of(app).built()
    assert built[first].stats.exceeded() == ("graph: 1 throttled",)
    assert built[second].stats.exceeded() == ()
    limits = built[second].stats.limits()["graph"]
    assert limits["asked"] == 3 and limits["burst"] == 3 and limits["throttled"] == 0


def test_exchange_concurrency_is_counted_per_tenant() -> None:
    app = _app(exo_concurrency=2, exo_latency=0.05)
    first, second, _ = _ids()

    async def main() -> list[int]:
        async with client_for(app) as client:
            tokens = {t: await emulator_token(client, EXO_SCOPE, t) for t in (first, second)}
            # Two at once on each tenant: four in flight, within each tenant's limit.
            answers = await asyncio.gather(*(_invoke(client, t, tokens[t])
                                             for t in (first, second, first, second)))
            return [a.status_code for a in answers]

    assert run(main()) == [200, 200, 200, 200]
    for tenant in (first, second):
        stats = tenancy_of(app).built()[tenant].stats
        assert stats.limits()["exchange"]["peak_in_flight"] == 2
        assert stats.limits()["exchange"]["concurrency"] == 2
        assert stats.exceeded() == ()

    async def too_many() -> list[int]:
        async with client_for(app) as client:
            token = await emulator_token(client, EXO_SCOPE, first)
            answers = await asyncio.gather(*(_invoke(client, first, token) for _ in range(3)))
            return sorted(a.status_code for a in answers)

    assert run(too_many()) == [200, 200, 429]
    assert tenancy_of(app).built()[first].stats.exceeded() == (
        "exchange: 1 throttled", "exchange: 3 at once, 2 allowed")


def test_the_tenants_endpoint_lists_every_tenant_and_the_built_ones_counts() -> None:
    app = _app()
    first, second, third = _ids()

    async def main() -> tuple[dict[str, Any], httpx.Response, httpx.Response]:
        async with client_for(app) as client:
            await emulator_token(client, GRAPH_SCOPE, second)
            listing = (await client.get("/_emulator/tenants")).json()
            one = await client.get(f"/_emulator/tenants/{second}/stats")
            added = await client.post(f"/_emulator/tenants/{third}/logs/signIns",
                                      json=[{"userPrincipalName": "a@b.example"}])
            return listing, one, added

    listing, one, added = run(main())
    assert [t["tenantId"] for t in listing["tenants"]] == [first, second, third]
    assert [t["built"] for t in listing["tenants"]] == [False, True, False]
    assert listing["tenants"][1]["stats"]["services"]["login"]["requests"] == 1
    assert listing["tenants"][1]["exceeded"] == []
    assert one.json()["services"]["login"]["requests"] == 1
    assert added.json() == {"added": 1}
    assert tenancy_of(app).built()[third].state.logs.count("signIns") == 2  # its own, and one


def test_one_tenant_behaves_as_it_always_did() -> None:
    app = create_tenants_app(_specs((11,)))
    assert emulator_of(app) is tenancy_of(app).primary()
    assert not tenancy_of(app).multi
    with pytest.raises(ConfigError, match="same tenant id"):
        create_tenants_app(_specs((11, 11)))
