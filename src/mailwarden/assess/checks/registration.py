"""Is a strong second factor registered? Reading Graph's `userRegistrationDetails`.

`methodsRegistered` is `Collection(Edm.String)` in Graph's v1.0 schema, not an enum:
Microsoft publishes no closed list, and new methods appear (passkeys arrived as
`passKeyDeviceBound`, then `passKeyDeviceBoundAuthenticator`, `passKeyDeviceBoundWindowsHello`
and `passKeySynced`). The spellings below are the ones the service returns, from Graph's
list example (`microsoftAuthenticatorPush`, `softwareOneTimePasscode`, `mobilePhone`) and
the members of the beta `usageAuthMethod` enum that report the same methods; they are
compared without regard to case.

The service also judges the list itself: `isMfaRegistered` (a strong method is registered)
and `isMfaCapable` (one is registered *and* the authentication methods policy allows it).
Both are non-nullable in v1.0, so a real report always has them. The verdict:

1. `isMfaCapable` false: no usable second factor, whatever is listed (a method the policy
   disallows cannot be used to sign in).
2. `isMfaCapable` true: a usable second factor.
3. Without `isMfaCapable` (a partial export), the list decides: a known strong method
   passes. A method this table does not know is neither strong nor weak: the service's
   `isMfaRegistered` decides it when present, else the verdict is unknown (an error,
   never a silent pass or fail). Only weak methods, or none, fail; so does
   `isMfaRegistered` false.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from mailwarden.model.inventory import UserRegistration

#: Methods that serve as a second factor (or as a phishing-resistant first one).
STRONG_METHODS = frozenset(
    name.lower()
    for name in (
        "microsoftAuthenticatorPush",
        "microsoftAuthenticatorPasswordless",
        "softwareOneTimePasscode",
        "hardwareOneTimePasscode",
        "fido2SecurityKey",
        "fido2",  # the spelling in the resource's own description; older reports used it
        "passKeyDeviceBound",
        "passKeyDeviceBoundAuthenticator",
        "passKeyDeviceBoundWindowsHello",
        "passKeySynced",
        "windowsHelloForBusiness",
        "macOsSecureEnclaveKey",
        "x509CertificateMultiFactor",
        "mobilePhone",
        "alternateMobilePhone",
        "officePhone",
        "sms",
        "externalAuthMethod",
    )
)
#: Methods that are not a second factor: email and security questions only reset a
#: password; a single-factor certificate replaces the password, it does not add to it; a
#: temporary access pass expires.
WEAK_METHODS = frozenset(
    name.lower()
    for name in (
        "email",
        "securityQuestion",
        "x509CertificateSingleFactor",
        "temporaryAccessPass",
        "appPassword",
    )
)


class MfaState(Enum):
    STRONG = "strong"
    WEAK = "weak"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaJudgement:
    state: MfaState
    reason: str
    strong: tuple[str, ...] = ()
    unrecognised: tuple[str, ...] = ()


def judge_registration(registration: UserRegistration) -> MfaJudgement:
    """Whether the registration shows a usable strong method; see the module docstring."""
    methods = registration.methods_registered
    strong = tuple(m for m in methods if m.lower() in STRONG_METHODS)
    unrecognised = tuple(
        m for m in methods if m.lower() not in STRONG_METHODS and m.lower() not in WEAK_METHODS
    )
    found = {"strong": strong, "unrecognised": unrecognised}
    capable, registered = registration.is_mfa_capable, registration.is_mfa_registered
    if capable is False:
        why = (
            "a strong method is registered, but the authentication methods policy does not "
            "allow it (isMfaCapable is false)"
            if strong or registered
            else "no strong method is registered (isMfaCapable is false)"
        )
        return MfaJudgement(state=MfaState.WEAK, reason=why, **found)
    if capable is True:
        return MfaJudgement(state=MfaState.STRONG, reason="isMfaCapable is true", **found)
    if strong:
        return MfaJudgement(state=MfaState.STRONG, reason="a strong method is registered", **found)
    if unrecognised:
        if registered is not None:
            state = MfaState.STRONG if registered else MfaState.WEAK
            reason = f"isMfaRegistered is {'true' if registered else 'false'}"
            return MfaJudgement(state=state, reason=reason, **found)
        return MfaJudgement(
            state=MfaState.UNKNOWN,
            reason="whether the unrecognised methods are strong cannot be told without "
            "isMfaRegistered or isMfaCapable",
            **found,
        )
    if registered and not methods:
        return MfaJudgement(state=MfaState.STRONG, reason="isMfaRegistered is true", **found)
    return MfaJudgement(
        state=MfaState.WEAK,
        reason="only methods that are not a second factor are registered"
        if methods
        else "no method is registered",
        **found,
    )
