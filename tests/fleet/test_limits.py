"""Per-tenant concurrency shared by every worker: never more than a tenant's limit at once,
each tenant counted on its own; on Dramatiq's stub backend always, and on Redis through
the multi-tenant emulator, whose counts show no tenant's Exchange limit was exceeded."""

from __future__ import annotations

import functools
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import redis
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from mailwarden.emulator import EmulatorConfig, TenantSpec, create_tenants_app, serve_in_thread
from mailwarden.emulator.tenancy import tenancy_of
from mailwarden.errors import ServiceError
from mailwarden.fleet.limits import ScriptedRedisBackend, TenantLimiter, TenantLimits
from mailwarden.synth import generate, tenant_identity
from tests.fleet.redis_support import own_namespace, redis_url

A, B = "tenant-a", "tenant-b"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_tenant_has_its_limit_and_no_more_and_tenants_are_apart() -> None:
    limiter = TenantLimiter(StubBackend(), TenantLimits(exchange=2, graph=1))
    with limiter.try_hold(A, "exchange") as first, limiter.try_hold(A, "exchange") as second:
        with limiter.try_hold(A, "exchange") as third, limiter.try_hold(B, "exchange") as other:
            assert (first, second, third, other) == (True, True, False, True)
        with limiter.try_hold(A, "graph") as graph:
            assert graph  # each service has its own count
    with limiter.try_hold(A, "exchange") as again:
        assert again  # released on leaving


def test_hold_waits_for_a_slot_then_gives_up_saying_why() -> None:
    clock = Clock()
    limiter = TenantLimiter(StubBackend(), TenantLimits(exchange=1), clock=clock,
                            sleep=clock.sleep)
    with (limiter.hold(A, "exchange"), pytest.raises(ServiceError, match="stayed taken"),
          limiter.hold(A, "exchange", wait=3.0)):
        pass
    assert clock.sleeps[:4] == [0.05, 0.1, 0.2, 0.4] and max(clock.sleeps) == 1.0
    with limiter.hold(A, "exchange", wait=0):
        pass  # free again once the first holder left


@pytest.fixture
def redis_backend() -> Iterator[tuple[RedisBackend, str]]:
    client = redis.Redis.from_url(redis_url())
    for namespace in own_namespace(client):
        yield ScriptedRedisBackend(client), namespace
    client.close()


@pytest.mark.parametrize("scripted", [False, True], ids=["dramatiq", "scripted"])
def test_the_scripted_backend_counts_as_dramatiqs_own(
        redis_backend: tuple[RedisBackend, str], scripted: bool) -> None:
    backend, namespace = redis_backend
    if not scripted:
        backend = RedisBackend(client=backend.client)
    key = f"{namespace}:counter"
    assert backend.add(key, 1, ttl=60_000)
    assert backend.incr(key, 1, maximum=2, ttl=60_000)
    assert not backend.incr(key, 1, maximum=2, ttl=60_000)  # would pass the maximum
    assert int(backend.client.get(key)) == 2
    assert 0 < backend.client.pttl(key) <= 60_000
    assert backend.decr(key, 1, minimum=0, ttl=30_000)
    assert backend.decr(key, 1, minimum=0, ttl=30_000)
    assert not backend.decr(key, 1, minimum=0, ttl=30_000)  # never below the minimum
    assert int(backend.client.get(key)) == 0 and backend.client.pttl(key) <= 30_000


@functools.cache
def _tenant(seed: int) -> Any:
    return generate(60, seed=seed).recorded


def test_workers_sharing_redis_keep_every_tenant_within_its_exchange_limit(
        redis_backend: tuple[RedisBackend, str]) -> None:
    backend, namespace = redis_backend
    seeds = (21, 22)
    specs = [TenantSpec(tenant_id=tenant_identity(s).tenant_id,
                        build=functools.partial(_tenant, s)) for s in seeds]
    app = create_tenants_app(specs, config=EmulatorConfig(exo_concurrency=2, exo_latency=0.2))
    with serve_in_thread(app) as served:
        verify = ssl.create_default_context(cafile=str(served.ca_file))
        tokens = {}
        for spec in specs:
            answer = httpx.post(
                f"{served.base_url}/{spec.tenant_id}/oauth2/v2.0/token", verify=verify,
                data={"grant_type": "client_credentials", "client_id": "app",
                      "client_secret": "emulator-secret",
                      "scope": "https://outlook.office365.com/.default"})
            tokens[spec.tenant_id] = answer.json()["access_token"]
        lock = threading.Lock()
        statuses: list[int] = []

        def worker(tenant: str) -> None:
            # Each worker has its own limiter over the shared Redis, as processes would.
            limiter = TenantLimiter(backend, TenantLimits(exchange=2), key_prefix=namespace)
            with httpx.Client(verify=verify, timeout=30) as client:
                for _ in range(3):
                    with limiter.hold(tenant, "exchange", wait=60):
                        answer = client.post(
                            f"{served.base_url}/adminapi/beta/{tenant}/InvokeCommand",
                            headers={"Authorization": f"Bearer {tokens[tenant]}"},
                            json={"CmdletInput": {"CmdletName": "Get-OrganizationConfig"}})
                    with lock:
                        statuses.append(answer.status_code)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(worker, [spec.tenant_id for spec in specs] * 4))
        built = tenancy_of(app).built()
    assert statuses == [200] * 24
    for spec in specs:
        stats = built[spec.tenant_id].stats
        assert stats.exceeded() == ()
        assert stats.limits()["exchange"]["peak_in_flight"] == 2
        assert stats.limits()["exchange"]["asked"] == 12
