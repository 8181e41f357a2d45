"""Per-tenant concurrency across every worker of a fleet, kept in Redis.

Microsoft's limits are per tenant, not per client: Exchange Online refuses a tenant's
requests beyond a few in flight at once ("the maximum number of concurrent requests per
tenant"), and Graph throttles a tenant's app as a whole. One worker keeps within them by
itself (`Settings.exo_concurrency`, `graph_concurrency`); many workers, each working on
several tenants, must share one count per tenant. `TenantLimiter` keeps it with Dramatiq's
`ConcurrentRateLimiter` (a counter in Redis that a holder increments up to the limit and
decrements when done), one key per tenant and service:

    limiter = TenantLimiter(RedisBackend(url=...), TenantLimits(exchange=3))
    with limiter.hold(tenant_id, "exchange"):
        ...  # at most 3 of these at once for this tenant, across every worker

A holder that dies without releasing leaves its count until the key's `ttl` passes since
its last change (any holder's take or release renews it). The fleet's workers set it to
their `--dead-after`, so that a dead worker's slots lapse about when its job may be taken
over; a live job keeps its key alive with every request, and its own client caps what it
has in flight whatever the count says. Clock and sleep are injectable for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from dramatiq.rate_limits import ConcurrentRateLimiter, RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend

from mailwarden.errors import ServiceError
from mailwarden.m365.pacing import RateBudget

Service = Literal["graph", "exchange"]
#: Redis keys: one per tenant and service, under this prefix.
KEY_PREFIX = "mailwarden:fleet:concurrency"


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantLimits:
    """Requests one tenant may have in flight at once, across every worker, and its rate
    budget per service (None: none; `fleet.rate` keeps it). The defaults are one worker's
    own (`Settings.graph_concurrency`, `exo_concurrency`, `graph_rate`, `exo_rate`)."""

    graph: int = 16
    exchange: int = 3
    graph_rate: RateBudget | None = None
    exchange_rate: RateBudget | None = None

    def of(self, service: Service) -> int:
        return self.graph if service == "graph" else self.exchange

    def rate(self, service: Service) -> RateBudget | None:
        return self.graph_rate if service == "graph" else self.exchange_rate


#: Add `amount` to a counter unless that passes `maximum`; its time to live renewed.
_INCR = """
local value = tonumber(redis.call('get', KEYS[1]) or '0') + tonumber(ARGV[1])
if value > tonumber(ARGV[2]) then return 0 end
redis.call('set', KEYS[1], value, 'px', ARGV[3])
return 1
"""
#: Take `amount` from a counter unless that goes below `minimum`; its time to live renewed.
_DECR = """
local value = tonumber(redis.call('get', KEYS[1]) or '0') - tonumber(ARGV[1])
if value < tonumber(ARGV[2]) then return 0 end
redis.call('set', KEYS[1], value, 'px', ARGV[3])
return 1
"""


class ScriptedRedisBackend(RedisBackend):  # type: ignore[misc]  # Dramatiq: untyped
    """Dramatiq's Redis backend with its counters changed in one round trip each.

    Dramatiq's own `incr` and `decr` read the counter under WATCH and write it in a
    transaction, retried when another client changed it meanwhile: three round trips and
    more under contention, for every request a fleet's jobs send. A Lua script does the
    same check and write atomically in Redis in one (same keys, same values, same time to
    live), so `ConcurrentRateLimiter` works unchanged over it."""

    def __init__(self, client: Any) -> None:
        super().__init__(client=client)
        self._incr: Any = client.register_script(_INCR)
        self._decr: Any = client.register_script(_DECR)

    def incr(self, key: str, amount: int, maximum: int, ttl: int) -> bool:
        return bool(self._incr(keys=[key], args=[amount, maximum, ttl]))

    def decr(self, key: str, amount: int, minimum: int, ttl: int) -> bool:
        return bool(self._decr(keys=[key], args=[amount, minimum, ttl]))


class TenantLimiter:
    def __init__(
        self,
        backend: RateLimiterBackend,
        limits: TenantLimits = TenantLimits(),
        *,
        ttl_ms: int = 15 * 60 * 1000,
        key_prefix: str = KEY_PREFIX,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend = backend
        self.limits = limits
        self.ttl_ms = ttl_ms
        self.key_prefix = key_prefix
        self._clock = clock
        self._sleep = sleep

    def _limiter(self, tenant_id: str, service: Service) -> ConcurrentRateLimiter:
        key = f"{self.key_prefix}:{tenant_id.lower()}:{service}"
        # Dramatiq leaves this constructor unannotated.
        return ConcurrentRateLimiter(  # type: ignore[no-untyped-call]
            self.backend, key, limit=self.limits.of(service), ttl=self.ttl_ms)

    def take(self, tenant_id: str, service: Service) -> ExitStack | None:
        """One of the tenant's slots if one is free now, held until the stack returned is
        closed; None (nothing held) when every slot is taken."""
        stack = ExitStack()
        acquired = stack.enter_context(
            self._limiter(tenant_id, service).acquire(raise_on_failure=False))
        if not acquired:
            stack.close()
            return None
        return stack

    @contextmanager
    def try_hold(self, tenant_id: str, service: Service) -> Iterator[bool]:
        """One of the tenant's slots for `service` if one is free now (True), released on
        leaving; False (and nothing held) when every slot is taken."""
        with self._limiter(tenant_id, service).acquire(raise_on_failure=False) as acquired:
            yield bool(acquired)

    @contextmanager
    def hold(self, tenant_id: str, service: Service, *, wait: float = 300.0,
             poll: float = 0.05) -> Iterator[None]:
        """A slot, waiting up to `wait` seconds for one (polling every `poll` seconds,
        doubling up to a second); ServiceError when none came free in time."""
        deadline = self._clock() + wait
        pause = poll
        while True:
            with self.try_hold(tenant_id, service) as held:
                if held:
                    yield
                    return
            if self._clock() >= deadline:
                raise ServiceError(
                    f"every {service} slot of tenant {tenant_id} "
                    f"({self.limits.of(service)}) stayed taken for {wait:g} s; other "
                    "workers are busy with this tenant: run its job again later",
                    service=service)
            self._sleep(pause)
            pause = min(1.0, pause * 2)
