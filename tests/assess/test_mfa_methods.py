"""no-mfa-on-enabled-account reads userRegistrationDetails as Graph returns it.

Shapes: Graph's list example (microsoftgraph/microsoft-graph-docs-contrib,
api-reference/v1.0/api/authenticationmethodsroot-list-userregistrationdetails.md;
https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails)
returns `"methodsRegistered": ["microsoftAuthenticatorPush", "softwareOneTimePasscode"]` with
`isMfaRegistered`/`isMfaCapable` true, and for a guest `[]` with both false. Passkeys and
FIDO2 keys are spelled `passKeyDeviceBound`, `passKeyDeviceBoundAuthenticator`,
`passKeyDeviceBoundWindowsHello`, `passKeySynced` and `fido2SecurityKey` (members of the beta
`usageAuthMethod` enum, api-reference/beta/resources/usageauthmethod.md, the same spellings
the service returns in methodsRegistered). `methodsRegistered` is `Collection(Edm.String)` in
the v1.0 CSDL (`../shared/reference/graph-v1.0-metadata.xml`, userRegistrationDetails): an
open set, so a method nobody listed yet can appear.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mailwarden.model.findings import Status
from mailwarden.model.inventory import Snapshot
from mailwarden.tenant.graph import parse_registration
from mailwarden.tenant.lenient import Record
from tests.assess.assess_factory import finding, hardened, run, with_account

GRAPH_EXAMPLE = {
    "id": "86462606-fde0-4fc4-9e0c-a20eb73e54c6",
    "userPrincipalName": "AlexW@Contoso.com",
    "userDisplayName": "Alex Wilber",
    "isAdmin": False,
    "isSsprRegistered": False,
    "isSsprEnabled": False,
    "isSsprCapable": False,
    "isMfaRegistered": True,
    "isMfaCapable": True,
    "isPasswordlessCapable": False,
    "lastUpdatedDateTime": "2023-03-13T19:15:41.6195833Z",
    "methodsRegistered": ["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
    "isSystemPreferredAuthenticationMethodEnabled": True,
    "systemPreferredAuthenticationMethods": ["push"],
    "userPreferredMethodForSecondaryAuthentication": "push",
    "userType": "member",
}


def _with_registration(**changes: Any) -> Snapshot:
    """hr can sign in; its registration is Graph's example with `changes` (None removes)."""
    snapshot = with_account(hardened(), "hr", account_enabled=True)
    hr = next(a for a in snapshot.accounts if a.mail_nickname == "hr")
    raw = {**GRAPH_EXAMPLE, "id": hr.id, "userPrincipalName": hr.user_principal_name}
    raw.update(changes)
    raw = {k: v for k, v in raw.items() if v is not None}
    row = parse_registration(Record(raw))
    rows = tuple(row if r.id == hr.id else r for r in snapshot.registrations)
    return replace(snapshot, registrations=rows)


def _verdict(**changes: Any) -> tuple[Status, str, dict[str, Any]]:
    found = finding(run(_with_registration(**changes)), "no-mfa-on-enabled-account")
    return found.status, found.message, dict(found.evidence)


def test_graphs_own_example_has_a_strong_method() -> None:
    status, message, evidence = _verdict()
    assert status is Status.PASS, message
    assert evidence["methods_registered"] == ["microsoftAuthenticatorPush",
                                              "softwareOneTimePasscode"]


def test_a_passkey_alone_is_a_strong_method() -> None:
    for method in ("passKeyDeviceBoundAuthenticator", "passKeyDeviceBoundWindowsHello",
                   "passKeySynced", "fido2SecurityKey", "passKeyDeviceBound"):
        status, message, _ = _verdict(methodsRegistered=[method], isPasswordlessCapable=True)
        assert status is Status.PASS, (method, message)


def test_without_the_flags_the_real_spellings_decide_in_any_case() -> None:
    for method in ("passKeySynced", "FIDO2SECURITYKEY", "windowsHelloForBusiness",
                   "hardwareOneTimePasscode"):
        status, message, _ = _verdict(methodsRegistered=[method], isMfaRegistered=None,
                                      isMfaCapable=None)
        assert status is Status.PASS, (method, message)


def test_the_guest_example_fails_and_names_what_is_registered() -> None:
    status, _, evidence = _verdict(methodsRegistered=[], isMfaRegistered=False,
                                   isMfaCapable=False)
    assert status is Status.FAIL
    assert evidence["methods_registered"] == []
    assert evidence["is_mfa_capable"] is False
    email = _verdict(methodsRegistered=["email"], isMfaRegistered=False, isMfaCapable=False)
    assert email[0] is Status.FAIL and "only email" in email[1], email[1]
    assert email[2]["methods_registered"] == ["email"]


def test_a_strong_method_the_policy_does_not_allow_is_not_a_second_factor() -> None:
    """isMfaCapable: "The method must be allowed by the authentication methods policy";
    isMfaRegistered: "The method may not necessarily be allowed" (userRegistrationDetails
    resource, api-reference/v1.0/resources/userregistrationdetails.md)."""
    status, message, _ = _verdict(methodsRegistered=["mobilePhone"], isMfaRegistered=True,
                                  isMfaCapable=False)
    assert status is Status.FAIL
    assert "does not allow" in message and "mobilePhone" in message, message


def test_an_unknown_method_is_neither_strong_nor_weak() -> None:
    status, message, evidence = _verdict(methodsRegistered=["quantumEntanglementKey"],
                                         isMfaRegistered=None, isMfaCapable=None)
    assert status is Status.ERROR, message
    assert evidence["unrecognised_methods"] == ["quantumEntanglementKey"]
    assert "quantumEntanglementKey" in message
    # The service's own flag decides what mailwarden does not know.
    trusted = _verdict(methodsRegistered=["quantumEntanglementKey"], isMfaCapable=None)
    assert trusted[0] is Status.PASS, trusted[1]
    refused = _verdict(methodsRegistered=["quantumEntanglementKey"], isMfaRegistered=False,
                       isMfaCapable=None)
    assert refused[0] is Status.FAIL, refused[1]
