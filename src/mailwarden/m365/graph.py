"""Microsoft Graph helpers: paged collections with `$select`/`$top`, and `$batch`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from mailwarden.errors import MailwardenError
from mailwarden.m365.http import M365Http, Service, error_detail, page_items, parse_retry_after

#: Largest `$top` Graph accepts on directory collections (users, groups, members).
DIRECTORY_MAX_TOP = 999
#: Listing users with signInActivity selected caps the page at this size.
USERS_WITH_SIGN_IN_ACTIVITY_MAX_TOP = 500
#: Sub-requests per `$batch` request: Graph's own limit.
BATCH_LIMIT = 20

Progress = Callable[[int], None]  # called with a running count

_THROTTLED = {429, 503}


def collection_path(
    path: str, *, select: Sequence[str] | None = None, top: int | None = None
) -> str:
    """`path` (relative to the version) with `$select` and `$top` added."""
    options = []
    if select:
        options.append("$select=" + ",".join(select))
    if top is not None:
        options.append(f"$top={top}")
    if not options:
        return path
    separator = "&" if "?" in path else "?"
    return path + separator + "&".join(quote(o, safe="$=,") for o in options)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pending:
    key: str
    url: str  # relative to the version, e.g. "/groups/{id}/members?$top=999"
    attempt: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class _Again:
    """A sub-request to send in the next round, after `wait` seconds."""

    pending: _Pending
    wait: float = 0.0
    throttled: bool = False


class GraphClient:
    def __init__(self, http: M365Http, *, version: str = "v1.0") -> None:
        self._http = http
        self._version = version
        self.base = f"{http.settings.endpoints.graph_url}/{version}"

    def at(self, version: str) -> GraphClient:
        """The same client against another Graph version ("beta")."""
        return GraphClient(self._http, version=version)

    async def get(self, path: str) -> Any:
        return await self._http.send(Service.GRAPH, "GET", self.base + path)

    async def collection(
        self,
        path: str,
        *,
        select: Sequence[str] | None = None,
        top: int | None = None,
        on_page: Progress | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection, following next links."""
        items: list[dict[str, Any]] = []
        url = self.base + collection_path(path, select=select, top=top)
        async for page in self._http.pages(Service.GRAPH, url):
            items.extend(page_items(page))
            if on_page is not None:
                on_page(len(items))
        return items

    async def batch_list(
        self, paths: Mapping[str, str], *, on_done: Progress | None = None
    ) -> dict[str, list[dict[str, Any]] | MailwardenError]:
        """GET many collections through `$batch`, 20 per request, all batches concurrently.

        Each key gets its items (every page followed, next pages batched too) or the error
        that stopped it. Throttled or failed sub-requests are retried on their own, not with
        their batch; a throttled one's Retry-After holds back every Graph call meanwhile.
        """
        results: dict[str, list[dict[str, Any]] | MailwardenError] = {k: [] for k in paths}
        pending = [_Pending(key=k, url=p) for k, p in paths.items()]
        finished = 0
        while pending:
            chunks = [pending[i : i + BATCH_LIMIT] for i in range(0, len(pending), BATCH_LIMIT)]
            answers = await asyncio.gather(*(self._send_batch(chunk) for chunk in chunks))
            again: list[_Again] = []
            for chunk, answer in zip(chunks, answers, strict=True):
                for item in chunk:
                    outcome = self._settle(item, answer.get(item.key), results)
                    if outcome is None:
                        finished += 1
                        if on_done is not None:
                            on_done(finished)
                    else:
                        again.append(outcome)
            pending = [a.pending for a in again]
            wait = max((a.wait for a in again), default=0.0)
            if wait > 0 and any(a.throttled for a in again):
                self._http.pause(Service.GRAPH, wait)
            elif wait > 0:
                await self._http.wait(wait)
        return results

    async def _send_batch(self, chunk: Sequence[_Pending]) -> dict[str, Mapping[str, Any]]:
        ids = {str(index): item for index, item in enumerate(chunk, start=1)}
        body = {
            "requests": [{"id": rid, "method": "GET", "url": it.url} for rid, it in ids.items()]
        }
        answer = await self._http.send(Service.GRAPH, "POST", self.base + "/$batch", json_body=body)
        responses = answer.get("responses") if isinstance(answer, Mapping) else None
        by_key: dict[str, Mapping[str, Any]] = {}
        for response in responses if isinstance(responses, list) else ():
            if isinstance(response, Mapping) and str(response.get("id")) in ids:
                by_key[ids[str(response["id"])].key] = response
        return by_key

    def _settle(
        self,
        item: _Pending,
        response: Mapping[str, Any] | None,
        results: dict[str, list[dict[str, Any]] | MailwardenError],
    ) -> _Again | None:
        """Record one sub-response; return what to send again, or None when `item.key` is done."""
        status = _int(response.get("status")) if response is not None else None
        body = response.get("body") if response is not None else None
        if status is not None and 200 <= status < 300 and _is_page(body):
            assert isinstance(body, Mapping)
            bucket = results[item.key]
            assert isinstance(bucket, list)
            bucket.extend(v for v in body["value"] if isinstance(v, dict))
            link = body.get("@odata.nextLink")
            if link:
                return _Again(pending=_Pending(key=item.key, url=self._relative(str(link))))
            return None
        url = self.base + item.url
        if (
            status is not None
            and status < 500
            and status not in _THROTTLED | {408}
            and not (200 <= status < 300)
        ):
            results[item.key] = self._http.refusal(
                Service.GRAPH, "GET", url, status, error_detail(body)
            )
            return None
        throttled = status in _THROTTLED
        reason = "no answer in the batch" if status is None else f"HTTP {status}"
        if status is not None and 200 <= status < 300:
            reason = f"HTTP {status} with a malformed body"
        counters = self._http.counters[Service.GRAPH]
        if throttled:
            counters.throttled += 1
        if item.attempt >= self._http.settings.retry.max_attempts:
            results[item.key] = self._http.exhausted(Service.GRAPH, "GET", url, reason, throttled)
            return None
        counters.retries += 1
        headers = response.get("headers") if response is not None else None
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        return _Again(
            pending=_Pending(key=item.key, url=item.url, attempt=item.attempt + 1),
            wait=self._http.delay_for(retry_after, item.attempt),
            throttled=throttled and retry_after is not None,
        )

    def _relative(self, link: str) -> str:
        """A next link made relative to the version, as `$batch` sub-requests must be."""
        parts = urlsplit(link)
        path = parts.path
        marker = f"/{self._version}/"
        if marker in path:
            path = "/" + path.split(marker, 1)[1]
        return path + (f"?{parts.query}" if parts.query else "")


def _is_page(body: Any) -> bool:
    return isinstance(body, Mapping) and isinstance(body.get("value"), list)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if str(k).lower() == wanted), None)
