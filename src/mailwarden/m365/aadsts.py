"""Entra ID (AADSTS) token errors turned into sentences that say what to fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: AADSTS code -> what the person running mailwarden should do about it.
ADVICE: Mapping[int, str] = {
    90002: "the tenant was not found: check --tenant (tenant id or verified domain) and --cloud",
    900023: "the tenant identifier is malformed: pass a tenant GUID or a verified domain",
    700016: (
        "the application was not found in this tenant: check --client-id, and that the app "
        "is registered in (or consented to by) this tenant"
    ),
    7000215: (
        "the client secret is wrong: copy the secret's value (not its id) into "
        "MAILWARDEN_CLIENT_SECRET, or create a new secret"
    ),
    7000222: "the client secret has expired: create a new one in the app registration",
    700027: (
        "the certificate is not registered on the application: upload its public part "
        "under Certificates & secrets in the app registration"
    ),
    700024: "the client assertion is outside its validity window: check the system clock",
    7000112: "the application is disabled: enable it in Entra ID (Enterprise applications)",
    65001: (
        "admin consent is missing: grant admin consent for the app's API permissions "
        "in the app registration"
    ),
    500011: (
        "the resource is not available in this tenant: check --cloud, and that the tenant "
        "has Exchange Online / Microsoft Graph"
    ),
    70011: "the scope is not valid for this application: check the cloud and the app type",
    7000218: (
        "the application is not a public client: enable 'Allow public client flows' in "
        "the app registration, or sign in with a certificate or secret"
    ),
    50126: "the user name or password is wrong",
    50034: "the user account does not exist in this tenant",
    50053: "the account is locked after too many failed attempts: wait and retry",
    50057: "the user account is disabled",
    50076: "multi-factor authentication is required: complete it in the browser",
    53003: "conditional access blocked the sign-in: ask an administrator which policy applies",
    70020: "the device code expired before sign-in finished: run again and sign in promptly",
    70019: "the device code expired before sign-in finished: run again and sign in promptly",
    50059: "no tenant was identified: pass --tenant",
}

_CODE = re.compile(r"AADSTS(\d+)")
_TRACE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.IGNORECASE | re.DOTALL)


def _codes(result: Mapping[str, Any]) -> list[int]:
    codes = [c for c in result.get("error_codes") or () if isinstance(c, int)]
    description = str(result.get("error_description") or "")
    codes.extend(int(c) for c in _CODE.findall(description))
    return list(dict.fromkeys(codes))


def describe_token_failure(result: Mapping[str, Any], *, scope: str) -> str:
    """One message for a failed MSAL result: the error, its first line, and the fix."""
    error = str(result.get("error") or "no_token")
    description = _TRACE.sub("", str(result.get("error_description") or "")).strip()
    description = description.splitlines()[0] if description else "no description"
    advice = next((ADVICE[c] for c in _codes(result) if c in ADVICE), None)
    if advice is None and error == "invalid_client":
        advice = "check the application id and its credential (certificate or secret)"
    if advice is None and error == "authorization_declined":
        advice = "the sign-in was declined; run again and approve it"
    if advice is None and error == "expired_token":
        advice = ADVICE[70020]
    message = f"could not get a token for {scope}: {error}: {description}"
    if advice is None:
        return message
    return f"{message}{'' if message.endswith('.') else '.'} Fix: {advice}"
