"""Throttling, Exchange's concurrency cap, injected faults, and the request counts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mailwarden.emulator import FaultKind, TargetedFault, emulator_of
from mailwarden.m365.http import parse_retry_after
from tests.emulator.emulator_helpers import (
    EXO_SCOPE,
    GRAPH_SCOPE,
    app_for,
    bearer,
    client_for,
    run,
    tenant_id,
)

INVOKE = f"/adminapi/beta/{tenant_id()}/InvokeCommand"
ORG_CONFIG = {"CmdletInput": {"CmdletName": "Get-OrganizationConfig", "Parameters": {}}}


async def _graph_statuses(client: httpx.AsyncClient, count: int) -> list[httpx.Response]:
    headers = await bearer(client, GRAPH_SCOPE)
    return [await client.get("/v1.0/organization", headers=headers) for _ in range(count)]


def test_graph_throttles_beyond_its_burst_with_a_retry_after_the_client_can_honour() -> None:
    async def main() -> list[httpx.Response]:
        async with client_for(app_for(graph_rate=2.0, graph_burst=3)) as client:
            return await _graph_statuses(client, 5)

    answers = run(main())
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    throttled = answers[3]
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    wait = parse_retry_after(throttled.headers["Retry-After"])
    assert wait is not None and 0 < wait <= 1
    assert throttled.headers["Retry-After"] == "0.5"  # half a second at two per second


def test_batch_sub_requests_are_throttled_one_by_one() -> None:
    async def main() -> list[int]:
        async with client_for(app_for(graph_rate=1.0, graph_burst=2)) as client:
            requests = [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(4)]
            answer = await client.post("/v1.0/$batch", json={"requests": requests},
                                       headers=await bearer(client, GRAPH_SCOPE))
            return [r["status"] for r in answer.json()["responses"]]

    statuses = run(main())
    assert statuses == [200, 200, 429, 429]


def test_exchange_refuses_requests_beyond_its_concurrency_cap() -> None:
    async def main() -> list[httpx.Response]:
        async with client_for(app_for(exo_concurrency=2, exo_latency=0.05)) as client:
            headers = await bearer(client, EXO_SCOPE)
            return list(await asyncio.gather(
                *(client.post(INVOKE, json=ORG_CONFIG, headers=headers) for _ in range(5))))

    answers = run(main())
    assert sorted(a.status_code for a in answers) == [200, 200, 429, 429, 429]
    refusal = next(a for a in answers if a.status_code == 429)
    assert "maximum number of concurrent requests per tenant" in refusal.json()["error"]["message"]
    assert "Retry-After" in refusal.headers


def _fault_statuses(seed: int) -> list[Any]:
    async def main() -> list[Any]:
        outcomes: list[Any] = []
        async with client_for(app_for(fault_rate=0.3, seed=seed,
                                      fault_kinds=(FaultKind.SERVER_ERROR,))) as client:
            for answer in await _graph_statuses(client, 40):
                outcomes.append(answer.status_code)
        return outcomes

    return run(main())


def test_random_faults_repeat_for_the_same_seed_and_differ_for_another() -> None:
    first, again, other = _fault_statuses(1), _fault_statuses(1), _fault_statuses(2)
    assert first == again
    assert first != other
    assert set(first) - {200} and set(first) - {200} <= {500, 502, 503, 504}
    assert 3 <= sum(1 for s in first if s != 200) <= 20


def _targeted(kind: FaultKind, **extra: Any) -> tuple[list[Any], dict[str, Any]]:
    fault = TargetedFault(pattern=r"^graph:/v1\.0/organization", nth=2, times=2, kind=kind,
                          **extra)
    app = app_for(targeted_faults=(fault,))

    async def main() -> list[Any]:
        outcomes: list[Any] = []
        async with client_for(app) as client:
            headers = await bearer(client, GRAPH_SCOPE)
            for _ in range(4):
                try:
                    answer = await client.get("/v1.0/organization", headers=headers)
                except httpx.TransportError as exc:
                    outcomes.append(type(exc))
                else:
                    outcomes.append(answer.status_code if answer.status_code != 200 or
                                    _parses(answer) else "malformed")
        return outcomes

    return run(main()), emulator_of(app).stats.as_dict()


def _parses(answer: httpx.Response) -> bool:
    try:
        answer.json()
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        (FaultKind.SERVER_ERROR, {"status": 503}, 503),
        (FaultKind.MALFORMED, {}, "malformed"),
        (FaultKind.DROP, {}, httpx.RemoteProtocolError),
        (FaultKind.TIMEOUT, {}, httpx.ReadTimeout),
    ],
)
def test_a_targeted_fault_hits_the_nth_matching_request_and_the_next(
    kind: FaultKind, extra: dict[str, Any], expected: Any
) -> None:
    outcomes, stats = _targeted(kind, **extra)
    assert outcomes[0] == 200 and outcomes[3] == 200
    assert issubclass(outcomes[1], expected) if isinstance(expected, type) else (
        outcomes[1] == expected)
    assert stats["services"]["graph"]["faulted"] == 2


def test_a_failing_source_is_refused_every_time() -> None:
    async def main() -> list[int]:
        app = app_for(failing_sources={"exo/Get-OrganizationConfig": 403})
        async with client_for(app) as client:
            headers = await bearer(client, EXO_SCOPE)
            return [(await client.post(INVOKE, json=ORG_CONFIG, headers=headers)).status_code
                    for _ in range(3)]

    assert run(main()) == [403, 403, 403]


def test_stats_count_by_service_and_reset() -> None:
    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        async with client_for(app_for(graph_rate=1.0, graph_burst=1)) as client:
            await _graph_statuses(client, 3)
            before = (await client.get("/_emulator/stats")).json()
            assert (await client.post("/_emulator/stats/reset")).status_code == 204
            return before, (await client.get("/_emulator/stats")).json()

    before, after = run(main())
    graph = before["services"]["graph"]
    assert graph["requests"] == 3 and graph["throttled"] == 2
    assert before["services"]["login"]["requests"] == 1
    assert after["services"]["graph"]["requests"] == 0
    assert after["necessary"] == before["necessary"]


def test_exchange_can_also_have_a_rate_budget() -> None:
    async def main() -> list[httpx.Response]:
        async with client_for(app_for(exo_rate=1.0, exo_burst=2)) as client:
            headers = await bearer(client, EXO_SCOPE)
            return [await client.post(INVOKE, json=ORG_CONFIG, headers=headers)
                    for _ in range(3)]

    answers = run(main())
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "1"
