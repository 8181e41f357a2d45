"""Live collection: read a tenant through Graph and Exchange Online into a `RecordedTenant`.

Every source is read concurrently (Graph and Exchange each within their own concurrency
limit), at the largest page size each endpoint allows, with `$select` so only what the
recorded tenant keeps travels, and group members through `$batch`. A source that fails
is recorded in `errors` with its message and left out of `data`; the others complete.
Each step (one source, or a source and those read from its answer) is contained: a
service error it lets out fails its sources that have no outcome yet, and no others. Only
a sign-in failure ends the collection (every other call would fail the same way), and a
fault in mailwarden itself is raised, never recorded as a source's failure.

`CollectMode.SEQUENTIAL` is the naive baseline, kept as a real mode so benchmarks measure
against something honest: one request at a time, server-default page sizes, no `$batch`,
and no `$select` except on users, where Graph returns the needed properties only when
they are named.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mailwarden.collect import fields
from mailwarden.collect.licensed import KnownLicences, users_with_fallback
from mailwarden.collect.mailboxes import (
    PerMailbox,
    SourceOutcome,
    licensed_accounts,
    ownerless_by_type,
)
from mailwarden.collect.mailboxes import unlicensed_user_mailbox as _unlicensed
from mailwarden.errors import (
    AuthError,
    DeadlineReachedError,
    LicenceRequiredError,
    MailwardenError,
    ServiceError,
)
from mailwarden.m365.exchange import EXO_MAX_PAGE_SIZE, ExchangeClient
from mailwarden.m365.graph import (
    DIRECTORY_MAX_TOP,
    USERS_WITH_SIGN_IN_ACTIVITY_MAX_TOP,
    GraphClient,
)
from mailwarden.m365.http import M365Http, Service
from mailwarden.m365.permissions import token_roles, withheld_user_properties
from mailwarden.progress import Progress
from mailwarden.settings import CollectMode, Settings
from mailwarden.tenant.licences import limitation_reason
from mailwarden.tenant.recorded import ALL_SOURCES, RecordedTenant
from mailwarden.text import plural
from mailwarden.times import iso


def _silent(step: str, done: int, total: int | None = None) -> None:
    return None


#: Graph list sources: name -> (path, $select, largest $top, Graph version).
GRAPH_LISTS: dict[str, tuple[str, tuple[str, ...], int | None, str]] = {
    "graph/users": ("/users", fields.USER, USERS_WITH_SIGN_IN_ACTIVITY_MAX_TOP, "v1.0"),
    "graph/roleAssignments": (
        "/roleManagement/directory/roleAssignments",
        fields.ROLE_ASSIGNMENT,
        None,
        "v1.0",
    ),
    "graph/roleDefinitions": (
        "/roleManagement/directory/roleDefinitions",
        fields.ROLE_DEFINITION,
        None,
        "v1.0",
    ),
    "graph/conditionalAccessPolicies": (
        "/identity/conditionalAccess/policies",
        fields.CONDITIONAL_ACCESS,
        None,
        "v1.0",
    ),
    "graph/settings": ("/settings", fields.DIRECTORY_SETTING, None, "beta"),
    "graph/userRegistrationDetails": (
        "/reports/authenticationMethods/userRegistrationDetails",
        fields.REGISTRATION,
        DIRECTORY_MAX_TOP,
        "v1.0",
    ),
    "graph/subscribedSkus": ("/subscribedSkus", fields.SUBSCRIBED_SKU, None, "v1.0"),
    "graph/roleEligibilitySchedules": (
        "/roleManagement/directory/roleEligibilitySchedules",
        fields.ROLE_ELIGIBILITY,
        None,
        "v1.0",
    ),
}
#: Graph single objects: name -> (path, Graph version).
GRAPH_OBJECTS: dict[str, tuple[str, str]] = {
    "graph/securityDefaults": ("/policies/identitySecurityDefaultsEnforcementPolicy", "v1.0"),
}
#: Read first: whether the tenant holds Entra ID P1/P2 tells a licence refusal from a
#: refusal Graph gives licensed tenants when the app cannot read their licences.
_SKUS = "graph/subscribedSkus"
#: Organisation-wide Exchange cmdlets: name -> (cmdlet, parameters, $select or None).
EXO_LISTS: dict[str, tuple[str, dict[str, Any], tuple[str, ...] | None]] = {
    "exo/Get-CASMailbox": ("Get-CASMailbox", {"ResultSize": "Unlimited"}, fields.CAS_MAILBOX),
    "exo/Get-User": ("Get-User", {"ResultSize": "Unlimited"}, fields.EXO_USER),
    "exo/Get-RecipientPermission": (
        "Get-RecipientPermission",
        {"ResultSize": "Unlimited"},
        fields.RECIPIENT_PERMISSION,
    ),
    "exo/Get-MailboxAuditBypassAssociation": (
        "Get-MailboxAuditBypassAssociation",
        {"ResultSize": "Unlimited"},
        fields.AUDIT_BYPASS,
    ),
    "exo/Get-AuthenticationPolicy": ("Get-AuthenticationPolicy", {}, None),
    "exo/Get-MailContact": ("Get-MailContact", {"ResultSize": "Unlimited"}, fields.MAIL_CONTACT),
    "exo/Get-MailUser": ("Get-MailUser", {"ResultSize": "Unlimited"}, fields.MAIL_USER),
    "exo/Get-OrganizationConfig": ("Get-OrganizationConfig", {}, fields.ORGANIZATION_CONFIG),
    "exo/Get-TransportConfig": ("Get-TransportConfig", {}, fields.TRANSPORT_CONFIG),
    "exo/Get-ApplicationAccessPolicy": ("Get-ApplicationAccessPolicy", {}, None),
    # RBAC for Applications only: assignments to service principals (-RoleAssigneeType,
    # office-docs-powershell Get-ManagementRoleAssignment.md).
    "exo/Get-ManagementRoleAssignment": (
        "Get-ManagementRoleAssignment", {"RoleAssigneeType": "ServicePrincipal"}, None),
}
#: The resources whose app roles read or send mail: Microsoft Graph and Office 365
#: Exchange Online (well-known appIds).
MAIL_RESOURCE_APP_IDS = ("00000003-0000-0000-c000-000000000000",
                         "00000002-0000-0ff1-ce00-000000000000")
_SINGLE_OBJECT = {"exo/Get-OrganizationConfig", "exo/Get-TransportConfig"}


@dataclass(frozen=True, slots=True)
class _Step:
    """One unit of the collection and the sources it records."""

    sources: tuple[str, ...]
    run: Callable[[], Awaitable[Any]]


class _Collection:
    def __init__(self, http: M365Http, settings: Settings, progress: Progress) -> None:
        self.fast = settings.collect_mode is CollectMode.FAST
        self.http = http
        self.graph = GraphClient(http)
        self.exo = ExchangeClient(http, settings.require_tenant())
        self.progress = progress
        self.started = datetime.now(UTC)
        self.data: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.limitations: dict[str, str] = {}
        self.licences = KnownLicences()
        self.mailbox_errors: dict[str, dict[str, str]] = {}
        self.mailboxes = PerMailbox(
            self.exo,
            concurrent=self.fast,
            select=self.fast,
            page_size=EXO_MAX_PAGE_SIZE if self.fast else None,
            report=progress,
        )

    async def source(self, name: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """Run one source; record its value, or its error (and return None).

        An authentication failure is not one source's problem: every other call would fail
        the same way, so it ends the collection with its own message."""
        try:
            value = await fetch()
        except AuthError:
            raise
        except LicenceRequiredError as exc:
            # Not a failure: the tenant lacks the licence; the checks that need it say why.
            licences = None if name == _SKUS else await self.licences.tier()
            self.limitations[name] = limitation_reason(name, licences, licence=exc.licence)
            return None
        except MailwardenError as exc:
            self.errors[name] = str(exc)
            return None
        self.data[name] = value
        return value

    async def contained(self, step: _Step) -> None:
        """Run one step; a service error it lets out fails those of its sources that have
        no outcome yet, and the other steps go on. A sign-in failure ends the collection;
        anything that is not a mailwarden error is a fault in mailwarden, and is raised."""
        try:
            await step.run()
        except AuthError:
            raise
        except MailwardenError as exc:
            for name in step.sources:
                if not any(name in kept for kept in (self.data, self.errors, self.limitations)):
                    self.errors[name] = str(exc)

    async def skus(self) -> None:
        try:
            await self.source(_SKUS, lambda: self.graph_list(_SKUS))
        finally:
            self.licences.settle(self.data.get(_SKUS))

    async def users(self) -> list[dict[str, Any]]:
        select = tuple(f for f in fields.USER if f != "signInActivity")
        return await users_with_fallback(
            lambda: self.graph_list("graph/users"),
            lambda: self.graph.collection(
                "/users",
                select=select,
                top=DIRECTORY_MAX_TOP if self.fast else None,
                on_page=self.counter("graph/users"),
            ),
            self.licences,
            self.limitations,
        )

    async def graph_object(self, name: str) -> dict[str, Any]:
        path, version = GRAPH_OBJECTS[name]
        client = self.graph if version == "v1.0" else self.graph.at(version)
        value = await client.get(path)
        if not isinstance(value, dict):
            raise ServiceError(f"Microsoft Graph returned no object for {path}", status=200)
        return {k: v for k, v in value.items() if not k.startswith("@odata.")}

    def counter(self, name: str) -> Callable[[int], None]:
        return lambda done: self.progress(name, done, None)

    async def tenant(self) -> dict[str, Any]:
        organizations = await self.graph.collection(
            "/organization", select=fields.ORGANIZATION if self.fast else None
        )
        if not organizations:
            raise ServiceError("Microsoft Graph returned no organization object", status=200)
        org = organizations[0]
        domains = [d for d in org.get("verifiedDomains") or () if isinstance(d, dict)]
        default = next((d.get("name") for d in domains if d.get("isDefault")), None)
        info: dict[str, Any] = {
            "tenantId": org.get("id"),
            "displayName": org.get("displayName"),
            "defaultDomain": default,
            "verifiedDomains": [d.get("name") for d in domains if d.get("name")],
            "collectedAt": iso(self.started),
        }
        # Graph answers some user properties with null instead of refusing them; say so
        # where the token's roles show the permission is missing, or null reads as "none".
        roles = token_roles(await self.http.token(Service.GRAPH))
        withheld = withheld_user_properties(roles)
        if withheld:
            info["unreadable"] = {f"graph/users.{name}": why for name, why in withheld.items()}
        return info

    async def graph_list(self, name: str) -> list[dict[str, Any]]:
        path, select, top, version = GRAPH_LISTS[name]
        # Users' needed properties are not in Graph's default set: even the baseline names them.
        wanted = select if self.fast or name == "graph/users" else None
        client = self.graph if version == "v1.0" else self.graph.at(version)
        return await client.collection(
            path, select=wanted, top=top if self.fast else None, on_page=self.counter(name)
        )

    async def group_members(self, groups: Sequence[dict[str, Any]]) -> dict[str, Any]:
        ids = [str(g["id"]) for g in groups if g.get("id")]
        name = "graph/groupMembers"
        if not self.fast:
            members: dict[str, Any] = {}
            for done, gid in enumerate(ids, start=1):
                members[gid] = await self.graph.collection(f"/groups/{gid}/members")
                self.progress(name, done, len(ids))
            return members
        query = f"?$select={','.join(fields.MEMBER)}&$top={DIRECTORY_MAX_TOP}"
        answers = await self.graph.batch_list(
            {gid: f"/groups/{gid}/members{query}" for gid in ids},
            on_done=lambda done: self.progress(name, done, len(ids)),
        )
        failures = {
            gid: answer
            for gid, answer in answers.items()
            if isinstance(answer, MailwardenError)
            and not (isinstance(answer, ServiceError) and answer.status == 404)
        }
        if failures:
            first = next(iter(failures.values()))
            raise type(first)(f"members of {len(failures)} of {len(ids)} groups: {first}")
        return {gid: answer for gid, answer in answers.items() if isinstance(answer, list)}

    async def groups_and_members(self, users: asyncio.Event) -> None:
        groups = await self.source(
            "graph/groups",
            lambda: self.graph.collection(
                "/groups",
                select=fields.GROUP if self.fast else None,
                top=DIRECTORY_MAX_TOP if self.fast else None,
                on_page=self.counter("graph/groups"),
            ),
        )
        if groups is None:
            self.errors["graph/groupMembers"] = "not collected: the group list failed"
            return
        # Member batches are one sub-request per group, each charged to the tenant's Graph
        # throttling budget: started beside the user pages they would starve the users,
        # which the per-mailbox Exchange calls of unlicensed mailboxes wait for.
        await users.wait()
        await self.source("graph/groupMembers", lambda: self.group_members(groups))

    async def applications(self) -> None:
        """Service principals, then who holds app roles of the mail resources among them."""
        principals = await self.source(
            "graph/servicePrincipals",
            lambda: self.graph.collection(
                "/servicePrincipals",
                select=fields.SERVICE_PRINCIPAL if self.fast else None,
                top=DIRECTORY_MAX_TOP if self.fast else None,
                on_page=self.counter("graph/servicePrincipals"),
            ),
        )
        if principals is None:
            self.errors["graph/appRoleAssignedTo"] = "not collected: servicePrincipals failed"
            return
        await self.source("graph/appRoleAssignedTo", lambda: self.assigned_to(principals))

    async def assigned_to(self, principals: Sequence[dict[str, Any]]) -> dict[str, Any]:
        ids = [str(sp["id"]) for sp in principals
               if str(sp.get("appId", "")).lower() in MAIL_RESOURCE_APP_IDS and sp.get("id")]
        if not self.fast:
            return {rid: await self.graph.collection(f"/servicePrincipals/{rid}/appRoleAssignedTo")
                    for rid in ids}
        query = f"?$select={','.join(fields.APP_ROLE_ASSIGNMENT)}&$top={DIRECTORY_MAX_TOP}"
        answers = await self.graph.batch_list(
            {rid: f"/servicePrincipals/{rid}/appRoleAssignedTo{query}" for rid in ids})
        for rid, answer in answers.items():
            if isinstance(answer, MailwardenError):
                raise type(answer)(f"appRoleAssignedTo of {rid}: {answer}")
        return {rid: answer for rid, answer in answers.items() if isinstance(answer, list)}

    async def exo_list(self, name: str) -> Any:
        cmdlet, parameters, select = EXO_LISTS[name]
        rows = await self.exo.invoke(
            cmdlet,
            parameters,
            select=select if self.fast else None,
            page_size=EXO_MAX_PAGE_SIZE if self.fast else None,
            on_page=self.counter(name),
        )
        if name in _SINGLE_OBJECT:
            if not rows:
                raise ServiceError(f"{cmdlet} returned nothing", status=200)
            return rows[0]
        return rows

    async def mailboxes_and_details(self, users: asyncio.Event) -> None:
        """Get-Mailbox, then the per-mailbox cmdlets for the ownerless ones."""

        def offer(rows: list[dict[str, Any]]) -> None:
            self.mailboxes.add(r for r in rows if ownerless_by_type(r))

        mailboxes = await self.source(
            "exo/Get-Mailbox",
            lambda: self.exo.invoke(
                "Get-Mailbox",
                {"ResultSize": "Unlimited"},
                select=fields.MAILBOX if self.fast else None,
                page_size=EXO_MAX_PAGE_SIZE if self.fast else None,
                on_page=self.counter("exo/Get-Mailbox"),
                on_rows=offer,
            ),
        )
        if mailboxes is None:
            await self.mailboxes.stop()  # the calls started for the pages that came
            for item in self.mailboxes.sources:
                self.errors[item.name] = "not collected: Get-Mailbox failed"
            return
        await users.wait()
        licensed = licensed_accounts(self.data.get("graph/users"))
        self.mailboxes.add(r for r in mailboxes if _unlicensed(r, licensed))
        self.record_per_mailbox(await self.mailboxes.finish())

    def record_per_mailbox(self, outcomes: Mapping[str, SourceOutcome]) -> None:
        for name, outcome in outcomes.items():
            if outcome.error is not None:
                self.errors[name] = outcome.error
                continue
            self.data[name] = outcome.rows
            if outcome.failed:
                self.mailbox_errors[name] = outcome.failed

    def steps(self, users_done: asyncio.Event) -> list[_Step]:
        async def users() -> None:
            try:
                await self.source("graph/users", self.users)
            finally:
                users_done.set()  # the steps waiting for users go on without them

        steps = [
            _Step(("tenant",), lambda: self.source("tenant", self.tenant)),
            _Step((_SKUS,), self.skus),
            _Step(("graph/users",), users),
            _Step(("graph/groups", "graph/groupMembers"),
                  lambda: self.groups_and_members(users_done)),
            _Step(("graph/servicePrincipals", "graph/appRoleAssignedTo"), self.applications),
        ]
        steps += [
            _Step((n,), _bind(self.source, n, self.graph_list))
            for n in GRAPH_LISTS
            if n not in {"graph/users", _SKUS}
        ]
        steps += [_Step((n,), _bind(self.source, n, self.graph_object)) for n in GRAPH_OBJECTS]
        steps += [_Step((n,), _bind(self.source, n, self.exo_list)) for n in EXO_LISTS]
        per_mailbox = tuple(item.name for item in self.mailboxes.sources)
        steps.append(_Step(("exo/Get-Mailbox", *per_mailbox),
                           lambda: self.mailboxes_and_details(users_done)))
        return steps

    def stop_at_deadline(self) -> tuple[list[str], int]:
        """Record what the deadline cut short: the per-mailbox sources keep the mailboxes
        they read (the others failed per mailbox) once every mailbox is known, and every
        source without an outcome fails. The sources failed, and the mailboxes cut short."""
        done = self.data.keys() | self.errors.keys() | self.limitations.keys()
        cut = 0
        if not any(item.name in done for item in self.mailboxes.sources):
            outcomes = self.mailboxes.cut_off(DEADLINE_REACHED)
            if outcomes is not None:
                self.record_per_mailbox(outcomes)
                cut = len({key for outcome in outcomes.values()
                           for key, why in outcome.failed.items() if why == DEADLINE_REACHED})
            done = self.data.keys() | self.errors.keys() | self.limitations.keys()
        unfinished = [source for source in ALL_SOURCES if source not in done]
        for name in unfinished:
            self.errors[name] = DEADLINE_REACHED
        return unfinished, cut


def _bind(
    source: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]],
    name: str,
    fetch: Callable[[str], Awaitable[Any]],
) -> Callable[[], Awaitable[Any]]:
    return lambda: source(name, lambda: fetch(name))


#: The error recorded for each source a collection had not finished when its deadline came.
DEADLINE_REACHED = "deadline reached"


async def collect_tenant(
    http: M365Http, settings: Settings, *, progress: Progress | None = None
) -> RecordedTenant:
    """Read everything the checks need from the tenant `settings` names.

    A source that fails is recorded in `errors` (a per-mailbox source's failed mailboxes
    in `mailbox_errors`) and the others complete; only a sign-in failure (AuthError) ends
    the collection. The whole collection has `settings.collect_deadline` seconds: when they
    run out, every source still being read is recorded as failed with DEADLINE_REACHED
    (the per-mailbox sources keep the mailboxes they read, and record the rest as failed
    with it) and DeadlineReachedError carries what was read (`partial`)."""
    run = _Collection(http, settings, progress or _silent)
    users_done = asyncio.Event()
    steps = run.steps(users_done)
    deadline = asyncio.timeout(settings.collect_deadline)
    try:
        async with deadline:
            if run.fast:
                await asyncio.gather(*(run.contained(step) for step in steps))
            else:
                for step in steps:
                    await run.contained(step)
    except TimeoutError:
        if not deadline.expired():
            raise
        unfinished, cut = run.stop_at_deadline()
        mailboxes = (f" and {plural(cut, 'mailbox', 'mailboxes')} of the per-mailbox calls"
                     if cut else "")
        raise DeadlineReachedError(
            f"the collection reached its deadline of {_seconds(settings.collect_deadline)} "
            f"with {len(unfinished)} of {len(ALL_SOURCES)} sources{mailboxes} unfinished; "
            "what was read is kept (raise the deadline with --deadline)",
            partial=_recorded(run),
        ) from None
    finally:
        await run.mailboxes.stop()  # per-mailbox calls still running when it ended early
    return _recorded(run)


def _recorded(run: _Collection) -> RecordedTenant:
    return RecordedTenant(data=run.data, errors=run.errors, limitations=run.limitations,
                          mailbox_errors=run.mailbox_errors)


def _seconds(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{secs}s" if secs or not whole else ""]
    return "".join(parts) or f"{seconds:g}s"
