"""The tenant's licences and what they withhold, as a recorded tenant holds them.

Shapes:
- `subscribedSku`: the "List subscribedSkus" v1.0 example (microsoftgraph/
  microsoft-graph-docs-contrib, api-reference/v1.0/api/subscribedsku-list.md); service plan
  names and ids from "Product names and service plan identifiers for licensing"
  (MicrosoftDocs/entra-docs, docs/identity/users/licensing-service-plan-reference.md):
  Microsoft Entra ID P1 = AAD_PREMIUM (41781fb2-...), P2 = AAD_PREMIUM_P2 (eec0eb4f-...),
  the P2 product carrying both.
- `identitySecurityDefaultsEnforcementPolicy`: the "Get" v1.0 example
  (api-reference/v1.0/api/identitysecuritydefaultsenforcementpolicy-get.md).
- `unifiedRoleEligibilitySchedule`: the "List roleEligibilitySchedules" v1.0 example
  (api-reference/v1.0/api/rbacapplication-list-roleeligibilityschedules.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mailwarden.model.inventory import SIGN_IN_ACTIVITY
from mailwarden.tenant.licences import (
    REASONS,
    ROLE_ELIGIBILITY,
    licences_from_skus,
    limitation_reason,
)
from mailwarden.tenant.recorded import (
    RecordedTenant,
    read_recorded_tenant,
    write_recorded_tenant,
)
from mailwarden.tenant.snapshot import snapshot_from_recorded

P1_PLAN = {"servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
           "servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success",
           "appliesTo": "User"}
P2_PLAN = {"servicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998",
           "servicePlanName": "AAD_PREMIUM_P2", "provisioningStatus": "Success",
           "appliesTo": "User"}


def sku(part: str, *plans: dict[str, Any], status: str = "Enabled") -> dict[str, Any]:
    """A subscribedSku as the docs' example spells it."""
    return {
        "accountName": "Sample account One",
        "accountId": "f97aeefc-af85-414d-8ae4-b457f90efc40",
        "appliesTo": "User",
        "capabilityStatus": status,
        "consumedUnits": 14,
        "id": "48a80680-7326-48cd-9935-b556b81d3a4e_c7df2760-2c81-4ef7-b578-5b5392b571df",
        "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0},
        "servicePlans": [
            {"servicePlanId": "8c098270-9dd4-4350-9b30-ba4703f3b36b",
             "servicePlanName": "ADALLOM_S_O365", "provisioningStatus": "Success",
             "appliesTo": "Company"},
            *plans,
        ],
        "skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df",
        "skuPartNumber": part,
        "subscriptionIds": ["43d26afe-cb98-48b9-acc4-ae3ef2ac6c51"],
    }


def test_the_entra_tier_comes_from_live_subscriptions_plans() -> None:
    none = licences_from_skus([sku("O365_BUSINESS_ESSENTIALS")])
    assert (none.p1, none.p2) == (False, False)
    p1 = licences_from_skus([sku("SPE_E3", P1_PLAN)])
    assert (p1.p1, p1.p2, p1.products) == (True, False, ("SPE_E3",))
    p2 = licences_from_skus([sku("SPE_E5", P1_PLAN, P2_PLAN)])
    assert (p2.p1, p2.p2) == (True, True)
    suspended = licences_from_skus([sku("SPE_E5", P1_PLAN, P2_PLAN, status="Suspended")])
    assert (suspended.p1, suspended.p2) == (False, False)
    grace = licences_from_skus([sku("AAD_PREMIUM", P1_PLAN, status="Warning")])
    assert grace.p1
    disabled = licences_from_skus([sku("SPE_E5", {**P2_PLAN, "provisioningStatus": "Disabled"})])
    assert not disabled.p2


def test_a_refusal_on_a_licensed_tenant_says_how_to_fix_it() -> None:
    assert limitation_reason(SIGN_IN_ACTIVITY) == "needs Entra ID P1 (signInActivity)"
    licensed = licences_from_skus([sku("SPE_E3", P1_PLAN)])
    reason = limitation_reason(SIGN_IN_ACTIVITY, licensed)
    assert reason.startswith("needs Entra ID P1 (signInActivity)")
    assert "Directory.Read.All" in reason and "SPE_E3" in reason
    assert limitation_reason(ROLE_ELIGIBILITY, licensed) == REASONS[ROLE_ELIGIBILITY]


def _tenant(**data: Any) -> RecordedTenant:
    base: dict[str, Any] = {"tenant": {"tenantId": "t", "collectedAt": "2026-11-01T00:00:00Z"},
                            "graph/users": [{"id": "u1", "userPrincipalName": "hr@contoso.com"}]}
    return RecordedTenant(data={**base, **data}, limitations={
        SIGN_IN_ACTIVITY: REASONS[SIGN_IN_ACTIVITY],
        ROLE_ELIGIBILITY: REASONS[ROLE_ELIGIBILITY],
    })


def test_limitations_are_written_read_back_and_told_apart_from_failures(tmp_path: Path) -> None:
    recorded = RecordedTenant(data=_tenant().data, errors={"graph/settings": "HTTP 500"},
                              limitations=_tenant().limitations)
    write_recorded_tenant(tmp_path, recorded)
    document = json.loads((tmp_path / "limitations.json").read_text(encoding="utf-8"))
    assert document[SIGN_IN_ACTIVITY] == {"reason": "needs Entra ID P1 (signInActivity)"}
    again = read_recorded_tenant(tmp_path)
    assert again.limitations == recorded.limitations and again.errors == recorded.errors
    snapshot = snapshot_from_recorded(again)
    # Users are read; their signInActivity and the eligibility schedules are not.
    assert snapshot.available("graph/users") and len(snapshot.accounts) == 1
    assert snapshot.problem(SIGN_IN_ACTIVITY) == "needs Entra ID P1 (signInActivity)"
    assert snapshot.limitation(ROLE_ELIGIBILITY) == "needs Entra ID P2 (roleEligibilitySchedules)"
    assert not snapshot.available(ROLE_ELIGIBILITY)
    assert snapshot.limitation("graph/settings") is None
    assert not snapshot.available("graph/settings")


def test_security_defaults_and_eligibility_parse_from_the_docs_examples() -> None:
    policy = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/"
        "identitySecurityDefaultsEnforcementPolicy",
        "description": "Security defaults is a set of basic identity security mechanisms "
        "recommended by Microsoft. ...",
        "displayName": "Security Defaults",
        "id": "00000000-0000-0000-0000-000000000005",
        "isEnabled": True,
    }
    schedule = {
        "id": "77f71919-62f3-4d0c-9f88-0a0391b665cd",
        "principalId": "071cc716-8147-4397-a5ba-b2105951cc0b",
        "roleDefinitionId": "8424c6f0-a189-499e-bbd0-26c1753c96d4",
        "directoryScopeId": "/", "appScopeId": None,
        "createdUsing": "77f71919-62f3-4d0c-9f88-0a0391b665cd",
        "createdDateTime": "2022-04-12T14:44:50.287Z",
        "modifiedDateTime": "0001-01-01T08:00:00Z", "status": "Provisioned",
        "memberType": "Direct",
        "scheduleInfo": {"startDateTime": "2022-04-12T14:44:50.287Z", "recurrence": None,
                         "expiration": {"type": "afterDateTime",
                                        "endDateTime": "2024-04-10T00:00:00Z",
                                        "duration": None}},
    }
    snapshot = snapshot_from_recorded(RecordedTenant(data={
        "tenant": {"tenantId": "t"},
        "graph/securityDefaults": policy,
        "graph/roleEligibilitySchedules": [schedule],
        "graph/subscribedSkus": [sku("SPE_E5", P1_PLAN, P2_PLAN)],
    }))
    assert snapshot.security_defaults is not None and snapshot.security_defaults.enabled is True
    [eligibility] = snapshot.role_eligibilities
    assert eligibility.principal_id == "071cc716-8147-4397-a5ba-b2105951cc0b"
    assert eligibility.status == "Provisioned" and eligibility.end is not None
    assert eligibility.end.year == 2024
    [subscription] = snapshot.subscribed_skus
    assert subscription.sku_part_number == "SPE_E5"
    assert {"AAD_PREMIUM", "AAD_PREMIUM_P2"} <= set(subscription.service_plans)
