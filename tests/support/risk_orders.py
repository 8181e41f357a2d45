"""The order of mailboxes as each output shows it: the terminal's riskiest table,
findings.json, and the HTML report (its riskiest section and its mailbox table)."""

from __future__ import annotations

import json
import re
from pathlib import Path

#: A riskiest-table row's first line: "│  3 │ active │ press@example.com  │ ...".
_TERMINAL_ROW = re.compile(r"^│\s*(\d+)\s*│[^│]*│\s*(\S+@\S+)\s*│", re.MULTILINE)
_HTML_RISKY = re.compile(r'<details open class="risky" data-rank="(\d+)" data-upn="([^"]+)">')
_HTML_ROW = re.compile(r'<td data-value="([^"]+)"><a href="#access-\d+">')


def terminal_order(stdout: str) -> list[tuple[int, str]]:
    """(rank, UPN) of the riskiest table; the console must be wide enough not to fold UPNs."""
    table = stdout[stdout.index("Riskiest"):]
    return [(int(rank), upn) for rank, upn in _TERMINAL_ROW.findall(table)]


def json_order(findings: Path) -> list[tuple[int, str]]:
    document = json.loads(findings.read_text(encoding="utf-8"))
    return [(m["rank"], m["upn"]) for m in document["mailboxes"]]


def html_riskiest(report: Path) -> list[tuple[int, str]]:
    return [(int(rank), upn) for rank, upn in
            _HTML_RISKY.findall(report.read_text(encoding="utf-8"))]


def html_table(report: Path) -> list[str]:
    return _HTML_ROW.findall(report.read_text(encoding="utf-8"))
