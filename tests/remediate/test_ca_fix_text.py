"""The report's "Copy PowerShell" for legacy-auth-not-blocked and the remediation export
show the same grouped change: one update per policy, or one report-only policy; never a
command per mailbox."""

from __future__ import annotations

import functools

from mailwarden.model.findings import Status
from mailwarden.pipeline import Scan, scan_snapshot
from mailwarden.remediate.export import export_powershell
from mailwarden.report.html_view import remediation_groups
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.remediate.remediate_helpers import plan_for
from tests.remediate.test_conditional_access import _direct_exclusions, _no_legacy_block

CHECK = "legacy-auth-not-blocked"


@functools.cache
def direct() -> Scan:
    return scan_snapshot(snapshot_from_recorded(_direct_exclusions()))


@functools.cache
def no_block() -> Scan:
    return scan_snapshot(snapshot_from_recorded(_no_legacy_block()))


def html_lines(scan: Scan) -> list[str]:
    (group,) = [g for g in remediation_groups(scan.result.findings, scan.result.checks)
                if g.check_id == CHECK]
    return group.commands.splitlines()


def failing(scan: Scan) -> int:
    return sum(1 for f in scan.result.findings if f.check_id == CHECK
               and f.status is Status.FAIL)


def test_excluded_accounts_make_one_update_of_the_policy_in_the_report_and_the_export() -> None:
    scan = direct()
    assert failing(scan) >= 3
    lines = html_lines(scan)
    updates = [line for line in lines if line.startswith("Update-MgIdentityConditionalAccess")]
    assert len(updates) == 1
    assert not any("New-MgIdentityConditionalAccessPolicy" in line for line in lines)
    # The script runs each change inside its guarded block: the same lines, indented.
    script = [line.strip() for line in export_powershell(plan_for(scan)).splitlines()]
    assert [line for line in script if line.startswith("Update-MgIdentity")] == updates
    assert "'Policy.ReadWrite.ConditionalAccess'" in next(
        line for line in script if line.startswith("Connect-MgGraph") and "-Scopes" in line)


def test_no_block_makes_one_report_only_policy_guarded_until_break_glass_is_named() -> None:
    scan = no_block()
    assert failing(scan) >= 3
    lines = html_lines(scan)
    created = [line for line in lines if "New-MgIdentityConditionalAccessPolicy" in line]
    assert len(created) == 1
    assert "state = 'enabledForReportingButNotEnforced'" in created[0]
    assert "excludeUsers = @($breakGlass)" in created[0]
    assert any(line.startswith("if (-not $breakGlass) { throw") for line in lines)
    script = export_powershell(plan_for(scan, break_glass=("breakglass01@adventureworks"
                                                           ".onmicrosoft.com",)))
    assert script.count("New-MgIdentityConditionalAccessPolicy") == 1
    assert "$breakGlass = @('" in script


def test_group_exclusions_are_left_to_a_person_with_what_to_check() -> None:
    from tests.remediate.remediate_helpers import small_scan

    lines = html_lines(small_scan())
    assert not any(line.startswith(("Update-Mg", "New-Mg")) for line in lines)
    (advice,) = [line for line in lines if line.startswith("# Not changed here")]
    assert "through group 'Legacy Auth Exceptions'" in advice
    commands = [line for line in lines if line.startswith("# Remove-MgGroupMemberByRef")]
    assert len(commands) == advice.count("@")  # one commented command per account
