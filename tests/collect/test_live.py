"""The live collector against a small scripted tenant (httpx.MockTransport).

The emulator end-to-end tests live in test_live_emulator.py; these pin the collector's own
decisions: what it asks for, which mailboxes get per-mailbox calls, and that a failed
source is recorded rather than hidden.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mailwarden.collect.live import collect_tenant
from mailwarden.collect.mailboxes import PerMailbox
from mailwarden.errors import AuthError, ServiceError
from mailwarden.m365.http import M365Http
from mailwarden.settings import CollectMode, RetryPolicy, Settings
from mailwarden.tenant.recorded import ALL_SOURCES, RecordedTenant

GRAPH = "https://graph.test"
EXO = "https://exo.test"
TENANT = "contoso.onmicrosoft.com"

USERS = [
    {"id": "u-shared", "userPrincipalName": "hr@contoso.com", "assignedLicenses": []},
    {
        "id": "u-alice",
        "userPrincipalName": "alice@contoso.com",
        "assignedLicenses": [{"skuId": "E3"}],
    },
    {"id": "u-ghost", "userPrincipalName": "ghost@contoso.com", "assignedLicenses": []},
]
MAILBOXES = [
    {
        "PrimarySmtpAddress": "hr@contoso.com",
        "RecipientTypeDetails": "SharedMailbox",
        "ExternalDirectoryObjectId": "u-shared",
    },
    {
        "PrimarySmtpAddress": "alice@contoso.com",
        "RecipientTypeDetails": "UserMailbox",
        "ExternalDirectoryObjectId": "u-alice",
    },
    {
        "PrimarySmtpAddress": "ghost@contoso.com",
        "RecipientTypeDetails": "UserMailbox",
        "ExternalDirectoryObjectId": "u-ghost",
    },
    {"PrimarySmtpAddress": "room1@contoso.com", "RecipientTypeDetails": "RoomMailbox"},
    {"PrimarySmtpAddress": "gone@contoso.com", "RecipientTypeDetails": "EquipmentMailbox"},
]
GRAPH_COLLECTIONS: dict[str, list[dict[str, Any]]] = {
    "/v1.0/organization": [
        {
            "id": "tid",
            "displayName": "Contoso",
            "verifiedDomains": [
                {"name": "contoso.com", "isDefault": True},
                {"name": TENANT, "isDefault": False},
            ],
        }
    ],
    "/v1.0/users": USERS,
    "/v1.0/groups": [{"id": "g1"}, {"id": "g2"}],
    "/v1.0/roleManagement/directory/roleAssignments": [{"id": "ra", "principalId": "u-alice"}],
    "/v1.0/roleManagement/directory/roleDefinitions": [{"id": "rd"}],
    "/v1.0/identity/conditionalAccess/policies": [{"id": "ca"}],
    "/beta/settings": [{"id": "s"}],
    "/v1.0/reports/authenticationMethods/userRegistrationDetails": [{"id": "u-alice"}],
    "/v1.0/subscribedSkus": [{"skuId": "E3", "skuPartNumber": "SPE_E3",
                              "servicePlans": [{"servicePlanName": "AAD_PREMIUM"}]}],
    "/v1.0/roleManagement/directory/roleEligibilitySchedules": [],
    "/v1.0/servicePrincipals": [{"id": "sp-graph",
                                 "appId": "00000003-0000-0000-c000-000000000000"}],
    "/v1.0/servicePrincipals/sp-graph/appRoleAssignedTo": [],
}
GRAPH_OBJECTS: dict[str, dict[str, Any]] = {
    "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy": {
        "id": "00000000-0000-0000-0000-000000000005", "isEnabled": False,
    },
}

#: The per-mailbox cmdlets, each answered with one row naming its mailbox.
PER_MAILBOX = ("Get-MailboxPermission", "Get-InboxRule", "Get-MailboxStatistics",
               "Get-CalendarProcessing")


class Tenant:
    """Answers Graph lists (paged by $top), $batch, and InvokeCommand from the data above."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.peak = 0
        #: path, cmdlet or "{host}/$batch" (every batch request) -> HTTP status to answer
        self.fail: dict[str, int] = {}
        self.exo_calls: list[tuple[str, dict[str, Any]]] = []  # cmdlets, batched or not

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            return self.answer(request)
        finally:
            self.in_flight -= 1

    def answer(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        batch = f"{url.netloc}/$batch" if url.path.endswith("/$batch") else None
        if batch in self.fail:
            return httpx.Response(self.fail[batch], json={"error": {"code": "Unavailable"}})
        if url.netloc == "exo.test" and url.path.endswith("/$batch"):
            answers = []
            for sub in json.loads(request.content)["requests"]:
                answer = self.exchange(sub["body"]["CmdletInput"])
                answers.append({"id": sub["id"], "status": answer.status_code,
                                "body": json.loads(answer.content)})
            return httpx.Response(200, json={"responses": answers})
        if url.netloc == "exo.test":
            return self.exchange(json.loads(request.content)["CmdletInput"])
        if url.path == "/v1.0/$batch":
            answers = [
                {"id": r["id"], "status": 200, "body": self.members(r["url"])}
                for r in json.loads(request.content)["requests"]
            ]
            return httpx.Response(200, json={"responses": answers})
        if url.path in self.fail:
            return httpx.Response(self.fail[url.path], json={"error": {"code": "Denied"}})
        if url.path.startswith("/v1.0/groups/"):
            return httpx.Response(200, json=self.members(url.path[len("/v1.0") :]))
        if url.path in GRAPH_OBJECTS:
            return httpx.Response(200, json=GRAPH_OBJECTS[url.path])
        return httpx.Response(200, json={"value": GRAPH_COLLECTIONS[url.path]})

    def members(self, relative: str) -> dict[str, Any]:
        group = relative.split("/")[2]
        return {"value": [{"@odata.type": "#microsoft.graph.user", "id": f"{group}-m"}]}

    def exchange(self, cmdlet_input: dict[str, Any]) -> httpx.Response:
        name, parameters = cmdlet_input["CmdletName"], cmdlet_input["Parameters"]
        self.exo_calls.append((name, parameters))
        if name in self.fail:
            return httpx.Response(self.fail[name], json={"error": {"code": "Forbidden"}})
        if name == "Get-Mailbox":
            return httpx.Response(200, json={"value": MAILBOXES})
        if name in PER_MAILBOX:
            target = parameters.get("Identity") or parameters.get("Mailbox")
            if target == "gone@contoso.com":
                return httpx.Response(
                    404,
                    json={
                        "error": {
                            "code": "NotFound",
                            "message": "ManagementObjectNotFoundException",
                        }
                    },
                )
            return httpx.Response(200, json={"value": [{"Identity": target, "Cmdlet": name}]})
        if name in {"Get-OrganizationConfig", "Get-TransportConfig"}:
            return httpx.Response(200, json={"value": [{"Identity": name}]})
        return httpx.Response(200, json={"value": [{"Identity": name}]})

    def cmdlets(self) -> list[tuple[str, dict[str, Any]]]:
        return list(self.exo_calls)


class Tokens:
    async def token(self, scope: str) -> str:
        return "t"


def collect(
    tenant: Tenant,
    mode: CollectMode = CollectMode.FAST,
    progress: Callable[..., None] | None = None,
) -> RecordedTenant:
    settings = Settings(
        tenant=TENANT,
        graph_url=GRAPH,
        exo_url=EXO,
        collect_mode=mode,
        retry=RetryPolicy(max_attempts=2, backoff_base=0.001),
    )

    async def main() -> RecordedTenant:
        async with httpx.AsyncClient(transport=httpx.MockTransport(tenant)) as client:
            http = M365Http(client, Tokens(), settings)
            return await collect_tenant(http, settings, progress=progress)

    return asyncio.run(main())


def test_every_source_is_collected_and_only_ownerless_mailboxes_get_detail_calls() -> None:
    tenant = Tenant()
    steps: set[str] = set()
    recorded = collect(tenant, progress=lambda step, done, total=None: steps.add(step))
    assert recorded.errors == {}
    assert set(recorded.data) == set(ALL_SOURCES)
    assert recorded.data["tenant"]["verifiedDomains"] == ["contoso.com", TENANT]
    assert recorded.data["tenant"]["defaultDomain"] == "contoso.com"
    assert recorded.data["graph/groupMembers"] == {
        "g1": [{"@odata.type": "#microsoft.graph.user", "id": "g1-m"}],
        "g2": [{"@odata.type": "#microsoft.graph.user", "id": "g2-m"}],
    }
    assert recorded.data["exo/Get-OrganizationConfig"] == {"Identity": "Get-OrganizationConfig"}
    detail_targets = {
        p.get("Identity") or p.get("Mailbox")
        for name, p in tenant.cmdlets()
        if name in {"Get-MailboxPermission", "Get-InboxRule"}
    }
    # Shared, room, equipment and the unlicensed user; never the licensed user.
    assert detail_targets == {
        "hr@contoso.com",
        "room1@contoso.com",
        "gone@contoso.com",
        "ghost@contoso.com",
    }
    # The mailbox deleted meanwhile (404) is skipped, not an error.
    permissions = recorded.data["exo/Get-MailboxPermission"]
    assert {row["Identity"] for row in permissions} == {
        "hr@contoso.com",
        "room1@contoso.com",
        "ghost@contoso.com",
    }
    assert {"graph/users", "exo/Get-Mailbox", "exo/Get-InboxRule"} <= steps


def test_fast_mode_selects_pages_at_the_maximum_and_batches_members() -> None:
    tenant = Tenant()
    collect(tenant)
    users = next(r for r in tenant.requests if r.url.path == "/v1.0/users")
    query = parse_qs(urlsplit(str(users.url)).query)
    assert query["$top"] == ["120"]  # Graph serves users with signInActivity 120 a page
    assert "signInActivity" in query["$select"][0] and "assignedLicenses" in query["$select"][0]
    assert not any(r.url.path.startswith("/v1.0/groups/") for r in tenant.requests)
    exo = [r for r in tenant.requests if r.url.host == "exo.test"]
    assert all(r.headers["Prefer"] == "odata.maxpagesize=1000" for r in exo)
    mailbox_call = next(r for r in exo if r.headers["X-CmdletName"] == "Get-Mailbox")
    assert "RecipientTypeDetails" in mailbox_call.url.params["$select"]
    assert tenant.peak > 1
    # Three per-mailbox cmdlets for each of four possibly ownerless mailboxes, and the
    # calendar processing of the room and the equipment: 14 calls, ten to a $batch.
    batches = [r for r in exo if r.url.path.endswith("/$batch")]
    subs = [s for b in batches for s in json.loads(b.content)["requests"]]
    assert [len(json.loads(b.content)["requests"]) for b in batches] == [10, 4]
    assert {s["body"]["CmdletInput"]["CmdletName"] for s in subs} == set(PER_MAILBOX)
    calendars = [s for s in subs
                 if s["body"]["CmdletInput"]["CmdletName"] == "Get-CalendarProcessing"]
    assert {s["body"]["CmdletInput"]["Parameters"]["Identity"] for s in calendars} == {
        "room1@contoso.com", "gone@contoso.com"}
    assert all("$select=" in s["url"] and s["method"] == "POST" for s in subs)
    assert not any(r.headers["X-CmdletName"] == "Get-InboxRule" for r in exo)


def test_a_failed_source_is_recorded_and_the_rest_complete() -> None:
    tenant = Tenant()
    tenant.fail["/v1.0/identity/conditionalAccess/policies"] = 403
    tenant.fail["Get-TransportConfig"] = 500
    recorded = collect(tenant)
    assert "graph/conditionalAccessPolicies" not in recorded.data
    assert "Policy.Read.All" in recorded.errors["graph/conditionalAccessPolicies"]
    assert "exo/Get-TransportConfig" not in recorded.data
    assert "failed 2 times" in recorded.errors["exo/Get-TransportConfig"]
    assert set(recorded.data) == set(ALL_SOURCES) - set(recorded.errors)
    assert recorded.problem("graph/conditionalAccessPolicies") is not None


def test_without_get_mailbox_the_per_mailbox_sources_are_errors_not_empty() -> None:
    tenant = Tenant()
    tenant.fail["Get-Mailbox"] = 403
    recorded = collect(tenant)
    for source in ("exo/Get-Mailbox", "exo/Get-MailboxPermission", "exo/Get-InboxRule"):
        assert source not in recorded.data
        assert source in recorded.errors


def test_a_failed_per_mailbox_call_fails_its_source() -> None:
    tenant = Tenant()
    tenant.fail["Get-InboxRule"] = 403
    recorded = collect(tenant)
    assert "exo/Get-InboxRule" not in recorded.data
    assert "Exchange.ManageAsApp" in recorded.errors["exo/Get-InboxRule"]
    assert "exo/Get-MailboxPermission" in recorded.data


def test_failed_batch_requests_fail_their_calls_and_the_collection_goes_on() -> None:
    """Every `$batch` request fails after its retries, on both services: the per-mailbox
    sources (every call failed) and the group members are recorded as failed with why, and
    every other source is collected."""
    tenant = Tenant()
    tenant.fail["exo.test/$batch"] = 502
    tenant.fail["graph.test/$batch"] = 500
    recorded = collect(tenant)
    assert set(recorded.errors) == {f"exo/{name}" for name in PER_MAILBOX} | {
        "graph/groupMembers", "graph/appRoleAssignedTo"}
    assert set(recorded.data) == set(ALL_SOURCES) - set(recorded.errors)
    for source in ("exo/Get-MailboxPermission", "exo/Get-InboxRule",
                   "exo/Get-MailboxStatistics"):
        assert "for every mailbox it was called for (4)" in recorded.errors[source]
        assert "/$batch failed 2 times" in recorded.errors[source]
    assert "for every mailbox it was called for (2)" in recorded.errors[
        "exo/Get-CalendarProcessing"]
    assert "members of 2 of 2 groups" in recorded.errors["graph/groupMembers"]


def test_a_step_that_fails_fails_its_sources_and_the_others_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service error that leaves a step (here the per-mailbox calls) fails the sources that
    step had not settled; Get-Mailbox, which it had, and every other source are kept. A
    fault in mailwarden itself is raised, not recorded as a source's failure."""

    async def fails(self: PerMailbox) -> None:
        raise ServiceError("Exchange Online went away")

    monkeypatch.setattr(PerMailbox, "finish", fails)
    recorded = collect(Tenant())
    assert recorded.errors == {f"exo/{name}": "Exchange Online went away"
                               for name in PER_MAILBOX}
    assert set(recorded.data) == set(ALL_SOURCES) - set(recorded.errors)

    async def bug(self: PerMailbox) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(PerMailbox, "finish", bug)
    with pytest.raises(KeyError, match="a bug"):
        collect(Tenant())


def test_without_users_every_user_mailbox_counts_as_possibly_ownerless() -> None:
    tenant = Tenant()
    tenant.fail["/v1.0/users"] = 403
    recorded = collect(tenant)
    assert "graph/users" in recorded.errors
    targets = {p.get("Identity") for n, p in tenant.cmdlets() if n == "Get-MailboxPermission"}
    assert "alice@contoso.com" in targets


@pytest.mark.parametrize("mode", [CollectMode.SEQUENTIAL])
def test_sequential_baseline_is_one_request_at_a_time_without_select_or_batch(
    mode: CollectMode,
) -> None:
    tenant = Tenant()
    recorded = collect(tenant, mode)
    assert recorded.errors == {}
    assert tenant.peak == 1
    assert not any(r.url.path.endswith("$batch") for r in tenant.requests)
    member_calls = [r for r in tenant.requests if r.url.path.startswith("/v1.0/groups/")]
    assert len(member_calls) == 2
    groups = next(r for r in tenant.requests if r.url.path == "/v1.0/groups")
    assert "$select" not in str(groups.url) and "$top" not in str(groups.url)
    exo = [r for r in tenant.requests if r.url.host == "exo.test"]
    assert all("Prefer" not in r.headers and "$select" not in str(r.url) for r in exo)
    assert recorded.data["graph/groupMembers"]["g2"] == [
        {"@odata.type": "#microsoft.graph.user", "id": "g2-m"}
    ]


class RefusedTokens:
    def __init__(self) -> None:
        self.calls = 0

    async def token(self, scope: str) -> str:
        self.calls += 1
        raise AuthError("AADSTS7000215: Invalid client secret provided.")


def test_a_sign_in_failure_ends_the_collection_instead_of_failing_every_source() -> None:
    tenant = Tenant()
    settings = Settings(tenant=TENANT, graph_url=GRAPH, exo_url=EXO)
    tokens = RefusedTokens()

    async def main() -> RecordedTenant:
        async with httpx.AsyncClient(transport=httpx.MockTransport(tenant)) as client:
            return await collect_tenant(M365Http(client, tokens, settings), settings)

    with pytest.raises(AuthError, match="AADSTS7000215"):
        asyncio.run(main())
    assert tenant.requests == []
