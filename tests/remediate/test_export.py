"""The PowerShell export: a golden file for the small synthetic tenant (seed 0), and how
values are spelled."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from mailwarden.remediate.export import call_text, export_powershell, value_text
from mailwarden.remediate.kinds import KINDS, kind_of
from mailwarden.remediate.model import Action, ActionKind, ExoCall, GraphCall
from tests.remediate.remediate_helpers import plan_for, tenant_id

GOLDEN = Path(__file__).parent / "golden" / "small-seed0.ps1"


def test_export_matches_the_golden_script() -> None:
    script = export_powershell(plan_for())
    if os.environ.get("MAILWARDEN_UPDATE_GOLDEN"):
        GOLDEN.write_text(script, encoding="utf-8")
    assert script == GOLDEN.read_text(encoding="utf-8")


def _block(script: str, action: Action) -> str:
    target = action.upn or str(action.detail.get("target") or "the tenant")
    header = f"# [{action.id}] {action.kind.value} {target}"
    assert script.count(header) == 1
    return script.split(header, 1)[1].split("\n\n", 1)[0]


def test_every_action_has_a_comment_then_its_guarded_change() -> None:
    plan = plan_for()
    script = export_powershell(plan)
    for action in plan.actions:
        block = _block(script, action)
        assert "#   why: " in block and "#   might break: " in block
        change = block.split("} -Change {\n", 1)[1].rsplit("\n    }", 1)[0]
        assert [line.strip() for line in change.splitlines()] == [
            call_text(c) for c in action.calls
        ]
        step = kind_of(action).script
        assert step is not None, action.kind
        assert f"        {step(action).read}\n    }} -Needed {{" in block


def test_the_script_stops_on_errors_keeps_a_transcript_and_supports_whatif() -> None:
    script = export_powershell(plan_for())
    lines = script.splitlines()
    binding = lines.index(
        "[CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Interactive')]"
    )
    assert lines[binding + 1] == "param("
    assert "$ErrorActionPreference = 'Stop'" in lines
    assert "$PSDefaultParameterValues['*:ErrorAction'] = 'Stop'" in lines
    start = lines.index("Start-Transcript -LiteralPath $TranscriptPath -WhatIf:$false | Out-Null")
    assert lines[start + 1] == "try {"
    assert "\n} finally {\n    Stop-Transcript | Out-Null\n}\n" in script
    # Every change goes through the one function that saves the state first and asks
    # ShouldProcess (what -WhatIf and -Confirm answer).
    function = script.split("function Invoke-Change {", 1)[1].split("\n}\n", 1)[0]
    save = function.index("Add-Content -LiteralPath $StatePath")
    assert save < function.index("$PSCmdlet.ShouldProcess(") < function.index("& $Change")
    assert function.index("& $Read") < save
    assert "-not (& $Needed $state)" in function
    assert script.count("\n    Invoke-Change -Id ") == len(plan_for().actions)


def test_app_only_and_interactive_sign_in() -> None:
    script = export_powershell(plan_for())
    assert ("Connect-ExchangeOnline -AppId $AppId -Organization $Organization "
            "-ShowBanner:$false -CertificateThumbprint $CertificateThumbprint") in script
    assert (f"Connect-MgGraph -ClientId $AppId -TenantId '{tenant_id()}' -NoWelcome "
            "-CertificateThumbprint $CertificateThumbprint") in script
    assert "[string] $Organization = 'adventureworks.onmicrosoft.com'," in script
    assert "Connect-ExchangeOnline -ShowBanner:$false\n" in script  # interactive


def test_removals_remove_only_what_is_still_there() -> None:
    plan = plan_for()
    removals = [a for a in plan.actions if a.kind is ActionKind.REMOVE_DELEGATE]
    assert {a.detail["right"] for a in removals} >= {"FullAccess", "SendAs", "SendOnBehalf"}
    script = export_powershell(plan)
    for action in removals:
        block = _block(script, action)
        trustee = str(action.detail["trustee"])
        if action.detail["right"] == "SendOnBehalf":
            assert f"@($state.GrantSendOnBehalfTo) -contains '{trustee}'" in block
        else:
            assert "param($state) $null -ne $state" in block
            who = "Trustee" if action.detail["right"] == "SendAs" else "User"
            assert f"$_.{who} -eq '{trustee}'" in block


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


def test_every_kind_tells_the_script_how_to_read_and_guard_its_change() -> None:
    assert [k.kind for k in KINDS if k.script is None] == []


def _unbalanced(script: str) -> list[str]:
    """Brackets left open or closed too often outside strings and comments: a coarse stand-in
    for PowerShell's parser, which is not installed here. Single-quoted strings double their
    quotes; `#` starts a comment; `<# ... #>` is a block comment."""
    pairs = {"}": "{", ")": "(", "]": "["}
    stack: list[str] = []
    problems: list[str] = []
    text = script.split("#>", 1)[1] if script.startswith("<#") else script
    i = 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            end = i + 1
            while end < len(text):
                if text[end] == char and text[end + 1:end + 2] == char:
                    end += 2
                    continue
                if text[end] == char:
                    break
                end += 1
            assert end < len(text), f"unterminated string at {i}"
            i = end + 1
            continue
        if char == "#":
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        if char in "{([":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            problems.append(f"{char} at {i}")
        i += 1
    return problems + [f"open {c}" for c in stack]


def test_the_script_brackets_balance_even_with_quotes_in_tenant_text() -> None:
    plan = plan_for(include_external_delegates=True)
    assert _unbalanced(export_powershell(plan)) == []
    action = next(a for a in plan.actions if a.kind is ActionKind.DISABLE_INBOX_RULE)
    odd = dataclasses.replace(action, detail={**action.detail, "rule": "O'Brien {rule} (#1)"},
                              upn="o'brien@adventure-works.com")
    script = export_powershell(dataclasses.replace(plan, actions=(odd,)))
    assert "-Identity 'O''Brien {rule} (#1)' -IncludeHidden" in script
    assert _unbalanced(script) == []
    assert _unbalanced("Invoke-Change -Read {\n    Get-Mailbox\n") == ["open {"]
