"""The rate budget (`m365.pacing`): what a request weighs, the GCRA arithmetic on a
virtual clock, and the claim it exists for: a service whose bucket has the same rate and
burst, counting each request at any moment between its send and its answer, never
refuses what the budget let through."""

from __future__ import annotations

import asyncio
import heapq
import random

import httpx
import pytest

from mailwarden.emulator.conditions import TokenBucket
from mailwarden.m365.http import M365Http, Service
from mailwarden.m365.pacing import (
    BucketState,
    LocalBudget,
    RateBudget,
    give_back,
    rate_budget,
    request_weight,
    take,
)
from tests.m365.m365_fakes import (
    EXO,
    GRAPH,
    StaticTokens,
    VirtualTime,
    make_http,
    settings,
)


def test_a_batch_weighs_its_parts_and_anything_else_one() -> None:
    parts = {"requests": [{"id": str(i)} for i in range(20)]}
    assert request_weight("POST", "https://graph.microsoft.com/v1.0/$batch", parts) == 20
    exo = {"requests": [{"id": str(i)} for i in range(10)]}
    assert request_weight("post", "https://outlook.office365.com/adminapi/beta/t/$batch",
                          exo) == 10
    assert request_weight("GET", "https://graph.microsoft.com/v1.0/$batch", parts) == 1
    assert request_weight("POST", "https://o.test/adminapi/beta/t/InvokeCommand", parts) == 1
    assert request_weight("POST", "https://graph.microsoft.com/v1.0/$batch", {"x": 1}) == 1
    assert request_weight("POST", "https://graph.microsoft.com/v1.0/$batch",
                          {"requests": []}) == 1


def test_a_budget_needs_a_rate_and_bursts_one_second_unless_told() -> None:
    assert rate_budget(None, None) is None
    assert rate_budget(2.5, None) == RateBudget(rate=2.5, burst=3)
    assert rate_budget(0.2, None) == RateBudget(rate=0.2, burst=1)
    assert rate_budget(50, 7) == RateBudget(rate=50, burst=7)
    with pytest.raises(ValueError, match="positive rate"):
        RateBudget(rate=0, burst=1)


def test_a_full_bucket_lets_the_burst_through_then_one_per_interval() -> None:
    budget = RateBudget(rate=10, burst=3)  # one token every 0.1 s
    state = BucketState()
    for _ in range(3):
        state, wait = take(state, budget, 100.0, 1)
        assert wait == 0.0
        state = give_back(state, budget, 100.0, 1)
    unchanged, wait = take(state, budget, 100.0, 1)
    assert unchanged == state and wait == pytest.approx(0.1)
    state, wait = take(state, budget, 100.1, 1)
    assert wait == 0.0
    # Two seconds of quiet refill the bucket to its burst, not beyond.
    state = give_back(state, budget, 100.1, 1)
    for _ in range(3):
        state, wait = take(state, budget, 102.1, 1)
        assert wait == 0.0
    assert take(state, budget, 102.1, 1)[1] == pytest.approx(0.1)


def test_a_batch_takes_its_weight_and_one_heavier_than_the_burst_goes_alone() -> None:
    budget = RateBudget(rate=10, burst=10)
    state, wait = take(BucketState(), budget, 0.0, 8)
    assert wait == 0.0
    state = give_back(state, budget, 0.0, 8)
    assert take(state, budget, 0.0, 3)[1] == pytest.approx(0.1)  # two left, three asked
    state, wait = take(state, budget, 0.0, 2)
    assert wait == 0.0
    state = give_back(state, budget, 0.0, 2)
    # Twenty parts under a burst of ten: once the bucket is full, charged in full.
    assert take(state, budget, 0.5, 20)[1] == pytest.approx(0.5)
    state, wait = take(state, budget, 1.0, 20)
    assert wait == 0.0
    state = give_back(state, budget, 1.0, 20)
    assert take(state, budget, 1.0, 1)[1] == pytest.approx(1.1)  # the overdraft first


def test_requests_in_flight_count_until_answered() -> None:
    budget = RateBudget(rate=10, burst=3)
    state = BucketState()
    for _ in range(3):
        state, wait = take(state, budget, 0.0, 1)
        assert wait == 0.0
    # However long they stay unanswered, three in flight fill a burst of three.
    assert take(state, budget, 60.0, 1)[1] == pytest.approx(0.1)
    # An answer at 60 s: the service may have counted all three as late as that, so its
    # bucket may be empty then, and the next token comes an interval later.
    state = give_back(state, budget, 60.0, 1)
    assert state.in_flight == 2 and state.full_at == pytest.approx(60.3)
    assert take(state, budget, 60.0, 1)[1] == pytest.approx(0.1)
    state, wait = take(state, budget, 60.1, 1)
    assert wait == 0.0 and state.in_flight == 3


@pytest.mark.parametrize("seed", range(30))
def test_a_service_with_the_same_bucket_never_refuses_what_the_budget_let_through(
        seed: int) -> None:
    """Random clients send requests of random weights (batches among them, none heavier
    than the burst) as the budget allows; the service counts each at a random moment
    between its send and its answer, with the emulator's own token bucket of the same rate
    and burst."""
    draw = random.Random(seed)
    budget = RateBudget(rate=draw.choice([5.0, 20.0, 50.0]), burst=draw.choice([1, 4, 20, 50]))
    state, now = BucketState(), 0.0
    answers: list[tuple[float, int]] = []
    counted: list[tuple[float, int]] = []
    sent = held_back = 0
    while now < 20.0:
        while answers and answers[0][0] <= now:
            at, weight = heapq.heappop(answers)
            state = give_back(state, budget, at, weight)
        weight = draw.choice([w for w in (1, 1, 1, 2, 10, 20) if w <= budget.burst])
        state, wait = take(state, budget, now, weight)
        if wait == 0.0:
            latency = draw.expovariate(1 / draw.choice([0.01, 0.2, 1.0]))
            heapq.heappush(answers, (now + latency, weight))
            counted.append((now + draw.random() * latency, weight))
            sent += weight
        else:
            held_back += 1
        now += draw.choice([0.0, 0.0, 0.001, 0.01, 0.05, wait])
    service_now = [0.0]
    service = TokenBucket(budget.rate, budget.burst, lambda: service_now[0])
    refused = 0
    for at, weight in sorted(counted):
        service_now[0] = at
        refused += sum(1 for _ in range(weight) if service.take() > 0)
    assert held_back > 20 and sent > 2 * budget.burst  # the budget was the limit
    assert refused == 0


def test_sending_at_the_send_alone_would_be_refused() -> None:
    """The same simulation counting requests at their send but answering late shows why
    a request counts until its answer: without that, the service refuses some."""
    budget = RateBudget(rate=20.0, burst=20)
    state, now, refused = BucketState(), 0.0, 0
    service_now = [0.0]
    service = TokenBucket(budget.rate, budget.burst, lambda: service_now[0])
    counted: list[tuple[float, int]] = []
    for _ in range(200):
        state, wait = take(state, budget, now, 1)
        if wait == 0.0:
            state = give_back(state, budget, now, 1)  # forgotten at once, as if answered
            # ... but the first requests reach the service a second later, the rest at once.
            counted.append((now + (1.0 if now < 0.5 else 0.0), 1))
        now += 0.01
    for at, _ in sorted(counted):
        service_now[0] = at
        refused += service.take() > 0
    assert refused > 0


def test_a_run_takes_its_turn_in_order_and_waits_for_answers() -> None:
    time = VirtualTime(now=0.0)
    local = LocalBudget(RateBudget(rate=10, burst=2), clock=time.clock, sleep=time.sleep)
    order: list[str] = []

    async def send(name: str, weight: int, answer_after: float | None) -> None:
        await local.take(weight)
        order.append(f"{name}@{time.now:.1f}")
        if answer_after is not None:
            await asyncio.sleep(answer_after)  # real time: the virtual clock stands still
            local.give_back(weight)

    async def main() -> None:
        first = asyncio.create_task(send("a", 2, 0.05))  # fills the burst, in flight
        await asyncio.sleep(0)
        second = asyncio.create_task(send("b", 1, None))  # waits for a's answer...
        third = asyncio.create_task(send("c", 1, None))  # ... and c behind b
        await asyncio.gather(first, second, third)

    asyncio.run(main())
    # b waited for a's answer (at 0.1, after b's first wait), which may have been counted
    # then, so for a token after it; c one interval later.
    assert order == ["a@0.0", "b@0.2", "c@0.3"]
    assert local.waited >= 2 and local.state.in_flight == 2


def test_the_client_paces_a_batch_by_its_parts_before_sending() -> None:
    sent: list[tuple[str, float]] = []
    time = VirtualTime(now=0.0)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, time.now))
        if request.url.path.endswith("$batch"):
            return httpx.Response(200, json={"responses": []})
        return httpx.Response(200, json={"value": []})

    http, _, _ = make_http(handler, time=time, graph_rate=10.0, graph_burst=20)
    parts = {"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(20)]}

    async def main() -> None:
        await http.send(Service.GRAPH, "POST", f"{GRAPH}/v1.0/$batch", json_body=parts)
        await http.send(Service.GRAPH, "GET", f"{GRAPH}/v1.0/users")
        await http.send(Service.EXCHANGE, "GET", f"{EXO}/adminapi/beta/t/InvokeCommand")

    asyncio.run(main())
    # The batch took the whole burst; the next request waited a token's interval;
    # Exchange, without a budget, was not held.
    assert sent == [("/v1.0/$batch", 0.0), ("/v1.0/users", pytest.approx(0.1)),
                    ("/adminapi/beta/t/InvokeCommand", pytest.approx(0.1))]
    assert set(http.budgets) == {Service.GRAPH}
    assert http.budgets[Service.GRAPH].state.in_flight == 0


def test_shared_slots_carry_the_weight_and_the_run_keeps_no_budget_of_its_own() -> None:
    calls: list[tuple[str, Service, int]] = []

    class Shared:
        async def acquire(self, service: Service, weight: int = 1) -> None:
            calls.append(("acquire", service, weight))

        async def release(self, service: Service, weight: int = 1) -> None:
            calls.append(("release", service, weight))

        def pause(self, service: Service, seconds: float) -> None:
            calls.append(("pause", service, int(seconds)))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"responses": []})

    time = VirtualTime(now=0.0)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    http = M365Http(client, StaticTokens(), settings(graph_rate=1.0, graph_burst=1),
                    shared=Shared(), sleep=time.sleep, clock=time.clock)
    parts = {"requests": [{"id": str(i)} for i in range(7)]}
    asyncio.run(http.send(Service.GRAPH, "POST", f"{GRAPH}/v1.0/$batch", json_body=parts))
    assert http.budgets == {} and time.sleeps == []
    assert calls == [("acquire", Service.GRAPH, 7), ("release", Service.GRAPH, 7)]
