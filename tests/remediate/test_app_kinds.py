"""The tenant-wide remediations against the in-process emulator: reject Direct Send, add an
application access policy, remove an Entra mail grant only when asked; each journalled,
seen by a rescan, and rolled back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mailwarden.errors import ConfigError
from mailwarden.model.findings import Status
from mailwarden.pipeline import Scan
from mailwarden.remediate.apply import OutcomeStatus, apply_plan
from mailwarden.remediate.journal import FileJournal
from mailwarden.remediate.model import ActionKind, Plan
from mailwarden.remediate.rollback import rollback_run
from tests.remediate.remediate_helpers import app_for, plan_for, rescan, small_scan, wire_to

SCOPE = "App scope - Helpdesk Notifier"
APP_CHECK = "app-mail-access-unscoped"


def _apps(scan: Scan) -> dict[str, Status]:
    return {
        str(f.resource.app_id): f.status for f in scan.result.findings if f.check_id == APP_CHECK
    }


def _kinds(plan: Plan) -> list[ActionKind]:
    return [a.kind for a in plan.actions]


def test_tenant_actions_are_planned_only_as_asked() -> None:
    plain = plan_for(checks=("direct-send-allowed", APP_CHECK))
    assert _kinds(plain) == [ActionKind.REJECT_DIRECT_SEND]
    assert {r.check_id for r in plain.manual} == {APP_CHECK}
    scoped = plan_for(checks=(APP_CHECK,), app_scope_group=SCOPE)
    # The CRM sync's and archiver's Entra grants get a policy; the sync with only a
    # DenyAccess policy too; no policy can limit an RBAC role, and none is unscoped here.
    assert set(_kinds(scoped)) == {ActionKind.ADD_APP_ACCESS_POLICY}
    assert len(scoped.actions) == 3
    assert all(a.upn == "" and a.note and "RBAC for Applications" in a.note for a in scoped.actions)
    removal = plan_for(checks=(APP_CHECK,), remove_app_grants=True)
    assert set(_kinds(removal)) == {ActionKind.REMOVE_APP_GRANT}
    unified = next(g for g in small_scan().snapshot.groups if "Unified" in g.group_types)
    with pytest.raises(ConfigError, match="mail-enabled security group"):
        plan_for(checks=(APP_CHECK,), app_scope_group=unified.id)


def test_apply_fixes_the_findings_and_rollback_puts_them_back(tmp_path: Path) -> None:
    app = app_for()
    plan = plan_for(
        checks=("direct-send-allowed", APP_CHECK), app_scope_group=SCOPE, remove_app_grants=True
    )
    journal = FileJournal(tmp_path)

    async def main() -> None:
        async with wire_to(app) as wire:
            before = await rescan(wire)
            report = await apply_plan(plan, wire, journal, dry_run=False)
            assert {o.status for o in report.outcomes} == {OutcomeStatus.APPLIED}, [
                o.error for o in report.outcomes
            ]
            run = journal.load(report.run_id or "")
            reject = next(a for a in plan.actions if a.kind is ActionKind.REJECT_DIRECT_SEND)
            assert run.entries[reject.id].prior == {"RejectDirectSend": False}
            after = await rescan(wire)
            direct = next(f for f in after.result.findings if f.check_id == "direct-send-allowed")
            assert direct.status is Status.PASS
            assert Status.FAIL not in set(_apps(after).values())
            again = await apply_plan(plan, wire, journal, dry_run=False)
            assert {o.status for o in again.outcomes} == {OutcomeStatus.ALREADY_DONE}
            await rollback_run(report.run_id or "", wire, journal)
            back = await rescan(wire)
            assert _apps(back) == _apps(before)
            direct = next(f for f in back.result.findings if f.check_id == "direct-send-allowed")
            assert direct.status is Status.FAIL

    asyncio.run(main())
