"""Exit codes (SPEC section 8): what each means, which commands use which, and how a run
that is both partial and over its `--fail-on` threshold ends.

`COMMAND_CODES` is the one list of the codes each command uses. Each command's `--help`
says when it uses them ("Exit codes: ..."), the table in README.md and docs/exit-codes.md
is `codes_table()`, and tests/cli/test_exit_code_table.py holds the three together.

Precedence, when more than one applies: an error that stops the command (2, 3, 5, 70)
ends it at once; of the outcomes of a finished run, 1 (findings at or above `--fail-on`)
beats 4 (partial). A CI gate that fails on findings then fails on them even when a source
was not read, and a run that is partial but has nothing over the threshold still exits 4,
never 0: a partial run never looks clean. The terminal says both when both apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Annotated

import typer

from mailwarden.errors import ConfigError
from mailwarden.model.findings import Finding, Severity, Status


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    ACCESS = 3
    PARTIAL = 4
    CHANGE_FAILED = 5
    INTERNAL = 70


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success: everything was read and done (a licence limitation collect "
    "notes is not a failure)",
    ExitCode.FINDINGS: "findings with status fail at or above `--fail-on` (scan, report); "
    "a detection target missed (eval)",
    ExitCode.USAGE: "bad input or usage: a missing or malformed file, option or setting, a "
    "state folder another process holds; nothing was changed",
    ExitCode.ACCESS: "sign-in or permission problem: no token, or a Graph permission or "
    "Exchange role is missing",
    ExitCode.PARTIAL: "partial result: a source failed or is missing, the deadline was "
    "reached, a log file could not be read, checks are `error`, or a notification was "
    "not delivered; what could be done was written",
    ExitCode.CHANGE_FAILED: "a change failed: remediation actions or a rollback, or the "
    "history database could not be opened or written",
    ExitCode.INTERNAL: "internal error: a bug in mailwarden (run again with --debug for "
    "the traceback)",
}

_ANY = (ExitCode.OK, ExitCode.USAGE, ExitCode.INTERNAL)
_LIVE = (ExitCode.ACCESS,)


def _codes(*extra: ExitCode) -> tuple[ExitCode, ...]:
    return tuple(sorted({*_ANY, *extra}))


#: The exit codes each command can end with (every one can end with 0, 2 and 70).
COMMAND_CODES: dict[str, tuple[ExitCode, ...]] = {
    "demo": _codes(ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
    "synth": _codes(),
    "emulator": _codes(),
    "doctor": _codes(*_LIVE, ExitCode.PARTIAL),
    "collect": _codes(*_LIVE, ExitCode.PARTIAL),
    "inventory": _codes(ExitCode.CHANGE_FAILED),
    "scan": _codes(ExitCode.FINDINGS, *_LIVE, ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
    "checks": _codes(),
    "collect-logs": _codes(*_LIVE, ExitCode.PARTIAL),
    "detect": _codes(ExitCode.PARTIAL),
    "rules": _codes(),
    "eval": _codes(ExitCode.FINDINGS),
    "notify": _codes(ExitCode.PARTIAL),
    "report": _codes(ExitCode.FINDINGS, ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
    "history": _codes(ExitCode.CHANGE_FAILED),
    "diff": _codes(ExitCode.CHANGE_FAILED),
    "remediate plan": _codes(*_LIVE, ExitCode.PARTIAL),
    "remediate export": _codes(*_LIVE, ExitCode.PARTIAL),
    "remediate apply": _codes(*_LIVE, ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
    "remediate rollback": _codes(*_LIVE, ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
    "remediate show": _codes(ExitCode.CHANGE_FAILED),
    "watch": _codes(*_LIVE, ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
    "alerts": _codes(ExitCode.CHANGE_FAILED),
    "alerts ack": _codes(ExitCode.CHANGE_FAILED),
    "alerts resolve": _codes(ExitCode.CHANGE_FAILED),
    "config init": _codes(),
    "compliance": _codes(ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
    "exceptions list": _codes(ExitCode.CHANGE_FAILED),
    "exceptions add": _codes(ExitCode.CHANGE_FAILED),
    "exceptions remove": _codes(ExitCode.CHANGE_FAILED),
    "exceptions import": _codes(ExitCode.CHANGE_FAILED),
    "exceptions example": _codes(),
    "fleet add": _codes(ExitCode.CHANGE_FAILED),
    "fleet list": _codes(ExitCode.CHANGE_FAILED),
    "fleet remove": _codes(ExitCode.CHANGE_FAILED),
    "fleet status": _codes(ExitCode.CHANGE_FAILED),
    "fleet run": _codes(ExitCode.CHANGE_FAILED),
    "fleet scheduler": _codes(ExitCode.CHANGE_FAILED),
    "fleet reap": _codes(ExitCode.CHANGE_FAILED),
    "fleet cancel": _codes(ExitCode.CHANGE_FAILED),
    "worker": _codes(ExitCode.CHANGE_FAILED),
    "console": _codes(ExitCode.CHANGE_FAILED),
    "console invite": _codes(ExitCode.CHANGE_FAILED),
    "reviews remind": _codes(ExitCode.PARTIAL, ExitCode.CHANGE_FAILED),
}


def codes_table() -> str:
    """The Markdown table of every code, its meaning and the commands that use it."""
    lines = ["| code | meaning | commands |", "| --- | --- | --- |"]
    for code in ExitCode:
        users = [name for name, codes in COMMAND_CODES.items() if code in codes]
        named = "every command" if len(users) == len(COMMAND_CODES) else ", ".join(
            f"`{name}`" for name in users)
        lines.append(f"| {int(code)} | {MEANINGS[code]} | {named} |")
    return "\n".join(lines) + "\n"


FAIL_ON_HELP = (
    "Exit 1 when a finding with status fail has this severity or a worse one: critical, "
    "high, medium or low (the severity findings.json and the reports show). Accepted, "
    "error and passing findings never count. Without it, findings do not change the exit "
    "code."
)


FailOnOpt = Annotated[str | None, typer.Option("--fail-on", metavar="SEVERITY",
                                               help=FAIL_ON_HELP)]


def parse_fail_on(value: str | None) -> Severity | None:
    """The `--fail-on` threshold; None when not given. A bad name is a usage error (2),
    raised before anything is read or written."""
    if value is None:
        return None
    severity = Severity.named(value.strip().lower())
    if severity is None or severity is Severity.INFO:
        raise ConfigError(f"--fail-on {value!r}: use critical, high, medium or low")
    return severity


def over_threshold(findings: Iterable[Finding], threshold: Severity | None) -> tuple[Finding, ...]:
    """The findings that fail at or above `threshold` (none without one). Only status
    `fail` counts: an `accepted` finding (an exception covers it) or an `error` one never
    does."""
    if threshold is None:
        return ()
    return tuple(f for f in findings
                 if f.status is Status.FAIL and f.severity.rank >= threshold.rank)


def outcome(*, over: bool, partial: bool) -> ExitCode:
    """How a finished run ends: 1 beats 4 (see the module's docstring), 4 beats 0."""
    if over:
        return ExitCode.FINDINGS
    return ExitCode.PARTIAL if partial else ExitCode.OK
