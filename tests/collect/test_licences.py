"""The collector against licence refusals (scripted with the published bodies).

- `$select=signInActivity` without Entra ID P1: HTTP 403
  `Authentication_RequestFromNonPremiumTenantOrB2CTenant` for the whole user list
  (microsoftgraph/microsoft-graph-docs-contrib issues 3033, 3808). The users are read again
  without it and the limitation is recorded; graph/users has not failed.
- The same 403 on tenants that do hold P1 (issue 3033/14120: "9/10 times"; issue 3581: "Add
  Directory.Read.All permission as well ... would allow the app being used to read the
  necessary tenant license information"): one more try, then the limitation says so.
- roleEligibilitySchedules without P2: HTTP 400 `AadPremiumLicenseRequired`
  (maester365/maester issue 1421): a limitation, not an error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mailwarden.settings import CollectMode
from tests.collect.test_live import Tenant, collect

#: The part of graph/users a tenant without Entra ID P1 withholds (model.SIGN_IN_ACTIVITY).
SIGN_IN_ACTIVITY = "graph/users.signInActivity"

NON_PREMIUM = {"error": {
    "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    "message": "Neither tenant is B2C or tenant doesn't have premium license",
    "innerError": {"date": "2021-09-02T14:32:39",
                   "request-id": "2501535b-2fd7-43e3-87db-c12cbe31fca0",
                   "client-request-id": "2501535b-2fd7-43e3-87db-c12cbe31fca0"}}}
P2_REQUIRED = {"error": {
    "code": "AadPremiumLicenseRequired",
    "message": "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID "
    "Governance license.",
    "innerError": {"date": "2026-01-22T09:07:22",
                   "request-id": "bcee6ed2-437a-4b54-bbbf-d5d615099cb6",
                   "client-request-id": "66003934-6d5c-4370-b1f5-93acdc46f57e"}}}
NO_PREMIUM_SKUS = [{"skuId": "3b555118-da6a-4418-894f-7df1e2096870",
                    "skuPartNumber": "O365_BUSINESS_ESSENTIALS", "capabilityStatus": "Enabled",
                    "servicePlans": [{"servicePlanName": "EXCHANGE_S_STANDARD",
                                      "provisioningStatus": "Success"}]}]


class Unlicensed(Tenant):
    """Refuses signInActivity `refusals` times (then answers), the registration report
    like a tenant without P1, and PIM like one without P2."""

    def __init__(self, *, refusals: int = 10**6, skus: list[dict[str, Any]] | None = None):
        super().__init__()
        self.refusals = refusals
        self.skus = skus

    def answer(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        select = parse_qs(url.query).get("$select", [""])[0]
        if url.path == "/v1.0/users" and "signInActivity" in select and self.refusals > 0:
            self.refusals -= 1
            return httpx.Response(403, json=NON_PREMIUM)
        if url.path == "/v1.0/reports/authenticationMethods/userRegistrationDetails":
            return httpx.Response(403, json=NON_PREMIUM)
        if url.path == "/v1.0/roleManagement/directory/roleEligibilitySchedules":
            return httpx.Response(400, json=P2_REQUIRED)
        if url.path == "/v1.0/subscribedSkus" and self.skus is not None:
            return httpx.Response(200, json={"value": self.skus})
        return super().answer(request)

    def user_queries(self) -> list[dict[str, list[str]]]:
        return [parse_qs(urlsplit(str(r.url)).query) for r in self.requests
                if r.url.path == "/v1.0/users"]


def test_without_p1_users_are_read_without_sign_in_activity_and_it_is_a_limitation() -> None:
    tenant = Unlicensed(skus=NO_PREMIUM_SKUS)
    recorded = collect(tenant)
    assert recorded.errors == {}
    assert recorded.limitations == {
        SIGN_IN_ACTIVITY: "needs Entra ID P1 (signInActivity)",
        "graph/userRegistrationDetails": "needs Entra ID P1 (userRegistrationDetails)",
        "graph/roleEligibilitySchedules": "needs Entra ID P2 (roleEligibilitySchedules)",
    }
    assert [u["id"] for u in recorded.data["graph/users"]] == ["u-shared", "u-alice", "u-ghost"]
    assert "graph/userRegistrationDetails" not in recorded.data
    first, second = tenant.user_queries()  # no P1 on record: no second try
    assert "signInActivity" in first["$select"][0]
    assert "signInActivity" not in second["$select"][0]
    assert "assignedLicenses" in second["$select"][0] and second["$top"] == ["999"]
    # The users' own source is whole: the unlicensed mailbox still gets its detail calls.
    assert recorded.problem("graph/users") is None
    assert recorded.problem(SIGN_IN_ACTIVITY) == "needs Entra ID P1 (signInActivity)"


def test_a_licensed_tenant_refused_once_is_asked_again() -> None:
    tenant = Unlicensed(refusals=1)  # the scripted tenant's subscriptions include P1
    recorded = collect(tenant)
    assert SIGN_IN_ACTIVITY not in recorded.limitations
    queries = tenant.user_queries()
    assert len(queries) == 2 and all("signInActivity" in q["$select"][0] for q in queries)


def test_a_licensed_tenant_refused_twice_is_told_what_to_grant() -> None:
    tenant = Unlicensed()
    recorded = collect(tenant)
    reason = recorded.limitations[SIGN_IN_ACTIVITY]
    assert reason.startswith("needs Entra ID P1 (signInActivity): ")
    assert "SPE_E3" in reason and "Directory.Read.All" in reason
    assert len(tenant.user_queries()) == 3
    assert recorded.errors == {}


def test_the_sequential_baseline_meets_the_same_refusals() -> None:
    recorded = collect(Unlicensed(skus=NO_PREMIUM_SKUS), CollectMode.SEQUENTIAL)
    assert recorded.errors == {}
    assert set(recorded.limitations) == {SIGN_IN_ACTIVITY, "graph/userRegistrationDetails",
                                         "graph/roleEligibilitySchedules"}
