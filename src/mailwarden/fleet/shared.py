"""One tenant's request slots shared by every worker of a fleet, for `M365Http`.

Each request a job sends takes one of the tenant's slots for its service in Redis
(`TenantLimiter`) after the job's own, and gives it back when answered: ten workers on
one tenant never have more requests in flight than the tenant allows. When the service
asks a worker to wait (429 or 503 with Retry-After), the pause is written to Redis too,
and every worker holds its requests to that tenant's service until it ends, instead of
each being throttled in turn.

The Redis calls are made in the event loop: each is one round trip to a Redis on the
same machine or network, far shorter than the request it guards. A worker that dies holding
slots leaves them counted until the counter's time to live passes since its last change
(the limiter's `ttl_ms`, which the workers set to `--dead-after`): about when another
worker may take its job over.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack

import redis

from mailwarden.errors import RetriesExhaustedError
from mailwarden.fleet.limits import KEY_PREFIX, TenantLimiter
from mailwarden.m365.http import Service

#: Redis keys of the pauses, one per tenant and service.
PAUSE_PREFIX = "mailwarden:fleet:pause"
#: Longest wait between two tries for a slot.
POLL_MAX = 0.5


class RedisTenantSlots:
    """`wait`: the longest a request waits for a slot before the job gives up as if
    throttled (RetriesExhaustedError: the worker puts the job back for later)."""

    def __init__(self, limiter: TenantLimiter, client: redis.Redis, tenant_id: str, *,
                 pause_prefix: str = PAUSE_PREFIX, wait: float = 300.0) -> None:
        self.limiter = limiter
        self.client = client
        self.tenant_id = tenant_id.lower()
        self.pause_prefix = pause_prefix
        self.wait = wait
        self._held: dict[Service, list[ExitStack]] = {service: [] for service in Service}
        self.waits = 0  # tries that found every slot taken

    def _pause_key(self, service: Service) -> str:
        return f"{self.pause_prefix}:{self.tenant_id}:{service.value}"

    async def acquire(self, service: Service) -> None:
        pause = 0.02
        deadline = time.monotonic() + self.wait
        while True:
            if time.monotonic() > deadline:
                raise RetriesExhaustedError(
                    f"every {service.value} slot of tenant {self.tenant_id} stayed taken for "
                    f"{self.wait:g} s (other workers, or a worker that died holding them: "
                    "its slots lapse after --dead-after)", service=service.value)
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
