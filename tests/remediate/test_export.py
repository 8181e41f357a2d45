"""The PowerShell export: a golden file for the small synthetic tenant (seed 0), and how
values are spelled."""

from __future__ import annotations

import os
from pathlib import Path

from mailwarden.remediate.export import call_text, export_powershell, value_text
from mailwarden.remediate.model import ExoCall, GraphCall
from tests.remediate.remediate_helpers import plan_for

GOLDEN = Path(__file__).parent / "golden" / "small-seed0.ps1"


def test_export_matches_the_golden_script() -> None:
    script = export_powershell(plan_for())
    if os.environ.get("MAILWARDEN_UPDATE_GOLDEN"):
        GOLDEN.write_text(script, encoding="utf-8")
    assert script == GOLDEN.read_text(encoding="utf-8")


def test_every_action_has_a_comment_then_its_commands() -> None:
    plan = plan_for()
    script = export_powershell(plan)
    for action in plan.actions:
        target = action.upn or str(action.detail.get("target"))
        header = f"# [{action.id}] {action.kind.value} {target}"
        assert script.count(header) == 1
        block = script.split(header, 1)[1].split("\n\n", 1)[0]
        assert "#   why: " in block and "#   might break: " in block
        commands = [line for line in block.splitlines() if line and not line.startswith("#")]
        assert commands == [call_text(c) for c in action.calls]


def test_values_are_spelled_as_powershell_reads_them() -> None:
    assert value_text(None) == "$null"
    assert value_text(False) == "$false"
    assert value_text("O'Brien") == "'O''Brien'"
    assert value_text(["a", "b"]) == "'a', 'b'"
    assert value_text({"Add": ["Send"]}) == "@{Add = 'Send'}"
    remove = ExoCall(cmdlet="Remove-RecipientPermission",
                     parameters={"Identity": "x@y", "Trustee": "t@y", "AccessRights": ["SendAs"]})
    assert call_text(remove) == ("Remove-RecipientPermission -Identity 'x@y' -Trustee 't@y' "
                                 "-AccessRights 'SendAs' -Confirm:$false")
    patch = GraphCall(method="PATCH", path="/users/1", body={"accountEnabled": True})
    assert call_text(patch) == "Update-MgUser -UserId '1' -AccountEnabled:$true"
    other = GraphCall(method="PATCH", path="/users/1", body={"displayName": "x"})
    assert call_text(other).startswith("Invoke-MgGraphRequest -Method PATCH -Uri '/v1.0/users/1'")
