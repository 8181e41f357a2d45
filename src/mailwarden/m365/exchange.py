"""Exchange Online cmdlets over the admin REST API that ExchangeOnlineManagement v3 uses.

`POST {exo}/adminapi/beta/{tenant}/InvokeCommand` with
`{"CmdletInput": {"CmdletName": ..., "Parameters": {...}}}`; results come in OData pages,
and the next page is fetched by POSTing the same body to `@odata.nextLink`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from mailwarden.m365.http import M365Http, Service, page_items

#: The most rows Exchange returns per page (`Prefer: odata.maxpagesize`).
EXO_MAX_PAGE_SIZE = 1000
#: The organisation's system mailbox that app-only calls are routed to.
SYSTEM_MAILBOX = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"

Progress = Callable[[int], None]


class ExchangeClient:
    def __init__(self, http: M365Http, tenant: str) -> None:
        self._http = http
        self.tenant = tenant
        exo = http.settings.endpoints.exo_url
        self.url = f"{exo}/adminapi/beta/{quote(tenant, safe='')}/InvokeCommand"
        self.warnings: list[str] = []  # "@adminapi.warnings" the service attached to answers

    def headers(self, cmdlet: str, page_size: int | None) -> dict[str, str]:
        """The headers the ExchangeOnlineManagement module sends, asking for JSON."""
        headers = {
            "Accept": "application/json",
            "Accept-Charset": "UTF-8",
            "Content-Type": "application/json",
            "X-CmdletName": cmdlet,
            "client-request-id": str(uuid.uuid4()),
            "connection-id": self._http.connection_id,
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
        on_page: Progress | None = None,
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
        async for page in self._http.pages(
            Service.EXCHANGE,
            url,
            method="POST",
            json_body=body,
            headers=self.headers(cmdlet, page_size),
            priority=priority,
        ):
            items = page_items(page)
            rows.extend(items)
            if on_rows is not None:
                on_rows(items)
            warnings = page.get("@adminapi.warnings")
            if isinstance(warnings, list):
                self.warnings.extend(f"{cmdlet}: {w}" for w in warnings)
            if on_page is not None:
                on_page(len(rows))
        return rows
