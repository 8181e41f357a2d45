"""Spell what the tenant's licences decide in Graph v1.0 shapes: its subscriptions
(`subscribedSku`), security defaults (`identitySecurityDefaultsEnforcementPolicy`), PIM
eligibility (`unifiedRoleEligibilitySchedule`), and the limitations a collection meets
without Entra ID P1 or P2.

Shapes: the Graph docs' examples ("List subscribedSkus", "Get
identitySecurityDefaultsEnforcementPolicy", "List roleEligibilitySchedules") and the v1.0
CSDL; only declared properties are written.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from mailwarden.model.inventory import SIGN_IN_ACTIVITY
from mailwarden.synth.constants import COLLECTED_AT, ROLES
from mailwarden.synth.ids import derived_guid, graph_date
from mailwarden.synth.licensing import PRODUCTS
from mailwarden.synth.model import Tenant
from mailwarden.tenant.licences import REASONS, REGISTRATION_DETAILS, ROLE_ELIGIBILITY

#: The policy's fixed id and texts, as Graph returns them in every tenant.
SECURITY_DEFAULTS_ID = "00000000-0000-0000-0000-000000000005"
SECURITY_DEFAULTS_DESCRIPTION = (
    "Security defaults is a set of basic identity security mechanisms recommended by "
    "Microsoft. When enabled, these recommendations will be automatically enforced in your "
    "organization. Administrators and users will be better protected from common identity "
    "related attacks."
)


def subscribed_skus(tenant: Tenant) -> list[dict[str, Any]]:
    consumed = Counter(sku for account in tenant.accounts for sku in account.skus)
    result = []
    for sku_id in sorted(consumed, key=lambda s: PRODUCTS[s][0]):
        part_number, plans = PRODUCTS[sku_id]
        used = consumed[sku_id]
        result.append({
            "id": f"{tenant.tenant_id}_{sku_id}",
            "accountId": tenant.tenant_id,
            "accountName": tenant.display_name,
            "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "consumedUnits": used,
            "prepaidUnits": {"enabled": -(-used // 10) * 10 + 5, "lockedOut": 0,
                             "suspended": 0, "warning": 0},
            "servicePlans": [
                {"servicePlanId": plan_id, "servicePlanName": name,
                 "provisioningStatus": "Success", "appliesTo": "User"}
                for name, plan_id in plans
            ],
            "skuId": sku_id,
            "skuPartNumber": part_number,
            "subscriptionIds": [derived_guid(tenant.tenant_id, "subscription", sku_id)],
        })
    return result


def security_defaults(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": SECURITY_DEFAULTS_ID,
        "displayName": "Security Defaults",
        "description": SECURITY_DEFAULTS_DESCRIPTION,
        "isEnabled": tenant.security_defaults,
    }


def role_eligibility_schedules(tenant: Tenant) -> list[dict[str, Any]]:
    created = {account.id: account.created for account in tenant.accounts}
    result = []
    for principal, role in tenant.role_eligibilities:
        schedule_id = derived_guid(principal, "eligible", role)
        start = min(created[principal] + timedelta(days=30), COLLECTED_AT - timedelta(days=1))
        result.append({
            "id": schedule_id,
            "principalId": principal,
            "roleDefinitionId": ROLES[role][0],
            "directoryScopeId": "/",
            "appScopeId": None,
            "createdUsing": schedule_id,
            "createdDateTime": graph_date(start),
            "modifiedDateTime": None,
            "status": "Provisioned",
            "memberType": "Direct",
            "scheduleInfo": {
                "startDateTime": graph_date(start),
                "recurrence": None,
                "expiration": {"type": "noExpiration", "endDateTime": None, "duration": None},
            },
        })
    return result


def limitations(tenant: Tenant) -> dict[str, str]:
    """What a collection of this tenant cannot read, and why (tenant.licences)."""
    found = {}
    if not tenant.entra_p1:
        found[SIGN_IN_ACTIVITY] = REASONS[SIGN_IN_ACTIVITY]
        found[REGISTRATION_DETAILS] = REASONS[REGISTRATION_DETAILS]
    if not tenant.entra_p2:
        found[ROLE_ELIGIBILITY] = REASONS[ROLE_ELIGIBILITY]
    return found
