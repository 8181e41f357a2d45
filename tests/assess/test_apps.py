"""Applications that read every mailbox: access policies, RBAC for Applications, and the
union of both authorities (Learn: RBAC for Applications in Exchange Online, FAQ)."""

from __future__ import annotations

from mailwarden.model.findings import Status
from tests.assess.apps_factory import mail_app, rbac_role, restrict_to
from tests.assess.assess_factory import (
    HR,
    account_of,
    adding,
    finding,
    group,
    hardened,
    run,
)


def _app_finding(snapshot):  # type: ignore[no-untyped-def]
    result = run(snapshot)
    found = [f for f in result.findings if f.check_id == "app-mail-access-unscoped"]
    assert len(found) == 1
    return result, found[0]


def test_an_unscoped_grant_fails_and_names_the_mailbox_and_its_path() -> None:
    result, got = _app_finding(mail_app())
    assert got.status is Status.FAIL
    assert got.resource.app_id == "app-1" and got.resource.key == "app:app-1"
    assert got.evidence["mailboxes"] == [HR] and got.evidence["access"] == "unscoped"
    hr = next(a for a in result.assessments if a.upn == HR)
    titles = [p.title for p in hr.attack_paths]
    assert "Application reads every mailbox" in titles
    path = next(p for p in hr.attack_paths if p.title == "Application reads every mailbox")
    assert any("Archiver (app-1)" in step for step in path.steps)
    assert any("no application access policy" in step for step in path.steps)


def test_a_restrict_policy_scopes_the_grant_to_its_group_members() -> None:
    base = hardened()
    scope, members = group("App scope", account_of(base, "hr"))
    inside = mail_app(
        policies=(restrict_to(scope.id),),
        base=adding(base, groups=(scope,), group_members=(members,)),
    )
    _, got = _app_finding(inside)
    assert got.status is Status.PASS and got.evidence["mailboxes"] == [HR]
    empty, nobody = group("Other scope")
    outside = adding(
        mail_app(policies=(restrict_to(empty.id),)), groups=(empty,), group_members=(nobody,)
    )
    _, got = _app_finding(outside)
    assert got.status is Status.PASS and got.evidence["mailboxes"] == []


def test_a_deny_policy_alone_leaves_the_app_unscoped() -> None:
    base = hardened()
    denied, members = group("Denied", account_of(base, "hr"))
    result = mail_app(
        policies=(restrict_to(denied.id, "DenyAccess"),),
        base=adding(base, groups=(denied,), group_members=(members,)),
    )
    _, got = _app_finding(result)
    assert got.status is Status.FAIL and got.evidence["mailboxes"] == []


def test_a_scoped_rbac_role_does_not_limit_an_entra_grant() -> None:
    _, got = _app_finding(mail_app(rbac=(rbac_role("Finance mailboxes"),)))
    assert got.status is Status.FAIL, got.message
    _, only_rbac = _app_finding(mail_app(grant=False, rbac=(rbac_role("Finance mailboxes"),)))
    assert only_rbac.status is Status.PASS
    assert only_rbac.evidence["rbac_scoped_roles"] == [
        {"role": "Application Mail.Read", "scope": "Finance mailboxes"}
    ]
    _, unscoped = _app_finding(mail_app(grant=False, rbac=(rbac_role(),)))
    assert unscoped.status is Status.FAIL and unscoped.evidence["mailboxes"] == [HR]


def test_unknown_group_membership_is_an_error_not_a_pass() -> None:
    _, got = _app_finding(mail_app(policies=(restrict_to("no-such-group"),)))
    assert got.status is Status.ERROR
    assert finding(run(mail_app()), "direct-send-allowed", None).status is Status.PASS
