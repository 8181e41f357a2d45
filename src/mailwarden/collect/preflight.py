"""Preflight (`mailwarden doctor`): sign in once, read what the tokens grant, and send
one cheap request for every source `collect` reads, so that a person knows what a long
collection would lose before starting it.

The sources are the collector's own tables (`live.GRAPH_LISTS`, `live.EXO_LISTS`, the
per-mailbox cmdlets of `mailboxes.PerMailbox`) plus the few it reads on its own (the
organisation, groups and their members, Get-Mailbox), so a source added there is probed
here too. Each probe asks for one row (`$top=1`, `ResultSize 1`, one page) with the
collector's own `$select`, and reads only the first page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from mailwarden.collect import fields
from mailwarden.collect.live import EXO_LISTS, GRAPH_LISTS, GRAPH_OBJECTS
from mailwarden.collect.mailboxes import PerMailbox, mailbox_key
from mailwarden.collect.verdicts import (
    ACCESS_PROBLEMS,
    NO_PREMIUM,
    SERVICE_PROBLEMS,
    Finding,
    Verdict,
    exchange_app_permission,
    exchange_refusal,
    graph_refusal,
    silently_missing,
)
from mailwarden.errors import AuthError, MailwardenError
from mailwarden.m365.claims import TokenGrants, token_grants
from mailwarden.m365.exchange import ExchangeClient
from mailwarden.m365.graph import collection_path
from mailwarden.m365.http import M365Http, Service, page_items


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """One source's probe: the request sent and what its answer means."""

    source: str
    service: Service
    request: str
    verdict: Verdict
    grant: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Preflight:
    tenant: str
    #: What each service's token grants (absent when signing in failed).
    grants: Mapping[Service, TokenGrants] = field(default_factory=dict)
    probes: tuple[Probe, ...] = ()

    @property
    def access_problems(self) -> tuple[Probe, ...]:
        return tuple(p for p in self.probes if p.verdict in ACCESS_PROBLEMS)

    @property
    def service_problems(self) -> tuple[Probe, ...]:
        return tuple(p for p in self.probes if p.verdict in SERVICE_PROBLEMS)

    @property
    def limitations(self) -> tuple[Probe, ...]:
        return tuple(p for p in self.probes if p.verdict is Verdict.LICENCE)


def _silent(step: str, done: int, total: int | None = None) -> None:
    return None


def _probe(source: str, service: Service, request: str, found: Finding) -> Probe:
    return Probe(source=source, service=service, request=request, verdict=found.verdict,
                 grant=found.grant, detail=found.detail)


def _without(select: Sequence[str], name: str) -> tuple[str, ...]:
    return tuple(s for s in select if s.lower() != name.lower())


class _Doctor:
    def __init__(self, http: M365Http, tenant: str) -> None:
        self.http = http
        self.graph_base = http.settings.endpoints.graph_url
        self.exo = ExchangeClient(http, tenant)
        self.grants: dict[Service, TokenGrants] = {}

    async def sign_in(self, service: Service) -> Probe:
        label = "Microsoft Graph" if service is Service.GRAPH else "Exchange Online"
        request = f"token for {self.http.scope(service)}"
        try:
            grants = token_grants(await self.http.token(service))
        except AuthError as exc:
            return Probe(source=f"sign-in ({label})", service=service, request=request,
                         verdict=Verdict.SIGN_IN, detail=str(exc))
        self.grants[service] = grants
        if service is Service.EXCHANGE:
            found = exchange_app_permission(grants)
        else:
            names = ", ".join(sorted(grants.permissions)) or "none"
            detail = (f"{grants.kind.value} permissions: {names}" if grants.known
                      else "the token does not say what it grants; the probes will")
            found = Finding(verdict=Verdict.OK, detail=detail)
        return _probe(f"sign-in ({label})", service, request, found)

    # Microsoft Graph

    def graph_url(self, path: str, select: Sequence[str] | None, top: bool, version: str) -> str:
        return (f"{self.graph_base}/{version}"
                + collection_path(path, select=select, top=1 if top else None))

    def shown(self, url: str) -> str:
        parts = urlsplit(url)
        return f"GET {parts.path}" + (f"?{parts.query}" if parts.query else "")

    async def graph(
        self, source: str, path: str, select: Sequence[str] | None, top: bool,
        version: str = "v1.0",
    ) -> tuple[Probe, list[dict[str, Any]]]:
        """Probe one Graph source; its verdict and the rows of the first page."""
        grants = self.grants[Service.GRAPH]
        url = self.graph_url(path, select, top, version)
        try:
            body = await self.http.send(Service.GRAPH, "GET", url)
        except MailwardenError as exc:
            found = graph_refusal(url, exc, grants)
            if found.verdict is Verdict.LICENCE and NO_PREMIUM in str(exc) and select and any(
                s.lower() == "signinactivity" for s in select
            ):
                found = await self.without_sign_in_activity(path, select, top, version, found)
            return _probe(source, Service.GRAPH, self.shown(url), found), []
        listed = isinstance(body, Mapping) and isinstance(body.get("value"), list)
        rows = page_items(body) if listed else []
        found = silently_missing(url, grants) or Finding(verdict=Verdict.OK)
        return _probe(source, Service.GRAPH, self.shown(url), found), rows

    async def without_sign_in_activity(
        self, path: str, select: Sequence[str], top: bool, version: str, licence: Finding
    ) -> Finding:
        """Users without signInActivity: what collect reads on a tenant without P1."""
        url = self.graph_url(path, _without(select, "signInActivity"), top, version)
        try:
            await self.http.send(Service.GRAPH, "GET", url)
        except MailwardenError as exc:
            return graph_refusal(url, exc, self.grants[Service.GRAPH])
        return Finding(
            verdict=Verdict.LICENCE, grant=licence.grant,
            detail=f"users are readable, but not their signInActivity. {licence.detail}",
        )

    async def graph_sources(self) -> list[Probe]:
        simple: list[tuple[str, str, Sequence[str], bool, str]] = [
            ("tenant", "/organization", fields.ORGANIZATION, False, "v1.0")
        ]
        simple += [(name, path, select, top is not None, version)
                   for name, (path, select, top, version) in GRAPH_LISTS.items()]
        simple += [(name, path, (), False, version)
                   for name, (path, version) in GRAPH_OBJECTS.items()]
        grouped = asyncio.ensure_future(self.groups_and_members())
        applications = asyncio.ensure_future(self.applications())
        listed = await asyncio.gather(*(self.graph(*args) for args in simple))
        return [probe for probe, _ in listed] + await grouped + await applications

    async def applications(self) -> list[Probe]:
        """Service principals (Application.Read.All), then one's appRoleAssignedTo."""
        return await self._list_then_child(
            ("graph/servicePrincipals", "/servicePrincipals", fields.SERVICE_PRINCIPAL),
            ("graph/appRoleAssignedTo", "/servicePrincipals/{}/appRoleAssignedTo",
             fields.APP_ROLE_ASSIGNMENT), "service principal")

    async def groups_and_members(self) -> list[Probe]:
        return await self._list_then_child(
            ("graph/groups", "/groups", fields.GROUP),
            ("graph/groupMembers", "/groups/{}/members", fields.MEMBER), "group")

    async def _list_then_child(self, parent: tuple[str, str, Sequence[str]],
                               child: tuple[str, str, Sequence[str]], noun: str
                               ) -> list[Probe]:
        """Probe a list, then the child source of its first object (a source read per
        object); with no object to take, the child is not probed, and the reason said."""
        listed, rows = await self.graph(*parent, True)
        name, path, select = child
        first = next((str(r["id"]) for r in rows if r.get("id")), None)
        if first is None:
            why = (f"{parent[0]} was not read" if listed.verdict is not Verdict.OK
                   else f"the tenant has no {noun} to probe with")
            return [listed, Probe(source=name, service=Service.GRAPH,
                                  request=f"GET /v1.0{path.format('{id}')}",
                                  verdict=Verdict.NOT_PROBED, detail=why)]
        probed, _ = await self.graph(name, path.format(quote(first, safe="")), select, True)
        return [listed, probed]

    # Exchange Online

    async def cmdlet(
        self, source: str, cmdlet: str, parameters: Mapping[str, Any],
        select: Sequence[str] | None,
    ) -> tuple[Probe, list[dict[str, Any]]]:
        """Run one cmdlet for one page of at most one row; its verdict and the rows."""
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": dict(parameters)}}
        url = self.exo.url
        if select:
            url += "?$select=" + quote(",".join(select), safe=",")
        shown = " ".join([cmdlet, *(f"-{k} {v}" for k, v in parameters.items())])
        try:
            answer = await self.http.send(
                Service.EXCHANGE, "POST", url, json_body=body,
                headers=self.exo.headers(cmdlet, 1), expect_collection=True,
            )
        except MailwardenError as exc:
            return _probe(source, Service.EXCHANGE, shown, exchange_refusal(cmdlet, exc)), []
        return _probe(source, Service.EXCHANGE, shown, Finding(verdict=Verdict.OK)), \
            page_items(answer)

    async def exchange_sources(self) -> list[Probe]:
        per_mailbox = asyncio.ensure_future(self.mailboxes())
        listed = await asyncio.gather(*(
            self.cmdlet(name, cmdlet, _one_row(parameters), select)
            for name, (cmdlet, parameters, select) in EXO_LISTS.items()
        ))
        return [probe for probe, _ in listed] + await per_mailbox

    async def mailboxes(self) -> list[Probe]:
        listed, rows = await self.cmdlet(
            "exo/Get-Mailbox", "Get-Mailbox", {"ResultSize": 1}, fields.MAILBOX
        )
        key = next((k for r in rows if (k := mailbox_key(r))), None)
        per_mailbox = PerMailbox(self.exo, concurrent=False, select=True, page_size=None,
                                 report=_silent).sources
        if key is None:
            why = ("Get-Mailbox was not read" if listed.verdict is not Verdict.OK
                   else "the tenant has no mailbox to probe with")
            return [listed, *(Probe(source=s.name, service=Service.EXCHANGE,
                                    request=f"{s.cmdlet} -{s.parameter} (a mailbox)",
                                    verdict=Verdict.NOT_PROBED, detail=why)
                              for s in per_mailbox)]
        probed = await asyncio.gather(*(
            self.cmdlet(s.name, s.cmdlet, {s.parameter: key}, s.select) for s in per_mailbox
        ))
        return [listed, *(probe for probe, _ in probed)]


def _one_row(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The collector's parameters, asking for one row where the cmdlet takes ResultSize."""
    return {k: (1 if k.lower() == "resultsize" else v) for k, v in parameters.items()}


def _not_probed(service: Service, why: str) -> Probe:
    label = "Microsoft Graph" if service is Service.GRAPH else "Exchange Online"
    return Probe(source=f"{label} sources", service=service, request="-",
                 verdict=Verdict.NOT_PROBED, detail=why)


async def preflight(http: M365Http, tenant: str) -> Preflight:
    """Sign in to Graph and Exchange Online, then probe every source `collect` reads."""
    doctor = _Doctor(http, tenant)
    graph_in, exchange_in = await asyncio.gather(
        doctor.sign_in(Service.GRAPH), doctor.sign_in(Service.EXCHANGE)
    )
    work = []
    if Service.GRAPH in doctor.grants:
        work.append(doctor.graph_sources())
    if Service.EXCHANGE in doctor.grants:
        work.append(doctor.exchange_sources())
    found = await asyncio.gather(*work)
    probes = [graph_in, exchange_in, *(p for group in found for p in group)]
    for service, probe in ((Service.GRAPH, graph_in), (Service.EXCHANGE, exchange_in)):
        if service not in doctor.grants:
            probes.append(_not_probed(service, f"signing in failed: {probe.detail}"))
    return Preflight(tenant=tenant, grants=dict(doctor.grants), probes=tuple(probes))
