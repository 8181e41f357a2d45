"""What Graph leaves out, without an error, for a token that lacks a permission.

Some user properties need a permission of their own beyond User.Read.All. Graph does not
refuse the request when the app lacks it: it answers 200 with the property as null, so a
client cannot tell "no value" from "not allowed" by the answer alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mailwarden.emulator.tokens import decode_jwt_part

#: User properties Graph answers with null (HTTP 200, no error) when the token lacks every
#: permission listed: employeeLeaveDateTime needs User-LifeCycleInfo.Read.All to be read
#: (Graph user resource); a managed identity without it got `"employeeLeaveDateTime": null`
#: (Azure/LogicAppsUX#4925).
WITHHELD_USER_PROPERTIES: Mapping[str, frozenset[str]] = {
    "employeeleavedatetime": frozenset(
        {"user-lifecycleinfo.read.all", "user-lifecycleinfo.readwrite.all"}),
}


def withheld_for(roles: Sequence[str] | None) -> frozenset[str]:
    """User properties (lower case) served as null to an app-only token with `roles`; none
    when the token carries no roles claim (the emulator's own tokens grant everything)."""
    if roles is None:
        return frozenset()
    granted = {str(role).lower() for role in roles}
    return frozenset(name for name, needed in WITHHELD_USER_PROPERTIES.items()
                     if not granted & needed)


def token_roles(authorization: str | None) -> list[str] | None:
    """The `roles` claim of a bearer token the issuer has already accepted."""
    try:
        claims = decode_jwt_part((authorization or "")[7:].strip().split(".")[1])
    except (IndexError, ValueError):
        return None
    roles = claims.get("roles")
    return [str(role) for role in roles] if isinstance(roles, list) else None
