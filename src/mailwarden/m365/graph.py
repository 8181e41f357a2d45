"""Microsoft Graph helpers: paged collections with `$select`/`$top`, and `$batch`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from mailwarden.errors import MailwardenError
from mailwarden.m365.batching import Batcher, SubRequest, answers_by_key
from mailwarden.m365.http import M365Http, Service, page_items
from mailwarden.progress import CountProgress

#: Largest `$top` Graph accepts on directory collections (users, groups, members); above it
#: Graph answers 400 Request_UnsupportedQuery "Must be between 1 and 999 inclusive".
DIRECTORY_MAX_TOP = 999
#: Listing users with signInActivity selected (or filtered), Graph serves at most 120 a page:
#: "Requests with $top set higher than 120 will return pages with up to 120 users" (Graph
#: user resource). Asking for more gains nothing; every page is followed by its next link.
USERS_WITH_SIGN_IN_ACTIVITY_MAX_TOP = 120
#: Sub-requests per `$batch` request: Graph's own limit.
BATCH_LIMIT = 20


def users_page_size(select: Sequence[str] | None) -> int:
    """The `$top` that gets the largest pages of users Graph serves for this `$select`."""
    if select and any(name.lower() == "signinactivity" for name in select):
        return USERS_WITH_SIGN_IN_ACTIVITY_MAX_TOP
    return DIRECTORY_MAX_TOP


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
        on_page: CountProgress | None = None,
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
        self, paths: Mapping[str, str], *, on_done: CountProgress | None = None
    ) -> dict[str, list[dict[str, Any]] | MailwardenError]:
        """GET many collections through `$batch`, 20 per request, all batches concurrently.

        Each key gets its items (every page followed, next pages batched too) or the error
        that stopped it. Throttled or failed sub-requests are retried on their own, not with
        their batch; a throttled one's Retry-After holds back every Graph call meanwhile. A
        batch request that fails after its retries fails the sub-requests it carried (each
        key gets that error); a refused sign-in (AuthError) is raised.
        """
        batcher = Batcher(
            http=self._http,
            service=Service.GRAPH,
            limit=BATCH_LIMIT,
            send_chunk=self._send_batch,
            next_url=self._relative,
            full_url=lambda sub: self.base + sub.url,
        )
        pending = [SubRequest(key=k, url=p) for k, p in paths.items()]
        return await batcher.run(pending, on_done=on_done)

    async def _send_batch(self, chunk: Sequence[SubRequest]) -> dict[str, Mapping[str, Any]]:
        ids = {str(index): item for index, item in enumerate(chunk, start=1)}
        body = {
            "requests": [{"id": rid, "method": "GET", "url": it.url} for rid, it in ids.items()]
        }
        answer = await self._http.send(Service.GRAPH, "POST", self.base + "/$batch", json_body=body)
        return answers_by_key(answer, ids)

    def _relative(self, link: str) -> str:
        """A next link made relative to the version, as `$batch` sub-requests must be."""
        parts = urlsplit(link)
        path = parts.path
        marker = f"/{self._version}/"
        if marker in path:
            path = "/" + path.split(marker, 1)[1]
        return path + (f"?{parts.query}" if parts.query else "")
