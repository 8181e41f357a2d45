"""What a tenant's licences let Graph answer: Entra ID P1 and P2 from `/subscribedSkus`,
and the limitations a missing licence leaves in a recorded tenant.

A subscription provides Entra ID P1 when one of its service plans is `AAD_PREMIUM` (or
`AAD_PREMIUM_P2`, which every P2 product carries beside it) and P2 when one is
`AAD_PREMIUM_P2` (Microsoft's "Product names and service plan identifiers for
licensing": e.g. Microsoft 365 E3 carries AAD_PREMIUM, Microsoft 365 E5 AAD_PREMIUM_P2,
Microsoft 365 Business Basic neither). Only subscriptions whose capabilityStatus is
Enabled or Warning (the grace period) count, and only plans not Disabled.

Without P1, Graph refuses `$select=signInActivity` on /users and the
authentication-methods registration report; without P2 (or Entra ID Governance) it
refuses the PIM eligibility schedules. A collection records each as a *limitation*
(source or part -> reason), not as a failed source; the checks that need one say
`error` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mailwarden.model.inventory import SIGN_IN_ACTIVITY
from mailwarden.tenant.lenient import Record

P1_PLANS = frozenset({"aad_premium", "aad_premium_p2"})
P2_PLANS = frozenset({"aad_premium_p2"})
#: capabilityStatus values under which a subscription's plans work.
LIVE_STATUSES = frozenset({"enabled", "warning"})

REGISTRATION_DETAILS = "graph/userRegistrationDetails"
ROLE_ELIGIBILITY = "graph/roleEligibilitySchedules"
#: Reason recorded for each part of a tenant a licence withholds.
REASONS: Mapping[str, str] = {
    SIGN_IN_ACTIVITY: "needs Entra ID P1 (signInActivity)",
    REGISTRATION_DETAILS: "needs Entra ID P1 (userRegistrationDetails)",
    ROLE_ELIGIBILITY: "needs Entra ID P2 (roleEligibilitySchedules)",
}
#: Which licence each part needs.
NEEDS: Mapping[str, str] = {
    SIGN_IN_ACTIVITY: "P1",
    REGISTRATION_DETAILS: "P1",
    ROLE_ELIGIBILITY: "P2",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantLicences:
    """The Entra ID tier the tenant's subscriptions provide."""

    p1: bool
    p2: bool
    products: tuple[str, ...] = ()  # skuPartNumber of the subscriptions that provide them

    def has(self, tier: str) -> bool:
        return self.p2 if tier == "P2" else self.p1


def _plans(sku: Record) -> set[str]:
    names = set()
    for plan in sku.get("servicePlans") or ():
        if not isinstance(plan, Mapping):
            continue
        record = Record(plan)
        status = (record.text("provisioningStatus") or "").lower()
        name = record.text("servicePlanName")
        if name and status != "disabled":
            names.add(name.lower())
    return names


def licences_from_skus(skus: Iterable[Any]) -> TenantLicences:
    """The tier a `/subscribedSkus` answer (its `value` items) provides."""
    p1 = p2 = False
    products: list[str] = []
    for raw in skus:
        if not isinstance(raw, Mapping):
            continue
        sku = Record(raw)
        if (sku.text("capabilityStatus") or "enabled").lower() not in LIVE_STATUSES:
            continue
        plans = _plans(sku)
        gives_p1, gives_p2 = bool(plans & P1_PLANS), bool(plans & P2_PLANS)
        if gives_p1 or gives_p2:
            products.append(sku.text("skuPartNumber") or sku.text("skuId") or "?")
        p1, p2 = p1 or gives_p1 or gives_p2, p2 or gives_p2
    return TenantLicences(p1=p1, p2=p2, products=tuple(sorted(set(products))))


def limitation_reason(
    part: str, licences: TenantLicences | None = None, *, licence: str | None = None
) -> str:
    """The reason recorded when Graph refuses `part` for want of a licence (`licence`, as the
    refusal named it, for parts not in REASONS). When the tenant's subscriptions do provide
    that licence, the refusal is a known false positive (Graph could not look the licence
    up: the app lacks Directory.Read.All), and the reason says so."""
    tier = NEEDS.get(part) or ("P2" if licence and licence.endswith("P2") else "P1")
    reason = REASONS.get(part) or f"needs Entra ID {tier} ({part})"
    if licences is not None and licences.has(tier):
        held = ", ".join(licences.products) or "its subscriptions"
        reason += (
            f": Graph refused it although the tenant holds Entra ID {tier} ({held}); "
            "Graph does this when the app cannot read the tenant's licences: grant "
            "Directory.Read.All and collect again"
        )
    return reason
