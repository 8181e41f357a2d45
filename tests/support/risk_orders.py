"""The order of mailboxes as each output shows it: the terminal's riskiest table,
findings.json, and the HTML report (its riskiest section and its mailbox table)."""

from __future__ import annotations

import json
import re
from pathlib import Path

#: A riskiest-table row's first line: "│  3 │ active 80 │ press@example.com  │ ..." at a
#: terminal, " 3  active 80  press@example.com shared  ..." piped (one line per mailbox).
_TERMINAL_ROW = re.compile(r"^│\s*(\d+)\s*│[^│]*│\s*(\S+@\S+)\s*│", re.MULTILINE)
_PLAIN_ROW = re.compile(r"^\s*(\d+)\s+(?:active\s+)?\d+\s+(\S+@\S+)\s", re.MULTILINE)
_HTML_RISKY = re.compile(r'<details open class="risky" data-rank="(\d+)" data-upn="([^"]+)">')
_HTML_ROW = re.compile(r'<td data-value="([^"]+)"><a href="#access-\d+">')


def terminal_order(stdout: str) -> list[tuple[int, str]]:
    """(rank, UPN) of the riskiest table, boxed or plain (piped)."""
    table = stdout[stdout.index("Riskiest"):]
    table = table[:table.index("\nAlerts")] if "\nAlerts" in table else table
    boxed = _TERMINAL_ROW.findall(table)
    return [(int(rank), upn) for rank, upn in boxed or _PLAIN_ROW.findall(table)]


def json_order(findings: Path) -> list[tuple[int, str]]:
    document = json.loads(findings.read_text(encoding="utf-8"))
    return [(m["rank"], m["upn"]) for m in document["mailboxes"]]


def html_riskiest(report: Path) -> list[tuple[int, str]]:
    return [(int(rank), upn) for rank, upn in
            _HTML_RISKY.findall(report.read_text(encoding="utf-8"))]


def html_table(report: Path) -> list[str]:
    return _HTML_ROW.findall(report.read_text(encoding="utf-8"))
