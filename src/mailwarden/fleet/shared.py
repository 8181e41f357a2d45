"""One tenant's request slots shared by every worker of a fleet, for `M365Http`.

Each request a job sends takes one of the tenant's slots for its service in Redis
(`TenantLimiter`) after the job's own, and gives it back when answered: ten workers on
one tenant never have more requests in flight than the tenant allows. When the service
asks a worker to wait (429 or 503 with Retry-After), the pause is written to Redis too,
and every worker holds its requests to that tenant's service until it ends, instead of
each being throttled in turn.

The Redis calls are made in the event loop: each is one round trip to a Redis on the
same machine or network, far shorter than the request it guards.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

import redis

from mailwarden.fleet.limits import KEY_PREFIX, TenantLimiter
from mailwarden.m365.http import Service

#: Redis keys of the pauses, one per tenant and service.
PAUSE_PREFIX = "mailwarden:fleet:pause"
#: Longest wait between two tries for a slot.
POLL_MAX = 0.5


class RedisTenantSlots:
    def __init__(self, limiter: TenantLimiter, client: redis.Redis, tenant_id: str, *,
                 pause_prefix: str = PAUSE_PREFIX) -> None:
        self.limiter = limiter
        self.client = client
        self.tenant_id = tenant_id.lower()
        self.pause_prefix = pause_prefix
        self._held: dict[Service, list[ExitStack]] = {service: [] for service in Service}
        self.waits = 0  # tries that found every slot taken

    def _pause_key(self, service: Service) -> str:
        return f"{self.pause_prefix}:{self.tenant_id}:{service.value}"

    async def acquire(self, service: Service) -> None:
        pause = 0.02
        while True:
            remaining = int(self.client.pttl(self._pause_key(service)))
            if remaining > 0:
                await asyncio.sleep(remaining / 1000)
                continue
            stack = self.limiter.take(self.tenant_id, "graph" if service is Service.GRAPH
                                      else "exchange")
            if stack is not None:
                self._held[service].append(stack)
                return
            self.waits += 1
            await asyncio.sleep(pause)
            pause = min(POLL_MAX, pause * 2)

    async def release(self, service: Service) -> None:
        held = self._held[service]
        if held:
            held.pop().close()

    def pause(self, service: Service, seconds: float) -> None:
        milliseconds = max(1, int(seconds * 1000))
        key = self._pause_key(service)
        if int(self.client.pttl(key)) < milliseconds:  # never shorten a longer pause
            self.client.set(key, "1", px=milliseconds)


__all__ = ["KEY_PREFIX", "PAUSE_PREFIX", "RedisTenantSlots"]
