"""Exchange Online cmdlets over the admin REST API that ExchangeOnlineManagement v3 uses.

`POST {exo}/adminapi/beta/{tenant}/InvokeCommand` with
`{"CmdletInput": {"CmdletName": ..., "Parameters": {...}}}`; results come in OData pages,
and the next page is fetched by POSTing the same body to `@odata.nextLink`.

Many small calls (one per mailbox) go through the API's JSON batch endpoint,
`POST {exo}/adminapi/beta/{tenant}/$batch`, ten InvokeCommand sub-requests per batch (the
size that established multi-tenant tools use), each answered on its own. Each sub-request
carries `Prefer: odata.continue-on-error` (CIPP's New-ExoBulkRequest sends it in the
headers it gives every sub-request), so that one failed sub-request does not stop the
ones after it, and asks for JSON (`Accept: application/json`), without which the service
answers multipart/mixed.

A 200 page is read for more than its rows (`exchange_pages`): errors beside the rows, or a
warning that the cmdlet stopped short, make the call fail with that message rather than
pass for a whole answer; other warnings are kept in `ExchangeClient.warnings`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mailwarden.errors import MailwardenError, ServiceError
from mailwarden.m365.batching import Batcher, SubRequest, answers_by_key
from mailwarden.m365.exchange_pages import page_notes, page_problem
from mailwarden.m365.http import M365Http, Service, page_items
from mailwarden.progress import CountProgress

#: The most rows Exchange returns per page (`Prefer: odata.maxpagesize`).
EXO_MAX_PAGE_SIZE = 1000
#: InvokeCommand sub-requests per `$batch` request.
EXO_BATCH_LIMIT = 10
#: The organisation's system mailbox that app-only calls are routed to.
SYSTEM_MAILBOX = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"
#: Answer every sub-request of a batch even when one of them fails.
CONTINUE_ON_ERROR = "odata.continue-on-error"


class ExchangeClient:
    def __init__(self, http: M365Http, tenant: str) -> None:
        self.http = http
        self.tenant = tenant
        exo = http.settings.endpoints.exo_url
        base = f"{exo}/adminapi/beta/{quote(tenant, safe='')}"
        self.url = f"{base}/InvokeCommand"
        self.batch_url = f"{base}/$batch"
        self.warnings: list[str] = []  # "@adminapi.warnings" the service attached to answers

    def headers(self, cmdlet: str, page_size: int | None) -> dict[str, str]:
        """The headers the ExchangeOnlineManagement module sends, asking for JSON."""
        headers = {
            "Accept": "application/json",
            "Accept-Charset": "UTF-8",
            "Content-Type": "application/json",
            "X-CmdletName": cmdlet,
            "client-request-id": str(uuid.uuid4()),
            "connection-id": self.http.connection_id,
            "X-AnchorMailbox": f"APP:{SYSTEM_MAILBOX}@{self.tenant}",
            "X-ResponseFormat": "json",
            "X-SerializationLevel": "Partial",
            "X-ClientApplication": "ExoManagementModule",
        }
        if page_size is not None:
            headers["Prefer"] = f"odata.maxpagesize={page_size}"
        return headers

    async def invoke(
        self,
        cmdlet: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        select: Sequence[str] | None = None,
        page_size: int | None = EXO_MAX_PAGE_SIZE,
        on_page: CountProgress | None = None,
        on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
        priority: int = 0,
    ) -> list[dict[str, Any]]:
        """Run a read cmdlet and return every row of every page.

        `page_size` None leaves the page size to the service (no Prefer header).
        """
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": dict(parameters or {})}}
        url = self.url
        if select:
            url += "?$select=" + quote(",".join(select), safe=",")
        rows: list[dict[str, Any]] = []
        async for page in self.http.pages(
            Service.EXCHANGE,
            url,
            method="POST",
            json_body=body,
            headers=self.headers(cmdlet, page_size),
            priority=priority,
        ):
            problem = self.read_notes(cmdlet, page)
            if problem is not None:
                raise ServiceError(problem, status=200, service=Service.EXCHANGE.value)
            items = page_items(page)
            rows.extend(items)
            if on_rows is not None:
                on_rows(items)
            if on_page is not None:
                on_page(len(rows))
        return rows

    def read_notes(self, cmdlet: str, page: Mapping[str, Any]) -> str | None:
        """Keep a page's warnings; say why it is not a whole answer (None when it is)."""
        notes = page_notes(page)
        self.warnings.extend(f"{cmdlet}: {w}" for w in notes.warnings)
        return page_problem(cmdlet, notes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One cmdlet run, for `ExchangeClient.invoke_many`."""

    cmdlet: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    select: Sequence[str] | None = None

    def body(self) -> dict[str, Any]:
        return {"CmdletInput": {"CmdletName": self.cmdlet, "Parameters": dict(self.parameters)}}


class ExchangeBatch:
    """Runs many calls through `$batch`; see `ExchangeClient.invoke_many`."""

    def __init__(self, client: ExchangeClient, calls: Mapping[str, Call], page_size: int | None,
                 priority: int) -> None:
        self.client = client
        self.calls = calls
        self.page_size = page_size
        self.priority = priority

    def url(self, call: Call) -> str:
        if not call.select:
            return self.client.url
        return self.client.url + "?$select=" + quote(",".join(call.select), safe=",")

    async def send_chunk(self, chunk: Sequence[SubRequest]) -> dict[str, Any]:
        ids = {str(index): sub for index, sub in enumerate(chunk, start=1)}
        requests = []
        for rid, sub in ids.items():
            call = self.calls[sub.key]
            sub_headers = self.client.headers(call.cmdlet, self.page_size)
            prefer = sub_headers.get("Prefer")
            sub_headers["Prefer"] = (
                f"{prefer}, {CONTINUE_ON_ERROR}" if prefer else CONTINUE_ON_ERROR
            )
            requests.append({
                "id": rid,
                "method": "POST",
                "url": sub.url,
                "body": call.body(),
                "headers": sub_headers,
            })
        headers = self.client.headers("$batch", self.page_size)
        answer = await self.client.http.send(
            Service.EXCHANGE, "POST", self.client.batch_url, json_body={"requests": requests},
            headers=headers, priority=self.priority,
        )
        return answers_by_key(answer, ids)

    def check_page(self, sub: SubRequest, page: Mapping[str, Any]) -> str | None:
        return self.client.read_notes(self.calls[sub.key].cmdlet, page)


async def invoke_many(
    client: ExchangeClient,
    calls: Mapping[str, Call],
    *,
    page_size: int | None = EXO_MAX_PAGE_SIZE,
    priority: int = 0,
    on_done: CountProgress | None = None,
) -> dict[str, list[dict[str, Any]] | MailwardenError]:
    """Run keyed calls ten to a `$batch` request; each key gets its rows (every page) or the
    error that stopped it, the error of its whole `$batch` request when that failed after
    its retries. A refused sign-in (AuthError) is raised."""
    batch = ExchangeBatch(client, calls, page_size, priority)
    batcher = Batcher(
        http=client.http,
        service=Service.EXCHANGE,
        limit=EXO_BATCH_LIMIT,
        send_chunk=batch.send_chunk,
        next_url=lambda link: link,  # the next page is the same body POSTed to the link
        full_url=lambda sub: sub.url,
        method="POST",
        check_page=batch.check_page,
    )
    pending = [SubRequest(key=key, url=batch.url(call)) for key, call in calls.items()]
    return await batcher.run(pending, on_done=on_done)
