"""The emulated Graph answers by the served tenant's licences, as Graph does.

Refusals, with the published bodies:
- no Entra ID P1: `$select=signInActivity` on /users, for the whole request, and the
  registration report: HTTP 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`,
  "Neither tenant is B2C or tenant doesn't have premium license"
  (microsoftgraph/microsoft-graph-docs-contrib issues 3033 and 3808);
- no Entra ID P2: the PIM eligibility schedules: HTTP 400 `AadPremiumLicenseRequired`, "The
  tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license."
  (maester365/maester issue 1421).
Shapes served: "Get identitySecurityDefaultsEnforcementPolicy" and "List subscribedSkus"
v1.0 examples (microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/api/).
"""

from __future__ import annotations

import functools
from typing import Any

import httpx

from mailwarden.synth import SyntheticTenant, generate
from mailwarden.tenant.recorded import RecordedTenant
from tests.emulator.emulator_helpers import (
    BASE,
    GRAPH_SCOPE,
    app_for,
    client_for,
    run,
    tenant_id,
    token,
)

USERS_WITH_SIGN_IN = "/v1.0/users?$select=id,userPrincipalName,signInActivity&$top=500"
REGISTRATIONS = "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999"
ELIGIBILITY = "/v1.0/roleManagement/directory/roleEligibilitySchedules"
SECURITY_DEFAULTS = "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"


@functools.cache
def profile(name: str) -> SyntheticTenant:
    return generate(60, seed=4, profile=name)


def get(url: str, recorded: RecordedTenant) -> httpx.Response:
    async def main() -> httpx.Response:
        async with client_for(app_for(recorded)) as client:
            bearer = await token(client, GRAPH_SCOPE, tenant_id(recorded))
            return await client.get(url, headers={"Authorization": f"Bearer {bearer}"})

    return run(main())


def error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()["error"]
    assert set(body) == {"code", "message", "innerError"}
    assert set(body["innerError"]) == {"date", "request-id", "client-request-id"}
    return dict(body)


def test_without_p1_signin_activity_is_refused_for_the_whole_request() -> None:
    recorded = profile("business-basic").recorded
    refused = get(USERS_WITH_SIGN_IN, recorded)
    assert refused.status_code == 403
    body = error(refused)
    assert body["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    assert body["message"] == "Neither tenant is B2C or tenant doesn't have premium license"
    assert "value" not in refused.json()
    # The same list without signInActivity is answered, and so is a filter-free page.
    users = get("/v1.0/users?$select=id,userPrincipalName&$top=999", recorded)
    assert users.status_code == 200 and len(users.json()["value"]) == 60
    one = users.json()["value"][0]["id"]
    assert get(f"/v1.0/users/{one}?$select=signInActivity", recorded).status_code == 403
    registrations = get(REGISTRATIONS, recorded)
    assert registrations.status_code == 403
    assert error(registrations)["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def test_without_p2_eligibility_schedules_are_refused_with_400() -> None:
    for name in ("business-basic", "e3"):
        refused = get(ELIGIBILITY, profile(name).recorded)
        assert refused.status_code == 400, name
        body = error(refused)
        assert body["code"] == "AadPremiumLicenseRequired"
        assert body["message"] == ("The tenant needs to have Microsoft Entra ID P2 or "
                                   "Microsoft Entra ID Governance license.")
    assert get(USERS_WITH_SIGN_IN, profile("e3").recorded).status_code == 200


def test_p2_tenants_serve_eligibility_and_everything_else() -> None:
    recorded = profile("e5").recorded
    schedules = get(ELIGIBILITY, recorded)
    assert schedules.status_code == 200
    body = schedules.json()
    assert body["@odata.context"] == (f"{BASE}/v1.0/$metadata#roleManagement/directory/"
                                      "roleEligibilitySchedules")
    assert body["value"] == recorded.data["graph/roleEligibilitySchedules"]
    assert get(USERS_WITH_SIGN_IN, recorded).status_code == 200
    assert get(REGISTRATIONS, recorded).status_code == 200


def test_a_tenant_without_subscriptions_on_record_is_served_as_before() -> None:
    data = {k: v for k, v in profile("e5").recorded.data.items() if k != "graph/subscribedSkus"}
    recorded = RecordedTenant(data=data)
    assert get(USERS_WITH_SIGN_IN, recorded).status_code == 200
    assert get(ELIGIBILITY, recorded).status_code == 200
    assert get("/v1.0/subscribedSkus", recorded).status_code == 403  # not on record


def test_security_defaults_and_subscriptions_in_graph_shapes() -> None:
    recorded = profile("business-basic").recorded
    policy = get(SECURITY_DEFAULTS, recorded).json()
    assert policy == {
        "@odata.context": f"{BASE}/v1.0/$metadata#policies/"
        "identitySecurityDefaultsEnforcementPolicy",
        "description": policy["description"],
        "displayName": "Security Defaults",
        "id": "00000000-0000-0000-0000-000000000005",
        "isEnabled": True,
    }
    assert get(SECURITY_DEFAULTS, profile("e3").recorded).json()["isEnabled"] is False
    skus = get("/v1.0/subscribedSkus", recorded).json()
    assert skus["@odata.context"] == f"{BASE}/v1.0/$metadata#subscribedSkus"
    [only] = skus["value"]
    assert only["skuPartNumber"] == "O365_BUSINESS_ESSENTIALS"
    assert only["skuId"] == "3b555118-da6a-4418-894f-7df1e2096870"
    assert {p["servicePlanName"] for p in only["servicePlans"]}.isdisjoint(
        {"AAD_PREMIUM", "AAD_PREMIUM_P2"})
    assert set(only) == {"accountId", "accountName", "appliesTo", "capabilityStatus",
                         "consumedUnits", "id", "prepaidUnits", "servicePlans", "skuId",
                         "skuPartNumber", "subscriptionIds"}


def test_without_p1_sign_in_logs_are_refused_and_directory_audits_served() -> None:
    """Graph answers sign-in logs only to P1 tenants (microsoftgraph/microsoft-graph-docs
    issues 4336, 10987: 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant); a free
    tenant still reads its directory audits (invictus-ir/Microsoft-Extractor-Suite 202)."""
    basic = profile("business-basic").recorded
    refused = get("/v1.0/auditLogs/signIns?$top=10", basic)
    assert refused.status_code == 403
    assert error(refused)["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    assert get("/v1.0/auditLogs/directoryAudits?$top=10", basic).status_code == 200
    assert get("/v1.0/auditLogs/signIns?$top=10", profile("e3").recorded).status_code == 200
