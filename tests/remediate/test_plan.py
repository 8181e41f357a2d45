"""Plans from the small synthetic tenant: what is planned, what is left out, and why."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from mailwarden.errors import ConfigError, InputError
from mailwarden.model.findings import Status
from mailwarden.notify.inputs import load_findings
from mailwarden.remediate.errors import (
    FindingEvidenceError,
    StaleSnapshotError,
    UnknownActionError,
)
from mailwarden.remediate.kinds import AUTOMATED
from mailwarden.remediate.model import Action, ActionKind, ExoCall, GraphCall, Plan
from mailwarden.report.findings_json import render_findings_json
from mailwarden.synth import COLLECTED_AT
from tests.remediate.remediate_helpers import SOON_AFTER, plan_for, small_scan


def failing(check_id: str) -> set[str]:
    return {
        f.resource.upn or ""
        for f in small_scan().result.findings
        if f.check_id == check_id and f.status is Status.FAIL
    }


def of_kind(plan: Plan, kind: ActionKind) -> list[Action]:
    return [a for a in plan.actions if a.kind is kind]


def test_every_automated_failure_has_an_action_or_a_stated_reason() -> None:
    plan = plan_for()
    # Mailboxes left out whole; a guest's grant held back leaves the mailbox in the plan.
    skipped = {s.upn for s in plan.skipped if "--include-external-delegates" not in s.reason}
    answered = {(c, a.upn) for a in plan.actions for c in a.check_ids}
    manual = set(zip((r.check_id for r in plan.manual), plan.manual_upns, strict=True))
    for finding in small_scan().result.failures():
        resource = finding.resource  # an application is named by its label
        key = (finding.check_id, resource.upn or (resource.label if resource.app_id else ""))
        if finding.resource.upn in skipped:
            continue
        assert key in answered or key in manual, key
        if finding.check_id in {"sign-in-enabled", "imap-enabled", "mailbox-audit-disabled"}:
            assert key in answered, key


def test_block_sign_in_patches_the_account_and_revokes_its_sessions() -> None:
    plan = plan_for()
    actions = of_kind(plan, ActionKind.BLOCK_SIGN_IN)
    assert {a.upn for a in actions} == failing("sign-in-enabled") - {s.upn for s in plan.skipped}
    for action in actions:
        patch, revoke = action.calls
        assert isinstance(patch, GraphCall) and isinstance(revoke, GraphCall)
        assert (patch.method, patch.path, patch.body) == (
            "PATCH", f"/users/{action.account_id}", {"accountEnabled": False})
        assert (revoke.method, revoke.path) == (
            "POST", f"/users/{action.account_id}/revokeSignInSessions")


def test_ews_and_activesync_are_left_alone_unless_asked() -> None:
    def parameters(plan: Plan) -> set[str]:
        return {
            name
            for a in of_kind(plan, ActionKind.DISABLE_PROTOCOLS)
            for name in a.detail["parameters"]
        }

    assert failing("ews-enabled") and failing("activesync-enabled")
    assert not parameters(plan_for()) & {"EwsEnabled", "ActiveSyncEnabled"}
    assert "EwsEnabled" in parameters(plan_for(include_ews=True))
    assert "ActiveSyncEnabled" in parameters(plan_for(include_activesync=True))
    assert "ActiveSyncEnabled" not in parameters(plan_for(include_ews=True))


def test_selection_by_check_and_mailbox() -> None:
    only_imap = plan_for(checks=("imap-enabled",))
    assert {a.kind for a in only_imap.actions} == {ActionKind.DISABLE_PROTOCOLS}
    assert all(a.detail["parameters"] == {"ImapEnabled": False} for a in only_imap.actions)
    one = sorted(failing("imap-enabled"))[0]
    assert {a.upn for a in plan_for(mailboxes=(one,)).actions} == {one}


def test_excluded_mailboxes_are_never_planned() -> None:
    victim = sorted(failing("remote-powershell-enabled"))[0]
    plan = plan_for(exclude=(victim.upper(),))
    assert victim not in {a.upn for a in plan.actions}
    assert any(s.upn == victim and "excluded" in s.reason for s in plan.skipped)


def test_an_account_with_a_directory_role_only_when_named() -> None:
    admin = next(e for e in small_scan().result.inventory if e.roles)
    plan = plan_for()
    assert admin.upn not in {a.upn for a in plan.actions}
    skipped = next(s for s in plan.skipped if s.upn == admin.upn)
    assert admin.roles[0] in skipped.reason and "--mailbox" in skipped.reason
    named = plan_for(mailboxes=(admin.upn,))
    assert {a.upn for a in named.actions} == {admin.upn}


def test_unknown_mailbox_is_an_error_not_an_empty_plan() -> None:
    with pytest.raises(ConfigError, match=r"nobody@example\.com"):
        plan_for(mailboxes=("nobody@example.com",))


def test_old_or_undated_snapshots_are_refused_without_force() -> None:
    late = COLLECTED_AT + timedelta(hours=25)
    with pytest.raises(StaleSnapshotError, match="--force"):
        plan_for(now=late)
    assert plan_for(now=late, force=True).actions
    assert plan_for(now=late, max_age=timedelta(hours=48)).actions
    scan = small_scan()
    undated = type(scan)(
        snapshot=type(scan.snapshot)(tenant=type(scan.snapshot.tenant)(tenant_id="t")),
        result=scan.result, custodians_file=None,
    )
    with pytest.raises(StaleSnapshotError, match="does not say when"):
        plan_for(undated)


def test_stale_delegates_are_removed_one_grant_at_a_time_by_their_trustee() -> None:
    plan = plan_for()
    removals = of_kind(plan, ActionKind.REMOVE_DELEGATE)
    cmdlets = {c.cmdlet for a in removals for c in a.calls if isinstance(c, ExoCall)}
    assert cmdlets == {"Remove-MailboxPermission", "Remove-RecipientPermission", "Set-Mailbox"}
    for action in removals:
        (call,) = action.calls
        assert isinstance(call, ExoCall)
        assert action.detail["trustee"] in str(call.parameters)
    orphans = [a for a in removals if a.detail["orphaned"]]
    assert orphans and all(not a.reversible and a.note for a in orphans)
    # Grants held only through a group are not removed person by person.
    group_only = {"adam.brown@adventure-works.com"}
    assert not {a.detail["person"] for a in removals} & group_only


def test_action_ids_are_stable_and_unique() -> None:
    first, second = plan_for(), plan_for(checks=tuple(AUTOMATED))
    ids = [a.id for a in first.actions]
    assert len(ids) == len(set(ids))
    assert {a.id: a for a in second.actions}.keys() <= set(ids)
    again = plan_for(mailboxes=(first.actions[0].upn,))
    assert again.actions[0].id == first.actions[0].id


def test_select_keeps_named_actions_and_rejects_unknown_ones() -> None:
    plan = plan_for()
    chosen = plan.select((plan.actions[2].id,))
    assert [a.id for a in chosen.actions] == [plan.actions[2].id]
    with pytest.raises(UnknownActionError, match="nope"):
        plan.select(("nope",))


def test_actions_survive_a_round_trip_through_their_journal_form() -> None:
    for action in plan_for().actions:
        assert Action.from_dict(action.as_dict()) == action


def test_plan_is_pure_same_input_same_plan() -> None:
    assert plan_for(now=SOON_AFTER) == plan_for(now=SOON_AFTER)


def test_a_plan_from_findings_read_back_from_findings_json_is_the_same(tmp_path: Path) -> None:
    scan = small_scan()
    path = tmp_path / "findings.json"
    path.write_text(render_findings_json(scan.result, SOON_AFTER), encoding="utf-8")
    read_back = load_findings(path).findings
    assert read_back != scan.result.findings  # tuples have become lists, account ids gone
    result = dataclasses.replace(scan.result, findings=read_back)
    assert plan_for(dataclasses.replace(scan, result=result)) == plan_for()


def test_a_finding_without_the_evidence_its_action_needs_is_an_input_error() -> None:
    scan = small_scan()
    broken = next(f for f in scan.result.failures() if f.check_id == "stale-delegate")
    findings = tuple(dataclasses.replace(f, evidence={"orphaned": []}) if f is broken else f
                     for f in scan.result.findings)
    result = dataclasses.replace(scan.result, findings=findings)
    with pytest.raises(FindingEvidenceError, match="stale-delegate") as caught:
        plan_for(dataclasses.replace(scan, result=result))
    assert isinstance(caught.value, InputError)
    assert broken.resource.upn and broken.resource.upn in str(caught.value)
    assert "'stale'" in str(caught.value)


GUEST = "mateo.williams_partner-consulting.example#ext#@adventureworks.onmicrosoft.com"


def test_guests_are_no_leavers_and_are_removed_only_when_asked() -> None:
    plan = plan_for()
    people = {a.detail["person"] for a in of_kind(plan, ActionKind.REMOVE_DELEGATE)}
    assert GUEST not in people
    (held,) = [s for s in plan.skipped if GUEST in s.reason]
    assert "(guest" in held.reason and "--include-external-delegates" in held.reason
    asked = plan_for(include_external_delegates=True)
    (removal,) = [a for a in of_kind(asked, ActionKind.REMOVE_DELEGATE)
                  if a.detail["person"] == GUEST]
    assert "guest" in removal.detail["reasons"] and "guest" in removal.reasons[0].message
    assert "guest from outside the organisation" in removal.breaks
    assert "current account" not in removal.breaks and "left" not in removal.breaks
    assert not any(GUEST in s.reason for s in asked.skipped)


def test_leavers_are_told_apart_from_the_unlicensed() -> None:
    removals = of_kind(plan_for(), ActionKind.REMOVE_DELEGATE)
    for action in removals:
        reasons = set(action.detail["reasons"])
        if reasons & {"disabled", "left recently"}:
            assert "(they left)" in action.breaks
        elif reasons == {"unlicensed"}:
            assert "holds no licence" in action.breaks and "left" not in action.breaks
        assert "current account" not in action.breaks


def test_actions_are_in_the_risk_order_of_their_mailboxes() -> None:
    from mailwarden.assess.risk import ranked

    plan = plan_for()
    order = [a.upn for a in ranked(small_scan().result.assessments)]
    # Tenant-wide actions (upn "") name no mailbox of the order.
    mailboxes = list(dict.fromkeys(a.upn for a in plan.actions if a.upn))
    assert mailboxes == [upn for upn in order if upn in set(mailboxes)]
    assert mailboxes != sorted(mailboxes)
