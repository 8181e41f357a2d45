"""One list of exit codes: every command's --help says the codes `COMMAND_CODES` gives it,
every command is in that list, and README.md and docs/exit-codes.md hold its table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from mailwarden.cli import command_app
from mailwarden.cli.exitcodes import (
    COMMAND_CODES,
    ExitCode,
    codes_table,
    outcome,
    over_threshold,
    parse_fail_on,
)
from mailwarden.errors import ConfigError
from mailwarden.model.findings import TENANT_RESOURCE, Finding, Severity, Status

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> dict[str, Any]:
    # typer bundles its own click: commands are told apart by having subcommands.
    found: dict[str, Any] = {}

    def walk(command: Any, prefix: str) -> None:
        if hasattr(command, "commands"):
            if command.invoke_without_command and prefix:
                found[prefix] = command  # `alerts` lists, and has subcommands too
            for name, sub in command.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            found[prefix] = command

    walk(typer.main.get_command(command_app()), "")
    return found


def _listed_codes(help_text: str) -> set[int]:
    flowing = " ".join(help_text.split())
    assert "Exit codes:" in flowing, "the help has no 'Exit codes:' paragraph"
    paragraph = flowing.split("Exit codes:", 1)[1]
    # "0 done; 2 bad usage; ...": a code starts the paragraph or follows a semicolon.
    return {int(code) for code in re.findall(r"(?:^|;)\s*(\d+)\b", paragraph)}


def test_every_command_has_its_codes_listed() -> None:
    assert set(_commands()) == set(COMMAND_CODES)


@pytest.mark.parametrize("name", sorted(COMMAND_CODES))
def test_each_commands_help_lists_the_codes_it_uses(name: str) -> None:
    command = _commands()[name]
    assert _listed_codes(command.help or "") == {int(c) for c in COMMAND_CODES[name]}, name


def test_every_command_can_end_with_success_usage_and_internal_error() -> None:
    for name, codes in COMMAND_CODES.items():
        assert {ExitCode.OK, ExitCode.USAGE, ExitCode.INTERNAL} <= set(codes), name


@pytest.mark.parametrize("document", ["README.md", "docs/exit-codes.md"])
def test_the_documented_table_is_the_one_the_code_makes(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    begin, end = "<!-- exit-codes:begin -->\n", "<!-- exit-codes:end -->"
    assert begin in text and end in text, f"{document} has no exit-code table markers"
    shown = text.split(begin, 1)[1].split(end, 1)[0]
    assert shown == codes_table(), (
        f"{document}: the exit-code table is out of date; replace it with the output of "
        "python -c 'from mailwarden.cli.exitcodes import codes_table; print(codes_table())'")


def _finding(status: Status, severity: Severity) -> Finding:
    return Finding(check_id="sign-in-enabled", status=status, severity=severity,
                   resource=TENANT_RESOURCE, message="m")


def test_fail_on_counts_failing_findings_at_or_above_the_threshold_only() -> None:
    findings = [_finding(Status.FAIL, s) for s in Severity]
    assert [f.severity for f in over_threshold(findings, Severity.HIGH)] == [
        Severity.CRITICAL, Severity.HIGH]
    assert len(over_threshold(findings, Severity.LOW)) == 4  # info is never a threshold
    assert over_threshold(findings, None) == ()
    # Every other status (error, pass, not_applicable, an accepted exception) never counts.
    others = [_finding(status, Severity.CRITICAL) for status in Status
              if status is not Status.FAIL]
    assert others and over_threshold(others, Severity.LOW) == ()


def test_fail_on_names_and_precedence() -> None:
    assert parse_fail_on(" High ") is Severity.HIGH
    for bad in ("info", "severe", ""):
        with pytest.raises(ConfigError, match="use critical, high, medium or low"):
            parse_fail_on(bad)
    assert outcome(over=True, partial=True) is ExitCode.FINDINGS
    assert outcome(over=False, partial=True) is ExitCode.PARTIAL
    assert outcome(over=False, partial=False) is ExitCode.OK
