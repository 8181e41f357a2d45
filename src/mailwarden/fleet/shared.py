"""One tenant's request slots and rate budget shared by every worker of a fleet, for
`M365Http`.

Each request a job sends takes one of the tenant's slots for its service in Redis
(`TenantLimiter`) after the job's own, and gives it back when answered: ten workers on
one tenant never have more requests in flight than the tenant allows. With a rate budget
for the service (`TenantLimits.graph_rate`, `exchange_rate`), the request then takes its
weight (a `$batch`: its parts) from the tenant's budget in Redis (`fleet.rate`), waiting
the time the budget answers, and gives it back when answered: together the workers send
no faster than the tenant's rate. When the service asks a worker to wait (429 or 503 with
Retry-After), the pause is written to Redis too, and every worker holds its requests to
that tenant's service until it ends, instead of each being throttled in turn.

The Redis calls are made in the event loop: each is one round trip to a Redis on the
same machine or network, far shorter than the request it guards. A worker that dies holding
slots leaves them counted until the counter's time to live passes since its last change
(the limiter's `ttl_ms`, which the workers set to `--dead-after`): about when another
worker may take its job over.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Literal

import redis

from mailwarden.errors import RetriesExhaustedError
from mailwarden.fleet.limits import KEY_PREFIX, TenantLimiter
from mailwarden.fleet.rate import RATE_PREFIX, SharedRateBudgets
from mailwarden.m365.http import Service

#: Redis keys of the pauses, one per tenant and service.
PAUSE_PREFIX = "mailwarden:fleet:pause"
#: Longest wait between two tries for a slot.
POLL_MAX = 0.5
#: Longest wait between two tries for the rate budget while only requests in flight hold
#: it: their answers, on any worker, free it.
ANSWER_POLL_MAX = 0.1


@dataclass(frozen=True, slots=True)
class _Held:
    slot: ExitStack
    weight: int
    holder: str | None  # its place in the rate budget, when the service has one


class RedisTenantSlots:
    """`wait`: the longest a request waits for a slot and its rate budget before the job
    gives up as if throttled (RetriesExhaustedError: the worker puts the job back for
    later)."""

    def __init__(self, limiter: TenantLimiter, client: redis.Redis, tenant_id: str, *,
                 pause_prefix: str = PAUSE_PREFIX, rate_prefix: str = RATE_PREFIX,
                 wait: float = 300.0) -> None:
        self.limiter = limiter
        self.client = client
        self.tenant_id = tenant_id.lower()
        self.pause_prefix = pause_prefix
        self.wait = wait
        # A dead worker's requests stop counting against the budget with its slots.
        self.budgets = SharedRateBudgets(client, key_prefix=rate_prefix,
                                         lease_ms=limiter.ttl_ms)
        self._held: dict[Service, list[_Held]] = {service: [] for service in Service}
        self.waits = 0  # tries that found every slot taken
        self.paced = 0  # tries the rate budget answered with a wait

    def _pause_key(self, service: Service) -> str:
        return f"{self.pause_prefix}:{self.tenant_id}:{service.value}"

    async def acquire(self, service: Service, weight: int = 1) -> None:
        deadline = time.monotonic() + self.wait
        slot = await self._slot(service, deadline)
        try:
            holder = await self._budget(service, weight, deadline)
        except BaseException:
            slot.close()
            raise
        self._held[service].append(_Held(slot, weight, holder))

    async def _slot(self, service: Service, deadline: float) -> ExitStack:
        pause = 0.02
        while True:
            if time.monotonic() > deadline:
                raise RetriesExhaustedError(
                    f"every {service.value} slot of tenant {self.tenant_id} stayed taken for "
                    f"{self.wait:g} s (other workers, or a worker that died holding them: "
                    "its slots lapse after --dead-after)", service=service.value)
            if await self._paused(service):
                continue
            stack = self.limiter.take(self.tenant_id, _name(service))
            if stack is not None:
                return stack
            self.waits += 1
            await asyncio.sleep(pause)
            pause = min(POLL_MAX, pause * 2)

    async def _budget(self, service: Service, weight: int, deadline: float) -> str | None:
        """The request's place in the tenant's rate budget (None: the service has none),
        after waiting the time the budget answers."""
        budget = self.limiter.limits.rate(_name(service))
        if budget is None:
            return None
        holder = uuid.uuid4().hex
        poll = 0.01
        waited = False  # the slot was taken just now, after a look for a pause
        while True:
            if waited and await self._paused(service):
                continue
            waited = True
            wait, answers = self.budgets.take(self.tenant_id, service.value, budget, weight,
                                              holder)
            if wait == 0.0:
                return holder
            if answers:  # an estimate: whichever request is answered first frees it
                wait, poll = min(wait, poll), min(ANSWER_POLL_MAX, poll * 2)
            if time.monotonic() + wait > deadline:
                raise RetriesExhaustedError(
                    f"the {service.value} rate budget of tenant {self.tenant_id} "
                    f"({budget.rate:g} requests/s) kept a request waiting longer than "
                    f"{self.wait:g} s (other workers are busy with this tenant)",
                    service=service.value)
            self.paced += 1
            await asyncio.sleep(wait)

    async def _paused(self, service: Service) -> bool:
        """Waits out a pause the service asked any worker for; True when there was one."""
        remaining = int(self.client.pttl(self._pause_key(service)))
        if remaining > 0:
            await asyncio.sleep(remaining / 1000)
            return True
        return False

    async def release(self, service: Service, weight: int = 1) -> None:
        held = self._held[service]
        # Any of the service's slots will do; the budget takes back one of this weight.
        index = next((i for i in range(len(held) - 1, -1, -1) if held[i].weight == weight),
                     len(held) - 1)
        if index < 0:
            return
        done = held.pop(index)
        try:
            if done.holder is not None:
                budget = self.limiter.limits.rate(_name(service))
                if budget is not None:
                    self.budgets.give_back(self.tenant_id, service.value, budget,
                                           done.weight, done.holder)
        finally:
            done.slot.close()

    def pause(self, service: Service, seconds: float) -> None:
        milliseconds = max(1, int(seconds * 1000))
        key = self._pause_key(service)
        if int(self.client.pttl(key)) < milliseconds:  # never shorten a longer pause
            self.client.set(key, "1", px=milliseconds)


def _name(service: Service) -> Literal["graph", "exchange"]:
    return "graph" if service is Service.GRAPH else "exchange"


__all__ = ["KEY_PREFIX", "PAUSE_PREFIX", "RATE_PREFIX", "RedisTenantSlots"]
