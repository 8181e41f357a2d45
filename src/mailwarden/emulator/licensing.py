"""What the served tenant's licences let Graph answer, and how Graph refuses the rest.

The tenant's Entra ID tier comes from its `graph/subscribedSkus` (tenant.licences); a
recorded tenant without that file is served as it always was, as Entra ID P2.

- Without P1, selecting or filtering on `signInActivity` when reading users, and the
  authentication-methods registration report, are refused for the whole request with
  HTTP 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` (published captures:
  microsoftgraph/microsoft-graph-docs-contrib issues 3033 and 3808, steampipe-plugin-azuread
  issue 98).
- Without P2, PIM eligibility schedules (and their instances) are refused with HTTP 400
  `AadPremiumLicenseRequired` (maester365/maester issue 1421, v1.0, 2026).

The bodies are the published ones, with a fresh innerError each time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.emulator.answers import graph_error_body
from mailwarden.emulator.state import TenantState
from mailwarden.tenant.licences import TenantLicences, licences_from_skus

Answer = tuple[int, dict[str, str], dict[str, Any]]

#: Served when the tenant names no subscriptions: what every recorded tenant got before.
UNKNOWN_SUBSCRIPTIONS = TenantLicences(p1=True, p2=True)

NON_PREMIUM_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
NON_PREMIUM_MESSAGE = "Neither tenant is B2C or tenant doesn't have premium license"
P2_REQUIRED_CODE = "AadPremiumLicenseRequired"
P2_REQUIRED_MESSAGE = (
    "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license."
)

#: Paths (lower case, relative to the version) only a P1 or P2 tenant is answered.
P1_PATHS = frozenset({"reports/authenticationmethods/userregistrationdetails"})
P2_PATHS = frozenset(
    {
        "rolemanagement/directory/roleeligibilityschedules",
        "rolemanagement/directory/roleeligibilityscheduleinstances",
    }
)


def served_licences(state: TenantState) -> TenantLicences:
    if "graph/subscribedSkus" not in state.data:
        return UNKNOWN_SUBSCRIPTIONS
    return licences_from_skus(state.rows("graph/subscribedSkus"))


def _asks_sign_in_activity(path: str, query: Mapping[str, str]) -> bool:
    if path.split("/", 1)[0] != "users":
        return False
    options = (query.get("$select") or "") + " " + (query.get("$filter") or "")
    return "signinactivity" in options.lower()


def licence_refusal(state: TenantState, path: str, query: Mapping[str, str]) -> Answer | None:
    """Graph's refusal of a GET (path lower case, relative to the version) for want of a
    licence, or None when the tenant's licences allow it."""
    needs_p2 = path in P2_PATHS
    needs_p1 = path in P1_PATHS or _asks_sign_in_activity(path, query)
    if not (needs_p1 or needs_p2):
        return None
    licences = served_licences(state)
    if needs_p2 and not licences.p2:
        return 400, {}, graph_error_body(P2_REQUIRED_CODE, P2_REQUIRED_MESSAGE)
    if needs_p1 and not licences.p1:
        return 403, {}, graph_error_body(NON_PREMIUM_CODE, NON_PREMIUM_MESSAGE)
    return None
