"""Latency, throttling, faults and the request counts that show what a client cost.

Fault decisions are a hash of the seed, the request's route and how many times that
route was asked before, not a draw from a shared random stream: the same client run
meets the same faults however its concurrent requests interleave.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from mailwarden.emulator.answers import (
    EXO_CONCURRENCY_MESSAGE,
    DroppedResponse,
    TimeoutResponse,
    exo_error,
    exo_error_body,
    graph_error,
    graph_error_body,
    retry_after_text,
)
from mailwarden.emulator.config import EmulatorConfig, FaultKind, Service

_SERVER_ERRORS = (500, 502, 503, 504)
_ERROR_CODES = {
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass(slots=True)
class ServiceStats:
    """What one service answered. `requests` counts HTTP requests (a `$batch` is one);
    `batches` the `$batch` requests among them; `subrequests` the requests inside
    batches; `throttled` every 429 (sub-responses too); `faulted` every injected fault;
    `refused` other 4xx answers; `writes` the write calls (remediation) received. The
    throttling bucket is charged for each request that is not a batch and each
    sub-request: `requests - batches + subrequests`."""

    requests: int = 0
    batches: int = 0
    subrequests: int = 0
    throttled: int = 0
    faulted: int = 0
    refused: int = 0
    writes: int = 0


class EmulatorStats:
    """Per-service counts, safe to read from another thread, plus the necessary counts,
    and what the tenant's limits allowed against what its clients asked (`limits`)."""

    def __init__(self, necessary: Mapping[str, int], config: EmulatorConfig | None = None
                 ) -> None:
        self._lock = threading.Lock()
        self.necessary = dict(necessary)
        self._config = config or EmulatorConfig()
        self._services = {service.value: ServiceStats() for service in Service}
        self._in_flight = {service.value: 0 for service in Service}
        self._peak = {service.value: 0 for service in Service}

    def add(self, service: Service, name: str, count: int = 1) -> None:
        with self._lock:
            stats = self._services[service.value]
            setattr(stats, name, getattr(stats, name) + count)

    def enter(self, service: Service) -> None:
        """A request arrived (whether or not it will be let through)."""
        with self._lock:
            self._in_flight[service.value] += 1
            self._peak[service.value] = max(self._peak[service.value],
                                            self._in_flight[service.value])

    def leave(self, service: Service) -> None:
        with self._lock:
            self._in_flight[service.value] -= 1

    def service(self, service: Service | str) -> ServiceStats:
        """A copy of one service's counts."""
        with self._lock:
            return ServiceStats(**asdict(self._services[str(service)]))

    def limits(self) -> dict[str, dict[str, Any]]:
        """Per service: the limits configured (None: none), the requests asked (batched
        ones each count), the most asked at once, and how many the limits refused."""
        config = self._config
        configured = {
            Service.GRAPH.value: {"rate": config.graph_rate, "burst": config.graph_burst,
                                  "concurrency": None},
            Service.EXCHANGE.value: {"rate": config.exo_rate, "burst": config.exo_burst,
                                     "concurrency": config.exo_concurrency},
        }
        with self._lock:
            return {
                name: {
                    **limits,
                    "asked": self._services[name].requests + self._services[name].subrequests,
                    "peak_in_flight": self._peak[name],
                    "throttled": self._services[name].throttled,
                }
                for name, limits in configured.items()
            }

    def exceeded(self) -> tuple[str, ...]:
        """The limits clients asked beyond: a service that throttled, or more Exchange
        requests at once than its concurrency allows. Empty when none was."""
        found = []
        for name, limits in self.limits().items():
            if limits["throttled"]:
                found.append(f"{name}: {limits['throttled']} throttled")
            cap = limits["concurrency"]
            if cap is not None and limits["peak_in_flight"] > cap:
                found.append(f"{name}: {limits['peak_in_flight']} at once, {cap} allowed")
        return tuple(found)

    def as_dict(self) -> dict[str, Any]:
        limits = self.limits()
        with self._lock:
            return {
                "services": {name: asdict(stats) for name, stats in self._services.items()},
                "necessary": dict(self.necessary),
                "limits": limits,
            }

    def reset(self) -> None:
        with self._lock:
            self._services = {service.value: ServiceStats() for service in Service}
            self._peak = dict(self._in_flight)


class TokenBucket:
    """`rate` requests per second on average, up to `burst` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._clock = clock
        self._last = clock()

    def take(self) -> float:
        """0 when a request may pass now, else the seconds until one may."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int = 500


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by its inputs."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class Conditions:
    """Applies the configured conditions around each request's handler."""

    def __init__(
        self,
        config: EmulatorConfig,
        stats: EmulatorStats,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.stats = stats
        self.loopback = False  # set by the server: timeouts and drops then act on the socket
        self._buckets = {
            Service.GRAPH: _bucket(config.graph_rate, config.graph_burst, clock),
            Service.EXCHANGE: _bucket(config.exo_rate, config.exo_burst, clock),
        }
        self._exo_in_flight = 0
        self._seen: dict[str, int] = {}
        self._targeted = [(re.compile(f.pattern), f) for f in config.targeted_faults]
        self._targeted_seen = [0] * len(self._targeted)
        self._latency = {
            Service.LOGIN: config.login_latency,
            Service.GRAPH: config.graph_latency,
            Service.EXCHANGE: config.exo_latency,
        }

    async def guard(
        self,
        service: Service,
        route: str,
        handler: Callable[[], Awaitable[Response]],
        *,
        throttle: bool = True,
    ) -> Response:
        """Count, delay, throttle or fail the request, else answer it with `handler`."""
        self.stats.add(service, "requests")
        self.stats.enter(service)
        try:
            return await self._guarded(service, route, handler, throttle)
        finally:
            self.stats.leave(service)

    async def _guarded(
        self,
        service: Service,
        route: str,
        handler: Callable[[], Awaitable[Response]],
        throttle: bool,
    ) -> Response:
        if service is Service.EXCHANGE and self.config.exo_concurrency is not None:
            if self._exo_in_flight >= self.config.exo_concurrency:
                await self._delay(service)
                return self._concurrency_refusal()
            self._exo_in_flight += 1
            try:
                return await self._answer(service, route, handler, throttle)
            finally:
                self._exo_in_flight -= 1
        return await self._answer(service, route, handler, throttle)

    async def _answer(
        self,
        service: Service,
        route: str,
        handler: Callable[[], Awaitable[Response]],
        throttle: bool,
    ) -> Response:
        wait = self.throttle_wait(service) if throttle else 0.0
        await self._delay(service)
        if wait > 0:
            return self._throttled(service, wait)
        fault = self.fault_for(service, route)
        if fault is None:
            return self._tally(service, await handler())
        self.stats.add(service, "faulted")
        if fault.kind is FaultKind.MALFORMED:
            answer = await handler()
            return Response(answer.body[: max(1, len(answer.body) // 2)], 200,
                            media_type="application/json") if answer.status_code == 200 else answer
        return self._fault_response(service, fault)

    def _tally(self, service: Service, response: Response) -> Response:
        if 400 <= response.status_code < 500:
            self.stats.add(service, "throttled" if response.status_code == 429 else "refused")
        return response

    async def _delay(self, service: Service) -> None:
        if self._latency[service] > 0:
            await asyncio.sleep(self._latency[service])

    def throttle_wait(self, service: Service) -> float:
        """Seconds the client must wait (0: it may pass), taking a token when it may."""
        bucket = self._buckets.get(service)
        return 0.0 if bucket is None else bucket.take()

    def fault_for(
        self, service: Service, route: str, *, kinds: tuple[FaultKind, ...] = ()
    ) -> Fault | None:
        """The fault this request meets: a targeted one, else maybe a random one."""
        if service is Service.LOGIN and not self._targeted:
            return None
        hit: Fault | None = None
        for index, (pattern, target) in enumerate(self._targeted):
            if pattern.search(f"{service.value}:{route}"):
                # Every matching fault counts the request, so `nth` means the nth request
                # to match its pattern, whichever fault took the ones before.
                self._targeted_seen[index] += 1
                seen = self._targeted_seen[index]
                if hit is None and target.nth <= seen < target.nth + target.times:
                    hit = Fault(target.kind, target.status)
        if hit is not None:
            return hit
        if service is Service.LOGIN or self.config.fault_rate <= 0:
            # Random faults spare sign-in: MSAL does not retry, so they would only end runs
            # early; a targeted fault can still fail the token endpoint on purpose.
            return None
        key = f"{service.value}:{route}"
        count = self._seen.get(key, 0) + 1
        self._seen[key] = count
        seed = self.config.seed
        if _unit(seed, key, count) >= self.config.fault_rate:
            return None
        allowed = kinds or self.config.fault_kinds
        if not allowed:
            return None
        kind = allowed[int(_unit(seed, key, count, "kind") * len(allowed))]
        status = _SERVER_ERRORS[int(_unit(seed, key, count, "status") * len(_SERVER_ERRORS))]
        return Fault(kind, status)

    def sub_answer(self, route: str) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        """Throttling or a fault for one `$batch` sub-request, or None to answer it."""
        self.stats.add(Service.GRAPH, "subrequests")
        wait = self.throttle_wait(Service.GRAPH)
        if wait > 0:
            self.stats.add(Service.GRAPH, "throttled")
            return 429, {"Retry-After": retry_after_text(wait)}, graph_error_body(
                "TooManyRequests", "Too many requests; retry after the time in Retry-After."
            )
        fault = self.fault_for(Service.GRAPH, route, kinds=(FaultKind.SERVER_ERROR,))
        if fault is None:
            return None
        self.stats.add(Service.GRAPH, "faulted")
        headers = self.fault_headers(fault.status)
        return fault.status, headers, graph_error_body(
            _ERROR_CODES.get(fault.status, "InternalServerError"), "An injected failure."
        )

    def fault_headers(self, status: int) -> dict[str, str]:
        """A 503 says when to come back; the other server errors do not."""
        if status != 503:
            return {}
        return {"Retry-After": retry_after_text(self.config.fault_retry_after)}

    def _throttled(self, service: Service, wait: float) -> Response:
        self.stats.add(service, "throttled")
        headers = {"Retry-After": retry_after_text(wait)}
        message = "Too many requests; retry after the time in Retry-After."
        if service is Service.EXCHANGE:
            return exo_error(429, "TooManyRequests", message, headers=headers)
        return graph_error(429, "TooManyRequests", message, headers)

    def _concurrency_refusal(self) -> JSONResponse:
        self.stats.add(Service.EXCHANGE, "throttled")
        return exo_error(
            429,
            "TooManyRequests",
            EXO_CONCURRENCY_MESSAGE,
            headers={"Retry-After": retry_after_text(self.config.exo_retry_after)},
        )

    def _fault_response(self, service: Service, fault: Fault) -> Response:
        if fault.kind is FaultKind.DROP:
            return DroppedResponse()
        if fault.kind is FaultKind.TIMEOUT:
            return TimeoutResponse(seconds=self.config.timeout_seconds, loopback=self.loopback)
        status = fault.status
        headers = self.fault_headers(status)
        message = "An injected failure."
        if service is Service.EXCHANGE:
            code = _ERROR_CODES.get(status, "Forbidden" if status == 403 else "Error")
            return JSONResponse(exo_error_body(code, message), status, headers=headers)
        code = _ERROR_CODES.get(status, "Authorization_RequestDenied" if status == 403 else "Error")
        return graph_error(status, code, message, headers)


def _bucket(rate: float | None, burst: int, clock: Callable[[], float]) -> TokenBucket | None:
    return None if rate is None or rate <= 0 else TokenBucket(rate, burst, clock)
