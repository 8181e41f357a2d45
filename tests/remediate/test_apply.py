"""Apply and roll back against the in-process emulator: dry run, the state before each
change, idempotence, partial failure, exclusions and the 403 path."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from starlette.applications import Starlette

from mailwarden.emulator import Service, emulator_of
from mailwarden.model.findings import Status
from mailwarden.remediate.apply import OutcomeStatus, RunReport, apply_plan
from mailwarden.remediate.journal import EntryStatus, FileJournal
from mailwarden.remediate.model import ActionKind, ExoCall, Plan
from mailwarden.remediate.rollback import rollback_run
from tests.remediate.remediate_helpers import app_for, plan_for, rescan, small_scan, wire_to


def writes(app: Starlette) -> int:
    stats = emulator_of(app).stats
    return stats.service(Service.GRAPH).writes + stats.service(Service.EXCHANGE).writes


def statuses(report: RunReport) -> set[OutcomeStatus]:
    return {o.status for o in report.outcomes}


def test_a_dry_run_reads_but_sends_no_write_and_journals_nothing(tmp_path: Path) -> None:
    app = app_for()
    plan = plan_for()

    async def main() -> None:
        async with wire_to(app) as wire:
            report = await apply_plan(plan, wire, FileJournal(tmp_path), dry_run=True)
        assert report.run_id is None and report.dry_run
        assert statuses(report) == {OutcomeStatus.WOULD_APPLY}
        assert all(o.prior for o in report.outcomes)

    asyncio.run(main())
    assert writes(app) == 0
    assert not any(tmp_path.iterdir())


def test_apply_journals_prior_state_fixes_findings_and_is_idempotent(tmp_path: Path) -> None:
    app = app_for()
    plan = plan_for(checks=("sign-in-enabled", "imap-enabled", "mailbox-audit-disabled",
                            "remote-powershell-enabled"))
    journal = FileJournal(tmp_path)

    async def main() -> None:
        async with wire_to(app) as wire:
            first = await apply_plan(plan, wire, journal, dry_run=False)
            assert statuses(first) == {OutcomeStatus.APPLIED}
            run = journal.load(first.run_id or "")
            assert {e.status for e in run.entries.values()} == {EntryStatus.APPLIED}
            block = next(a for a in plan.actions if a.kind is ActionKind.BLOCK_SIGN_IN)
            assert run.entries[block.id].prior == {"accountEnabled": True}
            after = await rescan(wire)
            done_before = writes(app)
            second = await apply_plan(plan, wire, journal, dry_run=False)
            assert statuses(second) == {OutcomeStatus.ALREADY_DONE}
            assert writes(app) == done_before
        fixed = {(c, a.upn) for a in plan.actions for c in a.check_ids}
        for finding in after.result.findings:
            if (finding.check_id, finding.resource.upn) in fixed:
                assert finding.status is Status.PASS, finding

    asyncio.run(main())


def test_one_failure_does_not_stop_the_others(tmp_path: Path) -> None:
    app = app_for()
    plan = plan_for(checks=("remote-powershell-enabled",))
    ghost = dataclasses.replace(
        plan.actions[0], id="ghost", upn="ghost@adventure-works.com",
        calls=(ExoCall(cmdlet="Set-User", parameters={"Identity": "ghost@adventure-works.com",
                                                      "RemotePowerShellEnabled": False}),),
    )
    broken = dataclasses.replace(plan, actions=(ghost, *plan.actions))

    async def main() -> None:
        async with wire_to(app) as wire:
            report = await apply_plan(broken, wire, FileJournal(tmp_path), dry_run=False)
        (failure,) = report.failures
        assert failure.action.id == "ghost"
        assert "ghost@adventure-works.com" in (failure.error or "")
        assert "couldn't be found" in (failure.error or "")
        assert report.count(OutcomeStatus.APPLIED) == len(plan.actions)

    asyncio.run(main())


def test_excluded_mailboxes_receive_no_write(tmp_path: Path) -> None:
    app = app_for()
    everything = plan_for()
    excluded = everything.actions[0].upn
    plan = plan_for(exclude=(excluded,))

    async def main() -> None:
        async with wire_to(app) as wire:
            await apply_plan(plan, wire, FileJournal(tmp_path), dry_run=False)
            after = await rescan(wire)
        before = {(f.check_id, f.resource.upn): f.status for f in small_scan().result.findings}
        mine = [f for f in after.result.findings if f.resource.upn == excluded]
        assert any(f.status is Status.FAIL for f in mine)
        for finding in mine:
            assert before[(finding.check_id, excluded)] is finding.status

    asyncio.run(main())


def test_a_403_names_the_write_permission_to_grant(tmp_path: Path) -> None:
    app = app_for(failing_sources={"graph/write": 403, "exo/write": 403})
    plan = plan_for(checks=("sign-in-enabled", "remote-powershell-enabled"))

    async def main() -> None:
        async with wire_to(app) as wire:
            report = await apply_plan(plan, wire, FileJournal(tmp_path), dry_run=False)
        assert statuses(report) == {OutcomeStatus.FAILED}
        for outcome in report.outcomes:
            error = outcome.error or ""
            assert "403" in error and outcome.prior is not None
            if outcome.action.kind is ActionKind.BLOCK_SIGN_IN:
                assert "User.EnableDisableAccount.All" in error and "User.ReadWrite.All" in error
            else:
                assert "Exchange.ManageAsApp" in error and "Exchange Administrator" in error

    asyncio.run(main())


def test_rollback_of_chosen_actions_restores_only_them(tmp_path: Path) -> None:
    app = app_for()
    plan: Plan = plan_for(checks=("remote-powershell-enabled",))
    journal = FileJournal(tmp_path)
    chosen = plan.actions[0]

    async def main() -> None:
        async with wire_to(app) as wire:
            report = await apply_plan(plan, wire, journal, dry_run=False)
            back = await rollback_run(report.run_id or "", wire, journal,
                                      action_ids=(chosen.id,))
            assert [o.status for o in back.outcomes] == [OutcomeStatus.ROLLED_BACK]
            again = await rollback_run(report.run_id or "", wire, journal,
                                       action_ids=(chosen.id,))
            assert [o.status for o in again.outcomes] == [OutcomeStatus.NOTHING_TO_UNDO]
            after = await rescan(wire)
        failing = {f.resource.upn for f in after.result.failures()
                   if f.check_id == "remote-powershell-enabled"}
        assert failing & {a.upn for a in plan.actions} == {chosen.upn}

    asyncio.run(main())
