"""What a refused probe means: a permission or role to grant, a licence the tenant lacks,
or a service that could not be reached.

Refusals are told apart by the codes and messages Microsoft's services send, as
published (each constant names its source); the message around them is the client's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mailwarden.errors import AuthError, MailwardenError, RetriesExhaustedError, ServiceError
from mailwarden.m365.claims import GrantKind, TokenGrants
from mailwarden.m365.permissions import (
    EXCHANGE_APP_PERMISSION,
    GraphPermission,
    exchange_role,
    graph_requirements,
)

#: 403 for signInActivity and the authentication-methods reports without Entra ID P1
#: (microsoft-graph-docs-contrib#3033, #3808; its message has two published wordings).
NO_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
#: 400 for PIM eligibility without Entra ID P2 or Governance (maester365/maester#1421).
NO_P2 = "AadPremiumLicenseRequired"
#: 401 from the Exchange admin API for a cmdlet outside the caller's roles
#: (MicrosoftDocs/office-docs-powershell#7970: "User is not allowed to call Get-Mailbox").
NOT_ALLOWED = "User is not allowed to call"
#: Get-InboxRule as Global Reader (MicrosoftDocs/OfficeDocs-O365ITPro#780).
OUT_OF_SCOPE = "out of the current user's read scope"
#: 403 from Graph naming the permission it wants (microsoft-graph-explorer-v4#2731).
PERMISSION_MISSING = "Calling principal does not have required MSGraph permissions"

P1 = "Microsoft Entra ID P1 or P2"
P2 = "Microsoft Entra ID P2 (or Microsoft Entra ID Governance)"


class Verdict(StrEnum):
    OK = "ok"
    MISSING_PERMISSION = "missing-permission"  # a Graph (or Exchange app) permission
    MISSING_ROLE = "missing-role"  # an Exchange role of the app's service principal
    LICENCE = "licence"  # the tenant lacks a licence: collect records a limitation
    SIGN_IN = "sign-in-failed"
    UNREACHABLE = "unreachable"
    FAILED = "error"  # an answer none of the above explains
    NOT_PROBED = "not-probed"


#: Verdicts that leave collect without something it needs for want of access (exit 3).
ACCESS_PROBLEMS = frozenset({Verdict.SIGN_IN, Verdict.MISSING_PERMISSION, Verdict.MISSING_ROLE})
#: Verdicts of a service that did not answer as it should (exit 4).
SERVICE_PROBLEMS = frozenset({Verdict.UNREACHABLE, Verdict.FAILED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A probe's verdict, what to grant (empty when nothing), and the detail behind it."""

    verdict: Verdict
    grant: str = ""
    detail: str = ""


def missing_graph(url: str, grants: TokenGrants, said: str = "") -> list[GraphPermission]:
    """The permissions of a Graph read that the token lacks: by its roles when they can
    be read; else the one the service named; else every one the read needs."""
    needed = list(graph_requirements(url))
    if grants.known:
        lacking = [p for p in needed if not grants.has_any(p.accepted)]
        if lacking:
            return lacking
    if PERMISSION_MISSING in said:
        named = [w.strip(").,;'\"") for w in said.split(PERMISSION_MISSING, 1)[1].split()[:1]]
        by_name = [p for p in needed if named and p.name.lower() == named[0].lower()]
        if by_name:
            return by_name
    return needed


def graph_refusal(url: str, exc: MailwardenError, grants: TokenGrants) -> Finding:
    said = str(exc)
    if isinstance(exc, RetriesExhaustedError):
        return Finding(verdict=Verdict.UNREACHABLE, detail=said)
    if NO_PREMIUM in said:
        return Finding(
            verdict=Verdict.LICENCE,
            grant=f"{P1} in the tenant",
            detail=f"Graph answered {NO_PREMIUM}: the tenant has no {P1}, so collect records "
            "this as a limitation and the checks that need it report error. (On a tenant "
            "that has P1, grant Directory.Read.All too: Graph reads the licence with it.)",
        )
    if NO_P2 in said:
        return Finding(
            verdict=Verdict.LICENCE, grant=f"{P2} in the tenant",
            detail=f"Graph answered {NO_P2}: collect records this as a limitation and the "
            "checks that need it report error.",
        )
    if isinstance(exc, AuthError):
        return Finding(verdict=Verdict.SIGN_IN, detail=said)
    if isinstance(exc, ServiceError) and exc.status == 403:
        lacking = missing_graph(url, grants, said)
        grant = " and ".join(p.text() for p in lacking) or (
            "a Microsoft Graph application permission for this resource")
        return Finding(verdict=Verdict.MISSING_PERMISSION, grant=grant, detail=said)
    return Finding(verdict=Verdict.FAILED, detail=said)


def silently_missing(url: str, grants: TokenGrants) -> Finding | None:
    """A permission Graph does not refuse without, whose absence the app-only token's
    roles show (the data would read as empty); None when nothing is missing."""
    if grants.kind is not GrantKind.APPLICATION:
        return None
    lacking = [p for p in graph_requirements(url) if p.silent and not grants.has_any(p.accepted)]
    if not lacking:
        return None
    return Finding(
        verdict=Verdict.MISSING_PERMISSION,
        grant=" and ".join(p.text() for p in lacking),
        detail="Graph answers without it, but leaves the property empty; the token's "
        "roles do not include it.",
    )


def exchange_refusal(cmdlet: str, exc: MailwardenError) -> Finding:
    said = str(exc)
    if isinstance(exc, RetriesExhaustedError):
        return Finding(verdict=Verdict.UNREACHABLE, detail=said)
    role = exchange_role(cmdlet)
    if NOT_ALLOWED in said or OUT_OF_SCOPE in said or (
        isinstance(exc, ServiceError) and exc.status == 403
    ):
        return Finding(verdict=Verdict.MISSING_ROLE, grant=role.text(), detail=said)
    if isinstance(exc, AuthError):
        return Finding(
            verdict=Verdict.SIGN_IN,
            grant=f"{EXCHANGE_APP_PERMISSION} (Office 365 Exchange Online application "
            "permission, admin consented) and an Exchange role for the app",
            detail=said,
        )
    return Finding(verdict=Verdict.FAILED, detail=said)


def exchange_app_permission(grants: TokenGrants) -> Finding:
    """An app-only Exchange token without Exchange.ManageAsApp is refused by every cmdlet."""
    if grants.kind is GrantKind.APPLICATION and not grants.has_any((EXCHANGE_APP_PERMISSION,)):
        return Finding(
            verdict=Verdict.MISSING_PERMISSION,
            grant=f"{EXCHANGE_APP_PERMISSION} (Office 365 Exchange Online application "
            "permission, admin consented)",
            detail="the Exchange token's roles do not include it",
        )
    permissions = ", ".join(sorted(grants.permissions)) or "none"
    return Finding(verdict=Verdict.OK, detail=f"{grants.kind.value} permissions: {permissions}")
