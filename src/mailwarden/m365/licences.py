"""Refusals that mean "the tenant lacks a licence", told apart from missing permissions.

Graph answers a call that needs a licence the tenant does not hold with an error code of
its own, whatever permissions the app has; matching is on the code, never on the message
(Microsoft has reworded both):

- HTTP 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant` ("Neither tenant is B2C
  or tenant doesn't have premium license", later "Tenant is not a B2C tenant and doesn't
  have premium license"): Entra ID P1 is needed, e.g. for `$select=signInActivity` on
  /users and for /reports/authenticationMethods/userRegistrationDetails.
- HTTP 400 `AadPremiumLicenseRequired` ("The tenant needs to have Microsoft Entra ID P2 or
  Microsoft Entra ID Governance license."): P2 is needed, e.g. for
  /roleManagement/directory/roleEligibilitySchedules.

`licence_required(status, code)` is what a caller (the collector, `doctor`) asks of any
refusal; `M365Http` raises `LicenceRequiredError` for these instead of a permission error.
"""

from __future__ import annotations

from collections.abc import Mapping

ENTRA_P1 = "Entra ID P1"
ENTRA_P2 = "Entra ID P2"

#: Graph error code (lower case) -> the licence it says is missing. The status it comes
#: with (403 and 400 today) is not part of the match: any 4xx with the code counts.
LICENCE_CODES: Mapping[str, str] = {
    "authentication_requestfromnonpremiumtenantorb2ctenant": ENTRA_P1,
    "aadpremiumlicenserequired": ENTRA_P2,
}


def licence_required(status: int | None, code: str | None) -> str | None:
    """The licence a refusal says the tenant lacks ("Entra ID P1" or "Entra ID P2"), or
    None when the refusal is about something else (a permission, a bad request)."""
    if not code or status is None or not 400 <= status < 500:
        return None
    return LICENCE_CODES.get(code.strip().lower())
