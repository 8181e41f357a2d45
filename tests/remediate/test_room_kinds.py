"""The room remediations against the emulator: external requests rejected, departed
delegates removed (the others kept), each journalled and rolled back exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mailwarden.model.findings import Status
from mailwarden.remediate.apply import OutcomeStatus, apply_plan
from mailwarden.remediate.export import export_powershell
from mailwarden.remediate.journal import FileJournal
from mailwarden.remediate.model import ActionKind
from mailwarden.remediate.rollback import rollback_run
from tests.remediate.remediate_helpers import app_for, plan_for, rescan, wire_to

CHECKS = ("room-external-booking", "room-delegate-left")


def _statuses(scan: object, upns: set[str], check: str) -> set[Status]:
    return {f.status for f in scan.result.findings  # type: ignore[attr-defined]
            if f.check_id == check and f.resource.upn in upns}


def test_room_fixes_apply_and_roll_back(tmp_path: Path) -> None:
    app = app_for()
    plan = plan_for(checks=CHECKS)
    kinds = {a.kind for a in plan.actions}
    assert kinds == {ActionKind.REJECT_EXTERNAL_BOOKING, ActionKind.REMOVE_ROOM_DELEGATE}
    external = {a.upn for a in plan.actions if a.kind is ActionKind.REJECT_EXTERNAL_BOOKING}
    departed = {a.upn for a in plan.actions if a.kind is ActionKind.REMOVE_ROOM_DELEGATE}
    script = export_powershell(plan)
    assert "-ProcessExternalMeetingMessages $false" in script
    assert "-ResourceDelegates @{Remove = " in script
    journal = FileJournal(tmp_path)

    async def main() -> None:
        async with wire_to(app) as wire:
            before = await rescan(wire)
            assert _statuses(before, external, CHECKS[0]) == {Status.FAIL}
            assert _statuses(before, departed, CHECKS[1]) == {Status.FAIL}
            report = await apply_plan(plan, wire, journal, dry_run=False)
            assert {o.status for o in report.outcomes} == {OutcomeStatus.APPLIED}
            after = await rescan(wire)
            assert _statuses(after, external, CHECKS[0]) == {Status.PASS}
            assert _statuses(after, departed, CHECKS[1]) == {Status.PASS}
            await rollback_run(report.run_id or "", wire, journal)
            undone = await rescan(wire)
            assert _statuses(undone, external, CHECKS[0]) == {Status.FAIL}
            assert _statuses(undone, departed, CHECKS[1]) == {Status.FAIL}

    asyncio.run(main())
