"""Drift between two runs of a synthetic tenant whose state was changed in between: IMAP
turned off on one mailbox, one person's FullAccess removed from another. The diff shows
exactly those changes, on every backend."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from mailwarden.assess import assess
from mailwarden.model.findings import ScanResult, Status
from mailwarden.model.run import DelegateChange, FindingChangeKind, Run, SettingChange
from mailwarden.report import make_run
from mailwarden.store import diff_runs, store_run
from mailwarden.synth import generate
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded


def _run(recorded: RecordedTenant, day: int) -> Run:
    snapshot = snapshot_from_recorded(recorded)
    return make_run(assess(snapshot), generated_at=datetime(2026, 11, day, tzinfo=UTC),
                    snapshot=snapshot)


def _imap_target(result: ScanResult) -> str:
    return next(e.upn for e in result.inventory if e.protocols.get("IMAP"))


def _delegate_target(result: ScanResult) -> tuple[str, str]:
    """A mailbox with two or more people holding FullAccess directly (and only directly);
    one of them who is not the mailbox's custodian."""
    custodians = {e.upn: e.custodian.person if e.custodian else None for e in result.inventory}
    for access in result.access:
        direct = [p.upn for p in access.people
                  if p.via == ("direct",) and "FullAccess" in p.rights and not p.stale_reasons()]
        others = [upn for upn in direct if upn != custodians[access.upn]]
        if len(direct) >= 2 and others:
            return access.upn, others[0]
    raise AssertionError("the synthetic tenant has no mailbox with two direct delegates")


def _changed(recorded: RecordedTenant, imap_upn: str, mailbox_upn: str, person: str
             ) -> RecordedTenant:
    data: dict[str, Any] = copy.deepcopy(dict(recorded.data))
    for row in data["exo/Get-CASMailbox"]:
        if row["PrimarySmtpAddress"].lower() == imap_upn:
            row["ImapEnabled"] = False
    box = next(m for m in data["exo/Get-Mailbox"] if m["UserPrincipalName"].lower() == mailbox_upn)
    box_keys = {str(box.get(k)).lower() for k in ("Identity", "Name", "Alias", "Guid")}
    user = next(u for u in data["graph/users"] if u["userPrincipalName"].lower() == person)
    person_keys = {str(user.get(k)).lower() for k in ("userPrincipalName", "displayName",
                                                      "mailNickname", "mail")}
    before = len(data["exo/Get-MailboxPermission"])
    data["exo/Get-MailboxPermission"] = [
        row for row in data["exo/Get-MailboxPermission"]
        if not (str(row["Identity"]).lower() in box_keys
                and str(row["User"]).lower() in person_keys)
    ]
    assert len(data["exo/Get-MailboxPermission"]) == before - 1
    return RecordedTenant(data=data, errors=recorded.errors)


def test_diff_shows_exactly_what_changed(db_url: str) -> None:
    recorded = generate(60, seed=1).recorded
    first = _run(recorded, 1)
    imap_upn = _imap_target(first.result)
    mailbox_upn, person = _delegate_target(first.result)
    second = _run(_changed(recorded, imap_upn, mailbox_upn, person), 2)

    a, b = store_run(first, db_url), store_run(second, db_url)
    drift = diff_runs(db_url)
    assert (drift.before.id, drift.after.id) == (a, b)
    assert [(c.kind, c.check_id, c.upn, c.before, c.after) for c in drift.findings] == [
        (FindingChangeKind.FIXED, "imap-enabled", imap_upn, Status.FAIL, Status.PASS)]
    assert drift.settings_changed == (
        SettingChange(mailbox=imap_upn, setting="IMAP", before="true", after="false"),)
    assert drift.delegates_removed == (
        DelegateChange(mailbox=mailbox_upn, principal=person, right="FullAccess",
                       via=("direct",)),)
    assert drift.delegates_added == ()
    assert drift.mailboxes_added == drift.mailboxes_removed == ()
    # and back again: the same changes the other way round
    back = diff_runs(db_url, b, a)
    assert [(c.kind, c.check_id) for c in back.findings] == [
        (FindingChangeKind.REGRESSED, "imap-enabled")]
    assert [d.principal for d in back.delegates_added] == [person]


def test_diff_of_two_collections_around_a_change_in_the_emulator(db_url: str) -> None:
    """Collect the served tenant, change the emulator's state through its Exchange write
    cmdlets, collect again: the diff of the two stored runs is exactly that change."""
    from mailwarden.emulator import serve_in_thread
    from mailwarden.emulator.app import create_app, emulator_of
    from mailwarden.emulator.writes_exo import write_cmdlet
    from mailwarden.m365.auth import secret_token_source
    from mailwarden.m365.session import M365Session
    from mailwarden.pipeline import collect_live_tenant
    from mailwarden.settings import SECRET_ENV, Settings

    recorded = generate(60, seed=1).recorded
    app = create_app(recorded)
    with serve_in_thread(app) as served:
        settings = Settings(
            tenant=str(recorded.data["tenant"]["tenantId"]), client_id="drift-test",
            login_url=served.base_url, graph_url=served.base_url, exo_url=served.base_url,
            ca_bundle=served.ca_file)
        tokens = secret_token_source(settings, env={SECRET_ENV: "emulator-secret"})
        with M365Session(settings, tokens=tokens) as session:
            first = _run(collect_live_tenant(session), 1)
            imap_upn = _imap_target(first.result)
            mailbox_upn, person = _delegate_target(first.result)
            emulator = emulator_of(app)
            assert write_cmdlet(emulator, "Set-CASMailbox",
                                {"Identity": imap_upn, "ImapEnabled": False})[0] == 200
            assert write_cmdlet(emulator, "Remove-MailboxPermission",
                                {"Identity": mailbox_upn, "User": person,
                                 "AccessRights": ["FullAccess"], "Confirm": False})[0] == 200
            second = _run(collect_live_tenant(session), 2)

    a, b = store_run(first, db_url), store_run(second, db_url)
    drift = diff_runs(db_url, a, b)
    assert [(c.kind, c.check_id, c.upn) for c in drift.findings] == [
        (FindingChangeKind.FIXED, "imap-enabled", imap_upn)]
    assert drift.settings_changed == (
        SettingChange(mailbox=imap_upn, setting="IMAP", before="true", after="false"),)
    assert [(d.mailbox, d.principal, d.right) for d in drift.delegates_removed] == [
        (mailbox_upn, person, "FullAccess")]
    assert drift.delegates_added == drift.mailboxes_added == drift.mailboxes_removed == ()
