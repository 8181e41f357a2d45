"""JSON batching shared by Graph (`/$batch`, 20 per request) and the Exchange admin API
(`/adminapi/beta/{tenant}/$batch`, 10 per request).

A batch answers each sub-request on its own, so each is settled on its own: a page is
kept and its next page queued, a refusal becomes that key's typed error, and a throttled
or failed sub-request is retried (with its Retry-After) without resending its batch.

A batch request that fails as a whole (the POST itself refused, or still failing after its
retries) fails only the sub-requests it carried: each gets that error as its outcome and
the other batches go on. A sign-in failure is the exception: every other request would be
refused the same way, so it ends the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mailwarden.errors import AuthError, MailwardenError, ServiceError
from mailwarden.m365.http import M365Http, Service, error_detail, parse_retry_after
from mailwarden.progress import CountProgress

_THROTTLED = {429, 503}

Results = dict[str, list[dict[str, Any]] | MailwardenError]


@dataclass(frozen=True, slots=True, kw_only=True)
class SubRequest:
    key: str
    url: str  # as the service wants it inside a batch (Graph: relative to the version)
    attempt: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class _Again:
    """A sub-request to send in the next round, after `wait` seconds."""

    sub: SubRequest
    wait: float = 0.0
    throttled: bool = False


SendChunk = Callable[[Sequence[SubRequest]], Awaitable[dict[str, Mapping[str, Any]]]]
#: Reads a page that came back 200: why it is not a whole answer, or None.
CheckPage = Callable[[SubRequest, Mapping[str, Any]], str | None]
#: Error codes of a sub-response that carries no status (Exchange's answers are read by
#: their body alone by the tools that use them) -> the status they stand for.
_CODE_STATUS = {
    "badrequest": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "notfound": 404,
    "requesttimeout": 408,
    "toomanyrequests": 429,
    "internalservererror": 500,
    "badgateway": 502,
    "serviceunavailable": 503,
    "gatewaytimeout": 504,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Batcher:
    """Runs keyed sub-requests through one service's `$batch` until each is settled."""

    http: M365Http
    service: Service
    limit: int  # sub-requests per batch
    send_chunk: SendChunk  # sends one batch; answers by key
    next_url: Callable[[str], str]  # a page's next link as a sub-request URL
    full_url: Callable[[SubRequest], str]  # for error messages
    method: str = "GET"
    check_page: CheckPage | None = None

    async def run(
        self, pending: Sequence[SubRequest], *, on_done: CountProgress | None = None
    ) -> Results:
        results: Results = {sub.key: [] for sub in pending}
        finished = 0
        window: int | None = None  # sub-requests per round once the service has throttled
        while pending:
            sending = list(pending if window is None else pending[:window])
            held = list(pending[len(sending):])
            chunks = [sending[i : i + self.limit] for i in range(0, len(sending), self.limit)]
            answers = await asyncio.gather(*(self._send(chunk) for chunk in chunks))
            accepted = sum(1 for answer in answers if not isinstance(answer, MailwardenError)
                           for r in answer.values() if _succeeded(r))
            again: list[_Again] = []
            for chunk, answer in zip(chunks, answers, strict=True):
                for sub in chunk:
                    if isinstance(answer, MailwardenError):
                        results[sub.key] = answer  # the batch carrying it failed
                        finished += 1
                        if on_done is not None:
                            on_done(finished)
                        continue
                    # While the service takes some of each round, being told to wait is
                    # pacing, not failure: only rounds that get nothing through count.
                    outcome = self.settle(sub, answer.get(sub.key), results, progress=accepted > 0)
                    if outcome is None:
                        finished += 1
                        if on_done is not None:
                            on_done(finished)
                    else:
                        again.append(outcome)
            if any(a.throttled for a in again):
                window = max(self.limit, accepted)  # send what it took last time
            pending = [a.sub for a in again] + held
            wait = max((a.wait for a in again), default=0.0)
            if wait > 0 and any(a.throttled for a in again):
                self.http.pause(self.service, wait)
            elif wait > 0:
                await self.http.wait(wait)
        return results

    async def _send(
        self, chunk: Sequence[SubRequest]
    ) -> dict[str, Mapping[str, Any]] | MailwardenError:
        """One batch's answers by key, or the error that failed the whole batch request."""
        try:
            return await self.send_chunk(chunk)
        except AuthError:
            raise
        except MailwardenError as exc:
            return exc

    def settle(
        self,
        sub: SubRequest,
        response: Mapping[str, Any] | None,
        results: Results,
        *,
        progress: bool = False,
    ) -> _Again | None:
        """Record one sub-response; return what to send again, or None when `sub.key` is done."""
        status = sub_status(response)
        body = response.get("body") if response is not None else None
        if status is not None and 200 <= status < 300 and is_page(body):
            assert isinstance(body, Mapping)
            problem = self.check_page(sub, body) if self.check_page is not None else None
            if problem is not None:
                results[sub.key] = ServiceError(problem, status=status, service=self.service.value)
                return None
            bucket = results[sub.key]
            assert isinstance(bucket, list)
            bucket.extend(v for v in body["value"] if isinstance(v, dict))
            link = body.get("@odata.nextLink")
            if link:
                return _Again(sub=SubRequest(key=sub.key, url=self.next_url(str(link))))
            return None
        if (
            status is not None
            and status < 500
            and status not in _THROTTLED | {408}
            and not (200 <= status < 300)
        ):
            results[sub.key] = self.http.refusal(
                self.service, self.method, self.full_url(sub), status, error_detail(body)
            )
            return None
        throttled = status in _THROTTLED
        reason = "no answer in the batch" if status is None else f"HTTP {status}"
        if status is not None and 200 <= status < 300:
            reason = f"HTTP {status} with a malformed body"
        counters = self.http.counters[self.service]
        if throttled:
            counters.throttled += 1
        charged = not (throttled and progress)
        if charged and sub.attempt >= self.http.settings.retry.max_attempts:
            results[sub.key] = self.http.exhausted(
                self.service, self.method, self.full_url(sub), reason, throttled
            )
            return None
        counters.retries += 1
        headers = response.get("headers") if response is not None else None
        retry_after = parse_retry_after(header(headers, "Retry-After"))
        return _Again(
            sub=SubRequest(key=sub.key, url=sub.url, attempt=sub.attempt + int(charged)),
            wait=self.http.delay_for(retry_after, sub.attempt),
            throttled=throttled and retry_after is not None,
        )


def _succeeded(response: Any) -> bool:
    status = sub_status(response) if isinstance(response, Mapping) else None
    return status is not None and 200 <= status < 300


def sub_status(response: Mapping[str, Any] | None) -> int | None:
    """A sub-response's status; without one, what its body says (a page is a success, an
    error body fails with its code's status), so that no answer is taken for none."""
    if response is None:
        return None
    status = as_int(response.get("status"))
    if status is not None:
        return status
    body = response.get("body")
    if is_page(body):
        return 200
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return _CODE_STATUS.get(str(error.get("code") or "").lower(), 400)
    return None


def answers_by_key(
    answer: Any, ids: Mapping[str, SubRequest]
) -> dict[str, Mapping[str, Any]]:
    """A batch answer's sub-responses, keyed by the keys of the sub-requests they answer."""
    responses = answer.get("responses") if isinstance(answer, Mapping) else None
    by_key: dict[str, Mapping[str, Any]] = {}
    for response in responses if isinstance(responses, list) else ():
        if isinstance(response, Mapping) and str(response.get("id")) in ids:
            by_key[ids[str(response["id"])].key] = response
    return by_key


def is_page(body: Any) -> bool:
    return isinstance(body, Mapping) and isinstance(body.get("value"), list)


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if str(k).lower() == wanted), None)
