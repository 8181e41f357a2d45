"""The wire: one async httpx client per run, with the one retry and throttling policy.

Every Graph and Exchange call goes through `M365Http.send`, which
- caps concurrency per service (Exchange limits concurrent requests per tenant),
- paces requests by the service's rate budget when one is set (`m365.pacing`: a `$batch`
  weighs its parts; a fleet's workers share the tenant's budget instead),
- attaches a bearer token for the service's scope,
- on 429/503 (and Exchange's concurrency refusal) honours `Retry-After` for the whole
  service, so the other requests in flight wait too instead of being throttled in turn,
- retries 5xx answers, timeouts, dropped connections and malformed bodies with
  exponential backoff and jitter, a bounded number of times,
- turns 401/403/other errors into typed errors whose message says what to do.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import json
import random
import re
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from mailwarden import __version__
from mailwarden.errors import (
    AuthError,
    ConfigError,
    LicenceRequiredError,
    PermissionDeniedError,
    RetriesExhaustedError,
    ServiceError,
)
from mailwarden.m365.auth import TokenSource
from mailwarden.m365.licences import licence_required
from mailwarden.m365.pacing import LocalBudget, rate_budget, request_weight
from mailwarden.m365.permissions import EXCHANGE_PERMISSION, exchange_role, graph_permission
from mailwarden.settings import Settings
from mailwarden.text import plural


class Service(StrEnum):
    GRAPH = "graph"
    EXCHANGE = "exchange"


_LABEL = {Service.GRAPH: "Microsoft Graph", Service.EXCHANGE: "Exchange Online"}


@dataclass(slots=True)
class ServiceCounters:
    """What one service cost: requests sent (retries included), retries, throttles."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: str
    throttled: bool
    retry_after: float | None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: seconds (maybe fractional) or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def error_detail(body: Any) -> str:
    """`code: message` from a Graph or Exchange error body.

    Exchange puts the cmdlet's own message in `error.details[].message`
    ("<ErrorId>|<exception type>|<message>"), and, when there are no details, the reason in
    `error.innererror.internalexception` (its message and type); both are kept, so that an
    object that is gone (ManagementObjectNotFoundException) reads differently from a refusal.
    """
    if not isinstance(body, Mapping):
        return ""
    error = body.get("error")
    if not isinstance(error, Mapping):
        return str(body.get("message") or "")[:300]
    code = str(error.get("code") or "").strip()
    message = str(error.get("message") or "").strip()
    details = error.get("details")
    for detail in details if isinstance(details, list) else ():
        inner = str(detail.get("message") or "").strip() if isinstance(detail, Mapping) else ""
        if inner and inner not in message:
            message = f"{message} {inner}".strip()
    internal = _internal_exception(error)
    if internal and internal not in message:
        message = f"{message} {internal}".strip()
    text = f"{code}: {message}" if code and message else code or message
    return text[:500]


def error_code(body: Any) -> str | None:
    """Graph's (and Exchange's) `error.code`, when the body carries one."""
    error = body.get("error") if isinstance(body, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return (str(code).strip() or None) if code is not None else None


def _internal_exception(error: Mapping[str, Any]) -> str:
    """`|type|message` of Exchange's innererror.internalexception, unless it only says that
    an exception of some type was thrown (then the details say more)."""
    inner = error.get("innererror")
    internal = inner.get("internalexception") if isinstance(inner, Mapping) else None
    if not isinstance(internal, Mapping):
        return ""
    text = str(internal.get("message") or "").strip()
    if not text or text.startswith("Exception of type"):
        return ""
    kind = str(internal.get("type") or "").strip()
    return f"|{kind}|{text}" if kind else text


#: Exchange's answer when the app's Exchange role does not include the cmdlet (HTTP 401).
_NOT_ALLOWED = re.compile(r"not allowed to call (?P<cmdlet>[\w-]+)", re.IGNORECASE)
#: Exchange's message when an object is outside the caller's read or write scope.
_SCOPE = re.compile(r"(read|write) scope", re.IGNORECASE)


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def is_concurrency_refusal(status: int, detail: str) -> bool:
    """Exchange refuses work beyond its per-tenant concurrency limit; that is a throttle."""
    lowered = detail.lower()
    return (
        status in {400, 429, 500, 503}
        and "concurren" in lowered
        and ("maximum" in lowered or "limit" in lowered or "exceed" in lowered)
    )


def _short(url: str) -> str:
    return url if len(url) <= 160 else url[:157] + "..."


class PrioritySlots:
    """A semaphore whose waiters are served lowest priority number first, then in order.

    The collector gives next-page requests priority 0 and per-mailbox calls 1, so the
    serial page chains (the critical path) never queue behind a thousand mailbox calls.
    The limit can shrink at run time, when the service says it allows fewer.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._retire = 0  # slots to take out of circulation as they come back
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def shrink(self) -> None:
        """Allow one request fewer in flight (never fewer than one)."""
        if self.limit <= 1:
            return
        self.limit -= 1
        if self._free > 0:
            self._free -= 1
        else:
            self._retire += 1

    async def acquire(self, priority: int = 0) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed to us just as we were cancelled
            raise

    def release(self) -> None:
        if self._retire:
            self._retire -= 1
            return
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # hand the slot straight to the next waiter
                return
        self._free += 1


class SharedSlots(Protocol):
    """Slots of one tenant shared with other processes (a fleet's workers): taken around
    every request after the run's own, with the tenant's rate budget (`weight`: the
    request's parts, `pacing.request_weight`), and a pause the service asked for, kept for
    all."""

    async def acquire(self, service: Service, weight: int = 1) -> None: ...
    async def release(self, service: Service, weight: int = 1) -> None: ...
    def pause(self, service: Service, seconds: float) -> None: ...


class M365Http:
    """Sends requests to Graph and Exchange Online for one run; see the module docstring."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: TokenSource,
        settings: Settings,
        *,
        concurrency: Mapping[Service, int] | None = None,
        shared: SharedSlots | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings
        self._tokens = tokens
        limits = concurrency or {
            Service.GRAPH: settings.graph_concurrency,
            Service.EXCHANGE: settings.exo_concurrency,
        }
        self._slots = {service: PrioritySlots(limits[service]) for service in Service}
        self._shared = shared
        # The shared slots carry the tenant's budget across workers; a run alone keeps its own.
        budgets = {Service.GRAPH: rate_budget(settings.graph_rate, settings.graph_burst),
                   Service.EXCHANGE: rate_budget(settings.exo_rate, settings.exo_burst)}
        self.budgets = {service: LocalBudget(budget, clock=clock, sleep=sleep)
                        for service, budget in budgets.items()
                        if budget is not None and shared is None}
        self._paused_until = dict.fromkeys(Service, 0.0)
        self._sleep = sleep
        self._jitter = jitter
        self._clock = clock
        self.counters = {service: ServiceCounters() for service in Service}
        self.connection_id = str(uuid.uuid4())

    def concurrency(self, service: Service) -> int:
        """Requests allowed in flight now (it shrinks when the service refuses concurrency)."""
        return self._slots[service].limit

    def scope(self, service: Service) -> str:
        return self.settings.graph_scope if service is Service.GRAPH else self.settings.exo_scope

    async def token(self, service: Service) -> str:
        """The bearer token the run sends to `service` (signing in if not yet signed in):
        for reading what it grants, never for showing."""
        return await self._tokens.token(self.scope(service))

    async def send(
        self,
        service: Service,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        expect_collection: bool = False,
        priority: int = 0,
    ) -> Any:
        """Send with retries; return the decoded JSON body (None for an empty success).

        Lower `priority` numbers get a free connection slot first.
        """
        policy = self.settings.retry
        last: _Retry | None = None
        slots = self._slots[service]
        weight = request_weight(method, url, json_body)
        budget = self.budgets.get(service)
        for attempt in range(1, policy.max_attempts + 1):
            await self._wait_while_paused(service)
            await slots.acquire(priority)
            shared = paced = None
            try:
                # Signed in first: a sign-in must not fall between a request's turn in the
                # rate budget and its send.
                token = await self._tokens.token(self.scope(service))
                if self._shared is not None:  # the tenant's slots other workers share too
                    await self._shared.acquire(service, weight)
                    shared = self._shared
                elif budget is not None:
                    await budget.take(weight)
                    paced = budget
                outcome = await self._attempt(
                    service, method, url, token, json_body, headers, expect_collection
                )
            finally:
                if shared is not None:
                    await shared.release(service, weight)
                if paced is not None:
                    paced.give_back(weight)
                slots.release()
            if not isinstance(outcome, _Retry):
                return outcome.body
            last = outcome
            if attempt == policy.max_attempts:
                break
            self.counters[service].retries += 1
            delay = self.delay_for(outcome.retry_after, attempt)
            if outcome.retry_after is not None:
                self.pause(service, delay)
                if self._shared is not None:
                    self._shared.pause(service, delay)
            await self._sleep(delay)
        assert last is not None
        raise self.exhausted(service, method, url, last.reason, last.throttled)

    def delay_for(self, retry_after: float | None, attempt: int) -> float:
        """Seconds before attempt `attempt + 1`: the server's word, else backoff with jitter."""
        policy = self.settings.retry
        if retry_after is not None:
            return min(retry_after, policy.retry_after_max)
        ceiling = min(policy.backoff_max, policy.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def pause(self, service: Service, seconds: float) -> None:
        """Hold every new request to `service` for `seconds` (the server said so)."""
        until = self._clock() + seconds
        if until > self._paused_until[service]:
            self._paused_until[service] = until

    async def wait(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def _wait_while_paused(self, service: Service) -> None:
        while (remaining := self._paused_until[service] - self._clock()) > 0:
            await self._sleep(remaining)

    def exhausted(
        self, service: Service, method: str, url: str, reason: str, throttled: bool
    ) -> RetriesExhaustedError:
        attempts = self.settings.retry.max_attempts
        advice = (
            "the tenant is throttling this application; wait a few minutes, or set a rate "
            "budget (graph_rate / exo_rate) or lower the concurrency (graph_concurrency / "
            "exo_concurrency) in --config or MAILWARDEN_*, then run again"
            if throttled
            else "the service or the network keeps failing; check connectivity and the "
            "Microsoft 365 service health page, then run again"
        )
        return RetriesExhaustedError(
            f"{_LABEL[service]}: {method} {_short(url)} failed {plural(attempts, 'time')} "
            f"(last: {reason}); {advice}",
            service=service.value,
        )

    async def _attempt(
        self,
        service: Service,
        method: str,
        url: str,
        token: str,
        json_body: Any,
        headers: Mapping[str, str] | None,
        expect_collection: bool,
    ) -> _Retry | _Success:
        request_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        self.counters[service].requests += 1
        try:
            response = await self.client.request(
                method, url, json=json_body, headers=request_headers
            )
        except httpx.TimeoutException as exc:
            return _Retry(f"timed out ({type(exc).__name__})", False, None)
        except httpx.TransportError as exc:
            return _Retry(f"connection failed ({type(exc).__name__})", False, None)
        return self._classify(service, method, url, response, expect_collection)

    def _classify(
        self,
        service: Service,
        method: str,
        url: str,
        response: httpx.Response,
        expect_collection: bool,
    ) -> _Retry | _Success:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return _Success(None)
            body = _decode(response)
            if body is None or (expect_collection and not _is_collection(body)):
                return _Retry(f"HTTP {status} with a malformed body", False, None)
            return _Success(body)
        body = _decode(response)
        detail = error_detail(body)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        refused = is_concurrency_refusal(status, detail)
        if refused:
            # The service allows fewer requests in flight than we sent: settle below its limit.
            self._slots[service].shrink()
        if status in {429, 503} or refused:
            self.counters[service].throttled += 1
            reason = f"HTTP {status} throttled" + (f" ({detail})" if detail else "")
            return _Retry(reason, True, retry_after)
        if status >= 500 or status == 408:
            return _Retry(f"HTTP {status}" + (f" ({detail})" if detail else ""), False, retry_after)
        raise self.refusal(service, method, url, status, detail, code=error_code(body))

    def refusal(
        self,
        service: Service,
        method: str,
        url: str,
        status: int,
        detail: str,
        *,
        code: str | None = None,
    ) -> AuthError | ServiceError:
        """The typed error for a non-retryable answer."""
        label = _LABEL[service]
        what = f"{label} refused {method} {_short(url)}"
        said = f" ({detail})" if detail else ""
        licence = licence_required(status, code)
        if licence is not None:
            return LicenceRequiredError(
                f"{what}: HTTP {status}{said}. The tenant has no {licence} licence, which this "
                "needs; no permission changes that",
                licence=licence,
                status=status,
                service=service.value,
                code=code,
            )
        role_refusal = _NOT_ALLOWED.search(detail) if service is Service.EXCHANGE else None
        if status == 401 and role_refusal is not None:
            cmdlet = role_refusal.group("cmdlet")
            # The token was accepted: Exchange's RBAC leaves this cmdlet out of the app's role.
            return PermissionDeniedError(
                f"{what}: HTTP 401{said}. {cmdlet} needs {exchange_role(cmdlet).text()}; "
                "grant it, then run again",
                status=401,
                service=service.value,
            )
        if status == 401:
            return AuthError(
                f"{what}: HTTP 401{said}. The token was not accepted: check that the app "
                "has admin consent in this tenant, that --cloud matches the tenant, and "
                "that the certificate or secret is current"
            )
        if status == 403 and service is Service.EXCHANGE and _SCOPE.search(detail):
            # Exchange ran the cmdlet; this one object is outside what the app's roles reach.
            return PermissionDeniedError(
                f"{what}: HTTP 403{said}. The object is outside the scope of the app's "
                "Exchange roles; give it a role whose scope includes the object, then run "
                "again",
                status=403,
                service=service.value,
            )
        if status == 403:
            needed = EXCHANGE_PERMISSION if service is Service.EXCHANGE else graph_permission(url)
            return PermissionDeniedError(
                f"{what}: HTTP 403{said}. Grant the application {needed}, then run again",
                status=403,
                service=service.value,
                code=code,
            )
        return ServiceError(
            f"{what}: HTTP {status}{said}", status=status, service=service.value, code=code
        )

    async def pages(
        self,
        service: Service,
        url: str,
        *,
        method: str = "GET",
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        priority: int = 0,
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Yield each page (a body whose `value` is a list), following `@odata.nextLink`;
        for Exchange the same body is POSTed to the next link."""
        origin = _origin(url)
        next_url: str | None = url
        while next_url is not None:
            body = await self.send(
                service,
                method,
                next_url,
                json_body=json_body,
                headers=headers,
                expect_collection=True,
                priority=priority,
            )
            yield body
            link = body.get("@odata.nextLink")
            if link is not None and _origin(str(link)) != origin:
                raise ServiceError(
                    f"{_LABEL[service]} sent a next-page link to another host ({_origin(link)}); "
                    "refusing to send the token there",
                    service=service.value,
                )
            next_url = str(link) if link else None


@dataclass(frozen=True, slots=True)
class _Success:
    body: Any


def page_items(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [item for item in page["value"] if isinstance(item, dict)]


def _is_collection(body: Any) -> bool:
    return isinstance(body, Mapping) and isinstance(body.get("value"), list)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@functools.lru_cache(maxsize=8)
def _tls_context(ca_bundle: str | None, changed: tuple[int, int] | None) -> ssl.SSLContext:
    """The trust a client verifies servers with, made once per process and CA bundle:
    loading the default bundle takes about 40 ms of CPU, which a fleet worker would
    otherwise spend on every job. `changed` (the bundle's mtime and size) makes a bundle
    rewritten in place load again."""
    if ca_bundle is None:
        return httpx.create_ssl_context(trust_env=True)  # httpx's own default trust
    return ssl.create_default_context(cafile=ca_bundle)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """The process's shared TLS context for the settings' CA bundle (or the default
    trust). A context may be shared by clients in any thread or event loop."""
    if settings.ca_bundle is None:
        return _tls_context(None, None)
    try:
        status = settings.ca_bundle.stat()
        return _tls_context(str(settings.ca_bundle), (status.st_mtime_ns, status.st_size))
    except (OSError, ssl.SSLError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"cannot use the CA bundle {settings.ca_bundle} ({why}); name a "
                          "PEM file of the CA certificates to trust (--ca-bundle)") from None


def build_async_client(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client of a run: keep-alive pool sized to the concurrency, HTTP/1.1."""
    verify = tls_context(settings)
    connections = settings.graph_concurrency + settings.exo_concurrency + 2
    return httpx.AsyncClient(
        verify=verify,
        # A custom CA means a private endpoint (the emulator): no proxies from the environment.
        trust_env=settings.ca_bundle is None,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=None,  # the semaphores already bound the requests in flight
        ),
        headers={"User-Agent": f"mailwarden/{__version__}"},
    )
