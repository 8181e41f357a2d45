"""A refusal for want of a licence is told apart from a missing permission, by Graph's
error code (never its message, which Microsoft has reworded).

Published bodies, verbatim but for the ids:
- 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`, "Neither tenant is B2C or
  tenant doesn't have premium license": microsoftgraph/microsoft-graph-docs-contrib issues
  3033 and 3808 (`/users?$select=...,signInActivity`); newer wording "Tenant is not a B2C
  tenant and doesn't have premium license": microsoft/woodgrove-groceries issue 51.
- 400 `AadPremiumLicenseRequired`, "The tenant needs to have Microsoft Entra ID P2 or
  Microsoft Entra ID Governance license.": maester365/maester issue 1421 (v1.0
  roleEligibilityScheduleInstances, 2026); older "The tenant needs an AAD Premium 2
  license.": JulianHayward/Azure-MG-Sub-Governance-Reporting issue 114.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mailwarden.errors import LicenceRequiredError, PermissionDeniedError, ServiceError
from mailwarden.m365.graph import GraphClient
from mailwarden.m365.http import M365Http
from mailwarden.m365.licences import ENTRA_P1, ENTRA_P2, licence_required
from mailwarden.settings import RetryPolicy, Settings

INNER = {"date": "2026-01-22T09:07:22", "request-id": "bcee6ed2-437a-4b54-bbbf-d5d615099cb6",
         "client-request-id": "66003934-6d5c-4370-b1f5-93acdc46f57e"}
NON_PREMIUM = {"error": {"code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                         "message": "Neither tenant is B2C or tenant doesn't have premium license",
                         "innerError": INNER}}
NON_PREMIUM_NEWER = {"error": {
    "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    "message": "Tenant is not a B2C tenant and doesn't have premium license"}}
P2_REQUIRED = {"error": {"code": "AadPremiumLicenseRequired",
                         "message": "The tenant needs to have Microsoft Entra ID P2 or Microsoft "
                         "Entra ID Governance license.", "innerError": INNER}}
P2_REQUIRED_OLDER = {"error": {"code": "AadPremiumLicenseRequired",
                               "message": "The tenant needs an AAD Premium 2 license."}}
DENIED = {"error": {"code": "Authorization_RequestDenied",
                    "message": "Insufficient privileges to complete the operation.",
                    "innerError": INNER}}


def test_licence_codes_are_matched_on_the_code_whatever_the_message() -> None:
    code = NON_PREMIUM["error"]["code"]
    assert licence_required(403, code) == ENTRA_P1
    assert licence_required(400, "AadPremiumLicenseRequired") == ENTRA_P2
    assert licence_required(400, "aadpremiumlicenserequired") == ENTRA_P2
    assert licence_required(403, "Authorization_RequestDenied") is None
    assert licence_required(403, None) is None
    assert licence_required(500, "AadPremiumLicenseRequired") is None


def _refusal(status: int, body: dict[str, Any]) -> Exception:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    settings = Settings(tenant="contoso.onmicrosoft.com", graph_url="https://graph.test",
                        retry=RetryPolicy(max_attempts=1))

    class Tokens:
        async def token(self, scope: str) -> str:
            return "t"

    async def main() -> Exception:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            graph = GraphClient(M365Http(client, Tokens(), settings))
            with pytest.raises(ServiceError) as caught:
                await graph.collection("/users", select=("id", "signInActivity"))
            return caught.value

    return asyncio.run(main())


@pytest.mark.parametrize(("status", "body", "licence"), [
    (403, NON_PREMIUM, ENTRA_P1), (403, NON_PREMIUM_NEWER, ENTRA_P1),
    (400, P2_REQUIRED, ENTRA_P2), (400, P2_REQUIRED_OLDER, ENTRA_P2),
])
def test_a_licence_refusal_is_its_own_error_not_a_permission_to_grant(
    status: int, body: dict[str, Any], licence: str
) -> None:
    error = _refusal(status, body)
    assert isinstance(error, LicenceRequiredError)
    assert not isinstance(error, PermissionDeniedError)
    assert error.licence == licence and error.status == status
    assert error.code == body["error"]["code"]
    assert f"no {licence} licence" in str(error) and "Grant the application" not in str(error)


def test_a_permission_refusal_still_says_what_to_grant_and_keeps_the_code() -> None:
    error = _refusal(403, DENIED)
    assert isinstance(error, PermissionDeniedError)
    assert error.code == "Authorization_RequestDenied"
    assert "AuditLog.Read.All" in str(error)
