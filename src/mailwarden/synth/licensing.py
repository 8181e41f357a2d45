"""Licence profiles: what the tenant's subscriptions are, and what they change.

- ``mixed`` (the default, the tenants generated before profiles existed): Microsoft 365
  E3 and E5, Office 365 E3 and E1 licences; Entra ID P2 through E5, conditional access,
  PIM used for administrators only.
- ``business-basic``: Microsoft 365 Business Basic only, no Entra ID P1. Security defaults
  are on and no conditional-access policy exists; Graph refuses signInActivity, the
  registration report (both need P1) and the PIM eligibility schedules (P2).
- ``e3``: Microsoft 365 E3 (Entra ID P1): conditional access, signInActivity and the
  registration report, but no PIM eligibility schedules (P2).
- ``e5``: Microsoft 365 E5 (Entra ID P2): as ``mixed``, and some ownerless accounts are
  eligible (PIM) for a directory role they do not hold.

A profile changes licences after the tenant is built, without drawing from its random
stream, so every profile of one seed has the same people, mailboxes and settings.
SKU ids and service plans: Microsoft's "Product names and service plan identifiers for
licensing" (learn.microsoft.com/entra/identity/users/licensing-service-plan-reference).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from mailwarden.errors import ConfigError
from mailwarden.synth.constants import SKUS
from mailwarden.synth.model import Account, OwnerlessMailbox

DEFAULT_PROFILE: Final = "mixed"
BUSINESS_BASIC_SKU: Final = "3b555118-da6a-4418-894f-7df1e2096870"  # O365_BUSINESS_ESSENTIALS

#: Service plans (name, id) of each product, the ones that matter here.
_EXCHANGE_P1 = ("EXCHANGE_S_STANDARD", "9aaf7827-d63c-4b61-89c3-182f06f82e5c")
_EXCHANGE_P2 = ("EXCHANGE_S_ENTERPRISE", "efb87545-963c-4e0d-99df-69c6916d9eb0")
_ENTRA_P1 = ("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d")
_ENTRA_P2 = ("AAD_PREMIUM_P2", "eec0eb4f-6444-4f95-aba0-50c24d67f998")
_MFA = ("MFA_PREMIUM", "8a256a2b-b617-496d-b51b-e76466e88db0")
#: skuId -> (skuPartNumber, service plans).
PRODUCTS: Final[dict[str, tuple[str, tuple[tuple[str, str], ...]]]] = {
    SKUS["SPE_E3"]: ("SPE_E3", (_EXCHANGE_P2, _ENTRA_P1, _MFA)),
    SKUS["SPE_E5"]: ("SPE_E5", (_EXCHANGE_P2, _ENTRA_P1, _ENTRA_P2, _MFA)),
    SKUS["ENTERPRISEPACK"]: ("ENTERPRISEPACK", (_EXCHANGE_P2,)),
    SKUS["STANDARDPACK"]: ("STANDARDPACK", (_EXCHANGE_P1,)),
    BUSINESS_BASIC_SKU: ("O365_BUSINESS_ESSENTIALS", (_EXCHANGE_P1,)),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Licensing:
    profile: str
    p1: bool
    p2: bool
    security_defaults: bool
    #: skuId -> the skuId staff hold instead (absent: unchanged).
    sku_map: dict[str, str]
    #: Ownerless accounts made eligible for a role they do not hold.
    eligible_ownerless: int = 0


PROFILES: Final[dict[str, Licensing]] = {
    "mixed": Licensing(profile="mixed", p1=True, p2=True, security_defaults=False, sku_map={}),
    "business-basic": Licensing(
        profile="business-basic", p1=False, p2=False, security_defaults=True,
        sku_map=dict.fromkeys(SKUS.values(), BUSINESS_BASIC_SKU),
    ),
    "e3": Licensing(
        profile="e3", p1=True, p2=False, security_defaults=False,
        sku_map={SKUS["SPE_E5"]: SKUS["SPE_E3"]},
    ),
    "e5": Licensing(
        profile="e5", p1=True, p2=True, security_defaults=False,
        sku_map={SKUS["SPE_E3"]: SKUS["SPE_E5"]}, eligible_ownerless=2,
    ),
}
#: The role PIM makes admins eligible for, and the one planted on ownerless accounts.
ADMIN_ELIGIBLE_ROLE: Final = "Security Administrator"
OWNERLESS_ELIGIBLE_ROLE: Final = "Exchange Administrator"


def licensing(profile: str | None) -> Licensing:
    name = (profile or DEFAULT_PROFILE).strip().lower()
    if name not in PROFILES:
        raise ConfigError(
            f"unknown licence profile {profile!r}: use {', '.join(PROFILES)} "
            f"(default {DEFAULT_PROFILE})"
        )
    return PROFILES[name]


def relicensed(accounts: Sequence[Account], plan: Licensing) -> tuple[Account, ...]:
    if not plan.sku_map:
        return tuple(accounts)
    return tuple(
        replace(a, skus=tuple(plan.sku_map.get(s, s) for s in a.skus)) if a.skus else a
        for a in accounts
    )


def eligibilities(
    plan: Licensing,
    accounts: Sequence[Account],
    ownerless: Sequence[OwnerlessMailbox],
    active: tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    """(principal id, role name) PIM eligibility schedules: every administrator but the
    break-glass account may activate Security Administrator; under ``e5`` the first few
    loose, unprivileged shared mailboxes' accounts (by UPN) may activate Exchange
    Administrator as well. None without Entra ID P2."""
    if not plan.p2:
        return ()
    found = [(a.id, ADMIN_ELIGIBLE_ROLE) for a in accounts if a.kind == "admin"]
    privileged = {principal for principal, _role in active}
    by_id = {a.id: a for a in accounts}
    candidates = sorted(
        (by_id[box.account_id] for box in ownerless
         if not box.hardened and box.account_id not in privileged),
        key=lambda a: a.upn,
    )
    shared = [a for a in candidates if a.kind == "shared"]
    found += [(a.id, OWNERLESS_ELIGIBLE_ROLE) for a in shared[: plan.eligible_ownerless]]
    return tuple(found)
