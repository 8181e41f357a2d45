"""Each tenant's rate budget in Redis (`fleet.rate`), shared by every worker: it takes a
burst then answers how long to wait, counts requests until they are answered (or their
lease ends), leaves no key behind once idle, and two clients sharing it never send more
than rate x t + burst together; `RedisTenantSlots` waits what it answers, within its
deadline."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from mailwarden.errors import RetriesExhaustedError
from mailwarden.fleet.limits import ScriptedRedisBackend, TenantLimiter, TenantLimits
from mailwarden.fleet.rate import SharedRateBudgets
from mailwarden.fleet.shared import RedisTenantSlots
from mailwarden.m365.http import Service
from mailwarden.m365.pacing import RateBudget
from tests.fleet.redis_support import own_namespace, redis_url

TENANT = "Tenant-A"


@pytest.fixture
def shared() -> Iterator[tuple[redis.Redis, str]]:
    client = redis.Redis.from_url(redis_url())
    for namespace in own_namespace(client):
        yield client, namespace
    client.close()


def _holder() -> str:
    return uuid.uuid4().hex


def test_a_burst_is_taken_then_the_budget_says_how_long_to_wait(
        shared: tuple[redis.Redis, str]) -> None:
    client, namespace = shared
    budgets = SharedRateBudgets(client, key_prefix=namespace, lease_ms=60_000)
    budget = RateBudget(rate=10, burst=3)
    holders = [_holder() for _ in range(3)]
    assert [budgets.take(TENANT, "graph", budget, 1, h) for h in holders] == [(0.0, False)] * 3
    key = budgets.key(TENANT, "graph")
    assert key == f"{namespace}:tenant-a:graph"
    assert 59_000 < client.pttl(key) <= 60_000  # kept while requests are in flight
    wait, answers = budgets.take(TENANT, "graph", budget, 1, _holder())
    assert 0.05 < wait <= 0.1 and not answers  # the next token, a tenth of a second on
    assert client.hlen(key) == 4  # full_at and the three in flight; nothing for the refused
    for holder in holders:
        budgets.give_back(TENANT, "graph", budget, 1, holder)
    assert client.hkeys(key) == [b"full_at"]
    assert 0 < client.pttl(key) <= 400  # until the bucket is full again
    time.sleep(0.45)
    assert not client.exists(key)  # an idle tenant leaves nothing behind
    assert budgets.take(TENANT, "graph", budget, 3, _holder()) == (0.0, False)


def test_requests_in_flight_hold_the_budget_until_answered_or_their_lease_ends(
        shared: tuple[redis.Redis, str]) -> None:
    client, namespace = shared
    budget = RateBudget(rate=1000, burst=2)
    budgets = SharedRateBudgets(client, key_prefix=namespace, lease_ms=300)
    first, second = _holder(), _holder()
    assert budgets.take(TENANT, "exchange", budget, 2, first) == (0.0, False)
    time.sleep(0.05)  # time enough for the tokens: only the answer is missing
    wait, answers = budgets.take(TENANT, "exchange", budget, 1, second)
    assert wait > 0 and answers
    budgets.give_back(TENANT, "exchange", budget, 2, first)
    time.sleep(0.005)
    assert budgets.take(TENANT, "exchange", budget, 1, second) == (0.0, False)
    # A worker that died holding a request: it counts until its lease ends, not forever.
    time.sleep(0.01)
    assert budgets.take(TENANT, "exchange", budget, 1, _holder()) == (0.0, False)
    time.sleep(0.01)
    assert budgets.take(TENANT, "exchange", budget, 1, _holder()) == (0.001, True)  # all out
    time.sleep(0.35)
    assert budgets.take(TENANT, "exchange", budget, 2, _holder()) == (0.0, False)


def test_two_clients_sharing_a_budget_never_exceed_rate_times_t_plus_burst(
        shared: tuple[redis.Redis, str]) -> None:
    _, namespace = shared
    budget = RateBudget(rate=200, burst=20)
    lock = threading.Lock()
    sent: list[tuple[float, float, int]] = []  # (before, after, weight) of each take
    run_for = 1.5

    def client(seed: int) -> None:
        draw = random.Random(seed)
        connection = redis.Redis.from_url(redis_url())
        budgets = SharedRateBudgets(connection, key_prefix=namespace, lease_ms=10_000)
        started = time.monotonic()
        while time.monotonic() - started < run_for:
            weight, holder = draw.choice([1, 1, 2, 5, 10]), _holder()
            before = time.monotonic()
            wait, _ = budgets.take(TENANT, "graph", budget, weight, holder)
            after = time.monotonic()
            if wait == 0.0:
                with lock:
                    sent.append((before, after, weight))
                time.sleep(draw.choice([0.0, 0.001, 0.005]))  # the request in flight
                budgets.give_back(TENANT, "graph", budget, weight, holder)
            else:
                time.sleep(min(wait, 0.002))
        connection.close()

    threads = [threading.Thread(target=client, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    total = sum(weight for _, _, weight in sent)
    # The budget, not the clients, was the limit: they asked far more than it allows.
    assert total >= 0.8 * budget.rate * run_for
    # Every stretch of sends, from the first's ask to the last's answer (the Redis
    # server's own moment of each take lies in between), holds no more than the budget.
    for i in range(len(sent)):
        weight = 0
        for j in range(i, len(sent)):
            weight += sent[j][2]
            allowed = budget.rate * (sent[j][1] - sent[i][0]) + budget.burst
            assert weight <= allowed, (i, j, weight, allowed)


def _slots(client: redis.Redis, namespace: str, *, rate: RateBudget,
           wait: float = 300.0) -> RedisTenantSlots:
    limiter = TenantLimiter(ScriptedRedisBackend(client), TenantLimits(graph_rate=rate),
                            key_prefix=f"{namespace}:concurrency")
    return RedisTenantSlots(limiter, client, TENANT, pause_prefix=f"{namespace}:pause",
                            rate_prefix=f"{namespace}:rate", wait=wait)


def test_the_tenants_slots_wait_for_the_budget_and_give_back_what_they_took(
        shared: tuple[redis.Redis, str]) -> None:
    client, namespace = shared
    slots = _slots(client, namespace, rate=RateBudget(rate=20, burst=20))
    other_worker = _slots(client, namespace, rate=RateBudget(rate=20, burst=20))

    async def main() -> float:
        await slots.acquire(Service.GRAPH, 20)  # a full batch: the whole burst
        await slots.release(Service.GRAPH, 20)
        started = time.monotonic()
        await other_worker.acquire(Service.GRAPH, 4)  # four tokens: 0.2 s on
        waited = time.monotonic() - started
        await other_worker.release(Service.GRAPH, 4)
        await slots.acquire(Service.EXCHANGE)  # Exchange has no budget here
        await slots.release(Service.EXCHANGE)
        return waited

    waited = asyncio.run(main())
    assert 0.15 < waited < 1.0 and other_worker.paced >= 1
    key = f"{namespace}:rate:{TENANT.lower()}:graph"
    assert client.hkeys(key) == [b"full_at"]  # nothing left in flight
    assert not client.exists(f"{namespace}:rate:{TENANT.lower()}:exchange")


def test_a_budget_that_keeps_a_request_waiting_past_the_deadline_fails_it_as_throttled(
        shared: tuple[redis.Redis, str]) -> None:
    client, namespace = shared
    budget = RateBudget(rate=1, burst=1)
    busy = _slots(client, namespace, rate=budget)
    impatient = _slots(client, namespace, rate=budget, wait=0.3)

    async def main() -> None:
        await busy.acquire(Service.GRAPH)
        await busy.release(Service.GRAPH)  # the next token comes in a second
        await impatient.acquire(Service.GRAPH)

    with pytest.raises(RetriesExhaustedError, match=r"rate budget of tenant tenant-a \(1 "):
        asyncio.run(main())
    # The slot it held while it waited was given back.
    assert int(client.get(f"{namespace}:concurrency:tenant-a:graph") or 0) == 0
