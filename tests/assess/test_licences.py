"""What the tenant's licences change in the verdicts.

- Security defaults (MicrosoftDocs/entra-docs, docs/fundamentals/security-defaults.md;
  https://learn.microsoft.com/entra/fundamentals/security-defaults): "After security
  defaults are enabled in your tenant, all authentication requests made by an older
  protocol will be blocked", legacy meaning "Any client that uses older mail protocols such
  as IMAP, SMTP, or POP3"; and "Organizations that choose to implement Conditional Access
  policies that replace security defaults must disable security defaults".
- Without Entra ID P1 Graph refuses signInActivity and the registration report
  (microsoftgraph/microsoft-graph-docs-contrib issues 3033, 3808; the Graph user resource:
  signInActivity "require[s] an Azure AD Premium P1/P2 license"); without P2 the PIM
  eligibility schedules (maester365/maester issue 1421). What could not be read is an
  `error` with the reason, never a pass.
- PIM: an eligible assignment is a `unifiedRoleEligibilitySchedule` (v1.0, "List
  roleEligibilitySchedules"), invisible in roleAssignments until activated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from mailwarden.model.findings import ProblemKind, Severity, Status
from mailwarden.model.inventory import (
    SIGN_IN_ACTIVITY,
    RoleAssignment,
    RoleEligibility,
    SecurityDefaults,
    Snapshot,
)
from tests.assess.assess_factory import (
    GLOBAL_ADMIN,
    HR,
    NOW,
    account_of,
    finding,
    hardened,
    run,
    with_account,
    with_cas,
    without,
)

P1_SIGN_IN = "needs Entra ID P1 (signInActivity)"
P1_REGISTRATION = "needs Entra ID P1 (userRegistrationDetails)"
P2_ELIGIBILITY = "needs Entra ID P2 (roleEligibilitySchedules)"


def sprayable() -> Snapshot:
    """hr can sign in and IMAP is on; no conditional-access policy blocks legacy clients."""
    snapshot = with_cas(with_account(hardened(), "hr", account_enabled=True), imap_enabled=True)
    return replace(snapshot, ca_policies=())


def limited(snapshot: Snapshot, source: str, reason: str) -> Snapshot:
    return replace(snapshot, problems={**snapshot.problems, source: reason},
                   limitations={**snapshot.limitations, source: reason})


# -- security defaults ---------------------------------------------------------------------


def test_security_defaults_block_legacy_authentication_and_the_spray_path() -> None:
    base = sprayable()
    before = run(base)
    assert finding(before, "legacy-auth-not-blocked").status is Status.FAIL
    assert finding(before, "sign-in-enabled").severity is Severity.CRITICAL

    result = run(replace(base, security_defaults=SecurityDefaults(enabled=True)))
    legacy = finding(result, "legacy-auth-not-blocked")
    assert legacy.status is Status.PASS
    assert "blocked" in legacy.message and "by security defaults" in legacy.message
    assert legacy.evidence["security_defaults"] is True
    assert legacy.evidence["blocked_by"] == ["security defaults"]
    # Nothing takes a password any more: not sprayable, not critical, no spray path.
    sign_in = finding(result, "sign-in-enabled")
    assert sign_in.status is Status.FAIL and sign_in.severity is Severity.HIGH
    [item] = result.assessments
    assert "Password spray without MFA" not in [p.title for p in item.attack_paths]
    assert item.risk_score < 90
    assert finding(result, "imap-enabled").status is Status.FAIL  # the setting stays wrong


def test_unread_security_defaults_leave_a_missing_block_unknown() -> None:
    unread = without(sprayable(), "graph/securityDefaults", "security_defaults")
    legacy = finding(run(unread), "legacy-auth-not-blocked")
    assert legacy.status is Status.ERROR
    assert "security defaults were not read" in legacy.message
    # An enabled conditional-access policy means security defaults are off: the verdict
    # stands without them.
    excluded = replace(unread, ca_policies=hardened().ca_policies)
    hr = account_of(excluded, "hr")
    policy = replace(excluded.ca_policies[0],
                     users=replace(excluded.ca_policies[0].users, exclude_users=(hr.id,)))
    assert finding(run(replace(excluded, ca_policies=(policy,))),
                   "legacy-auth-not-blocked").status is Status.FAIL
    assert finding(run(excluded), "legacy-auth-not-blocked").status is Status.PASS


# -- Entra ID P1 -----------------------------------------------------------------------------


def test_without_sign_in_activity_a_direct_sign_in_is_unknown_not_absent() -> None:
    snapshot = limited(hardened(), SIGN_IN_ACTIVITY, P1_SIGN_IN)
    got = finding(run(snapshot), "direct-sign-in-observed")
    assert got.status is Status.ERROR
    assert got.message == (f"direct-sign-in-observed cannot be judged for {HR}: {P1_SIGN_IN}.")
    assert got.evidence["licence_limitations"] == {SIGN_IN_ACTIVITY: P1_SIGN_IN}
    assert finding(run(hardened()), "direct-sign-in-observed").status is Status.PASS


def test_without_the_registration_report_mfa_is_unknown_with_the_reason() -> None:
    snapshot = limited(with_account(hardened(), "hr", account_enabled=True),
                       "graph/userRegistrationDetails", P1_REGISTRATION)
    snapshot = replace(snapshot, registrations=())
    got = finding(run(snapshot), "no-mfa-on-enabled-account")
    assert got.status is Status.ERROR and P1_REGISTRATION in got.message


def test_limitations_are_their_own_kind_of_problem() -> None:
    snapshot = limited(hardened(), SIGN_IN_ACTIVITY, P1_SIGN_IN)
    snapshot = replace(snapshot, problems={**snapshot.problems, "exo/Get-InboxRule": "HTTP 500"})
    kinds = {(p.kind, p.source) for p in run(snapshot).problems}
    assert (ProblemKind.LICENCE_LIMITATION, SIGN_IN_ACTIVITY) in kinds
    assert (ProblemKind.MISSING_SOURCE, "exo/Get-InboxRule") in kinds


# -- PIM (Entra ID P2) -----------------------------------------------------------------------


def eligible(snapshot: Snapshot, name: str = "hr", *, status: str = "Provisioned",
             end: datetime | None = None) -> Snapshot:
    account = account_of(snapshot, name)
    schedule = RoleEligibility(id="e1", principal_id=account.id, role_definition_id=GLOBAL_ADMIN,
                               directory_scope_id="/", status=status, member_type="Direct",
                               end=end)
    return replace(snapshot, role_eligibilities=(schedule,))


def test_an_eligible_role_makes_the_account_privileged() -> None:
    base = with_account(hardened(), "hr", account_enabled=True)
    assert finding(run(base), "privileged-account").status is Status.PASS
    result = run(eligible(base))
    got = finding(result, "privileged-account")
    assert got.status is Status.FAIL and got.severity is Severity.CRITICAL
    assert got.evidence["eligible_roles"] == ["Global Administrator"]
    assert "is eligible for Global Administrator" in got.message
    [item] = result.assessments
    admin = next(p for p in item.attack_paths if p.title == "Administrator nobody owns")
    assert "eligible for Global Administrator" in admin.steps
    # An expired or revoked eligibility is not a role.
    expired = eligible(base, end=NOW - timedelta(days=1))
    assert finding(run(expired), "privileged-account").status is Status.PASS
    revoked = eligible(base, status="Revoked")
    assert finding(run(revoked), "privileged-account").status is Status.PASS


def test_unreadable_eligibility_turns_only_a_pass_into_an_error() -> None:
    snapshot = limited(hardened(), "graph/roleEligibilitySchedules", P2_ELIGIBILITY)
    got = finding(run(snapshot), "privileged-account")
    assert got.status is Status.ERROR and P2_ELIGIBILITY in got.message
    # An active role still fails: what is known is enough.
    hr = account_of(snapshot, "hr")
    active = replace(snapshot, role_assignments=(RoleAssignment(
        id="ra1", principal_id=hr.id, role_definition_id=GLOBAL_ADMIN, directory_scope_id="/"),))
    assert finding(run(active), "privileged-account").status is Status.FAIL
