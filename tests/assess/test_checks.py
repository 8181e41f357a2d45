"""Every check: a pass, a fail and an error (its input missing), on small snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from mailwarden.assess import CATALOGUE, AssessOptions, assess
from mailwarden.model.findings import Scope, Status
from mailwarden.model.inventory import (
    AuditBypass,
    DirectorySetting,
    InboxRule,
    OrganizationConfig,
    RoleAssignment,
    Snapshot,
    UserRegistration,
)
from mailwarden.model.usage import DelegateUsage
from tests.assess.apps_factory import direct_send, mail_app
from tests.assess.assess_factory import (
    GLOBAL_ADMIN,
    HR,
    NOW,
    adding,
    finding,
    full_access,
    hardened,
    mailbox_of,
    run,
    with_account,
    with_cas,
    with_exo_user,
    with_mailbox,
    without,
)
from tests.assess.test_dormant import used_by_alice
from tests.assess.upkeep_cases import UPKEEP_CASES

Make = Callable[[], Snapshot | tuple[Snapshot, DelegateUsage]]


def enabled() -> Snapshot:
    return with_account(hardened(), "hr", account_enabled=True)


def room(snapshot: Snapshot) -> Snapshot:
    return with_mailbox(snapshot, recipient_type_details="RoomMailbox")


def rule(**changes: Any) -> InboxRule:
    return replace(InboxRule(mailbox="hr", identity="hr\\1", name="r", enabled=True), **changes)


def bypass(name: str) -> Snapshot:
    snapshot = hardened()
    rows = tuple(
        AuditBypass(identity=row.identity, audit_bypass_enabled=row.identity == name)
        for row in snapshot.audit_bypass
    )
    return replace(snapshot, audit_bypass=rows)


def lockout(threshold: str, duration: str) -> Snapshot:
    setting = DirectorySetting(
        id="s1",
        display_name="Password Rule Settings",
        template_id="5cf42378-d67d-4f36-ba46-e8b86229381d",
        values=(("LockoutThreshold", threshold), ("LockoutDurationInSeconds", duration)),
    )
    return adding(hardened(), directory_settings=(setting,))


def role_for(name: str) -> Snapshot:
    snapshot = hardened()
    account = next(a for a in snapshot.accounts if a.mail_nickname == name)
    assignment = RoleAssignment(id="ra1", principal_id=account.id, role_definition_id=GLOBAL_ADMIN)
    return adding(snapshot, role_assignments=(assignment,))


def no_delegates() -> Snapshot:
    snapshot = hardened()
    rows = tuple(p for p in snapshot.mailbox_permissions if "alice" not in p.user)
    return replace(snapshot, mailbox_permissions=rows)


def registered(*methods: str) -> Snapshot:
    snapshot = enabled()
    hr = next(a for a in snapshot.accounts if a.mail_nickname == "hr")
    rows = tuple(
        UserRegistration(id=r.id, methods_registered=methods, is_mfa_registered=bool(methods))
        if r.id == hr.id
        else r
        for r in snapshot.registrations
    )
    return replace(snapshot, registrations=rows)


def protocol(field: str) -> dict[str, Make]:
    return {
        "pass": hardened,
        "fail": lambda: with_cas(hardened(), **{field: True}),
        "error": lambda: without(hardened(), "exo/Get-CASMailbox", "cas_mailboxes"),
    }


#: check id -> {"pass" | "fail" | "error" | "not_applicable": snapshot maker}
CASES: dict[str, dict[str, Make]] = {
    "sign-in-enabled": {
        "pass": hardened,
        "fail": enabled,
        "error": lambda: without(hardened(), "graph/users", "accounts"),
    },
    "direct-sign-in-observed": {
        "pass": hardened,
        "fail": lambda: with_account(
            hardened(), "hr", last_successful_sign_in=NOW - timedelta(days=3)
        ),
        "error": lambda: without(hardened(), "graph/users", "accounts"),
    },
    "password-reset-by-admin": {
        "pass": hardened,
        "fail": lambda: with_account(
            hardened(), "hr", last_password_change=NOW - timedelta(days=41)
        ),
        "error": lambda: without(hardened(), "graph/users", "accounts"),
    },
    "imap-enabled": protocol("imap_enabled"),
    "pop-enabled": protocol("pop_enabled"),
    "ews-enabled": protocol("ews_enabled"),
    "activesync-enabled": protocol("activesync_enabled"),
    "smtp-auth-enabled": {
        "pass": hardened,
        "fail": lambda: with_cas(hardened(), smtp_client_authentication_disabled=False),
        "error": lambda: without(hardened(), "exo/Get-CASMailbox", "cas_mailboxes"),
    },
    "basic-auth-allowed": {
        "pass": hardened,
        "fail": lambda: with_exo_user(hardened(), authentication_policy="Allow IMAP"),
        "error": lambda: without(hardened(), "exo/Get-User", "exo_users"),
    },
    "legacy-auth-not-blocked": {
        "pass": hardened,
        "fail": lambda: replace(hardened(), ca_policies=()),
        "error": lambda: without(hardened(), "graph/conditionalAccessPolicies", "ca_policies"),
    },
    "audit-disabled-org": {
        "pass": hardened,
        "fail": lambda: replace(
            hardened(), organization_config=OrganizationConfig(audit_disabled=True)
        ),
        "error": lambda: without(hardened(), "exo/Get-OrganizationConfig", "organization_config"),
    },
    "mailbox-audit-disabled": {
        "pass": hardened,
        "fail": lambda: with_mailbox(hardened(), audit_enabled=False),
        "error": lambda: without(hardened(), "exo/Get-Mailbox"),
    },
    "audit-actions-missing": {
        "pass": hardened,
        "fail": lambda: with_mailbox(hardened(), audit_owner=("Update", "HardDelete")),
        "error": lambda: with_mailbox(hardened(), audit_admin=None),
    },
    "audit-bypass-enabled": {
        "pass": hardened,
        "fail": lambda: bypass("alice"),
        "error": lambda: without(
            hardened(), "exo/Get-MailboxAuditBypassAssociation", "audit_bypass"
        ),
    },
    "stale-delegate": {
        "pass": hardened,
        "fail": lambda: with_account(hardened(), "alice", account_enabled=False),
        "error": lambda: without(hardened(), "exo/Get-MailboxPermission", "mailbox_permissions"),
    },
    "broad-delegation": {
        "pass": hardened,
        "fail": lambda: adding(
            hardened(), mailbox_permissions=(full_access(mailbox_of(hardened()), "Everyone"),)
        ),
        "error": lambda: without(hardened(), "exo/Get-MailboxPermission", "mailbox_permissions"),
    },
    "no-custodian": {
        "pass": hardened,
        "fail": no_delegates,
        "error": lambda: without(hardened(), "exo/Get-MailboxPermission", "mailbox_permissions"),
    },
    "external-forwarding": {
        "pass": hardened,
        "fail": lambda: with_mailbox(hardened(), forwarding_smtp_address="smtp:x@gmail.com"),
        "error": lambda: without(hardened(), "exo/Get-InboxRule", "inbox_rules"),
    },
    "hiding-inbox-rule": {
        "pass": hardened,
        "fail": lambda: adding(hardened(), inbox_rules=(rule(delete_message=True),)),
        "error": lambda: without(hardened(), "exo/Get-InboxRule", "inbox_rules"),
    },
    "remote-powershell-enabled": {
        "pass": hardened,
        "fail": lambda: with_exo_user(hardened(), remote_powershell_enabled=True),
        "error": lambda: without(hardened(), "exo/Get-User", "exo_users"),
    },
    "privileged-account": {
        "pass": lambda: role_for("alice"),
        "fail": lambda: role_for("hr"),
        "error": lambda: without(hardened(), "graph/roleAssignments", "role_assignments"),
    },
    "no-mfa-on-enabled-account": {
        "pass": lambda: registered("microsoftAuthenticatorPush"),
        "fail": lambda: registered("email"),
        "error": lambda: without(enabled(), "graph/userRegistrationDetails", "registrations"),
        "not_applicable": hardened,
    },
    "weak-smart-lockout": {
        "pass": lambda: lockout("10", "60"),
        "fail": lambda: lockout("20", "60"),
        "error": lambda: without(hardened(), "graph/settings", "directory_settings"),
    },
    "resource-account-enabled": {
        "pass": lambda: room(hardened()),
        "fail": lambda: room(enabled()),
        "error": lambda: room(without(hardened(), "graph/users", "accounts")),
        "not_applicable": hardened,
    },
    "app-mail-access-unscoped": {
        "pass": hardened,
        "fail": mail_app,
        "error": lambda: without(mail_app(), "exo/Get-ApplicationAccessPolicy",
                                 "application_access_policies"),
    },
    "direct-send-allowed": {
        "pass": lambda: direct_send(True),
        "fail": lambda: direct_send(False),
        "error": lambda: direct_send(None),
    },
    **UPKEEP_CASES,
    "dormant-delegate": {
        "pass": lambda: (hardened(), used_by_alice(days_ago=10)),
        "fail": lambda: (hardened(), used_by_alice(days_ago=120)),
        "error": hardened,  # no audit log read
    },
}
TENANT_ONLY = {c.info.id for c in CATALOGUE if c.info.scope is Scope.TENANT}


def _cases() -> list[tuple[str, str]]:
    return [(check_id, want) for check_id, makers in CASES.items() for want in makers]


@pytest.mark.parametrize(("check_id", "want"), _cases())
def test_check_verdict(check_id: str, want: str) -> None:
    made = CASES[check_id][want]()
    result = assess(made[0], usage=made[1], options=AssessOptions()) if isinstance(made, tuple) \
        else run(made)
    upn = None if check_id in TENANT_ONLY else HR
    got = finding(result, check_id, upn)
    assert got.status is Status(want), got.message
    assert got.message.endswith("."), "a finding's message is one sentence"
    if got.status is Status.FAIL:
        assert got.remediation is not None and got.remediation.summary
        assert got.controls
    if got.status is Status.ERROR and want == "error":
        assert got.status is not Status.PASS


def test_every_check_has_a_pass_a_fail_and_an_error_case() -> None:
    ids = [check.info.id for check in CATALOGUE]
    assert set(CASES) == set(ids)
    for check_id, makers in CASES.items():
        assert {"pass", "fail", "error"} <= set(makers), check_id


def test_a_missing_source_never_passes() -> None:
    """Whatever source is missing, no check that reads it passes. (A check that reads no
    Get-Mailbox property judges the mailboxes other sources list without it:
    tests/assess/test_check_inputs.py.)"""
    for check in CATALOGUE:
        for source in check.info.needs:
            if source == "exo/Get-Mailbox" and not check.info.reads_mailbox:
                continue
            field = {
                "graph/users": "accounts",
                "exo/Get-CASMailbox": "cas_mailboxes",
                "exo/Get-User": "exo_users",
            }.get(source)
            result = run(without(hardened(), source, field))
            for item in result.findings:
                if item.check_id == check.info.id:
                    assert item.status is Status.ERROR, (source, item)
                    assert source in item.evidence.get("missing_sources", {})


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("hr:\\RSS Feeds", "fail"),
        ("hr:\\Inbox\\Archive", "fail"),
        ("hr:\\Conversation History\\2026", "fail"),
        ("hr:\\Inbox\\Invoices", "pass"),
    ],
)
def test_rules_that_move_mail_out_of_sight(folder: str, expected: str) -> None:
    snapshot = adding(hardened(), inbox_rules=(rule(move_to_folder=folder),))
    assert finding(run(snapshot), "hiding-inbox-rule").status.value == expected


def test_disabled_rules_and_internal_forwards_do_not_fail() -> None:
    internal = '"Alice" [EX:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=a]'
    rules = (
        rule(delete_message=True, enabled=False),
        rule(identity="hr\\2", forward_to=(internal, '"Bob" [SMTP:bob@contoso.com]')),
    )
    result = run(adding(hardened(), inbox_rules=rules))
    assert finding(result, "hiding-inbox-rule").status is Status.PASS
    assert finding(result, "external-forwarding").status is Status.PASS
    outside = adding(hardened(), inbox_rules=(rule(redirect_to=('"x" [SMTP:x@gmail.com]',)),))
    got = finding(run(outside), "external-forwarding")
    assert got.status is Status.FAIL and "x@gmail.com" in got.message
