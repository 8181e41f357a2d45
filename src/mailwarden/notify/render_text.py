"""A notice as plain text and as HTML email.

Everything that came from the tenant or its logs (display names, rule names, user agents,
subjects) is attacker-controlled: HTML escapes all of it, and plain text replaces control
characters so a value cannot forge extra lines.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mailwarden.model.findings import Severity
from mailwarden.notify.notice import Notice
from mailwarden.text import plural, printable

_VALUE_LIMIT = 200
#: The colour of an HTML message's heading; other severities are grey.
_HEADING_COLOUR: Mapping[str, str] = {
    Severity.CRITICAL: "#b00020", Severity.HIGH: "#d9480f", Severity.MEDIUM: "#b08800"}
_MAILBOXES_SHOWN = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipients:
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    #: Why the primary recipients are not a custodian (shown in the message), if so.
    note: str | None = None


def one_line(value: Any, limit: int = _VALUE_LIMIT) -> str:
    """A value as a single line of bounded length."""
    if isinstance(value, list | tuple):
        text = ", ".join(one_line(item, limit) for item in value)
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}={one_line(v, limit)}" for k, v in value.items())
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    text = printable(_CONTROL.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mailboxes_line(notice: Notice) -> str:
    shown = notice.mailboxes[:_MAILBOXES_SHOWN]
    extra = len(notice.mailboxes) - len(shown)
    return ", ".join(shown) + (f" and {extra} more" if extra > 0 else "") or "the tenant"


def facts(notice: Notice) -> list[tuple[str, str]]:
    """Label and value pairs every format shows, in order."""
    rows = [("Mailbox" if len(notice.mailboxes) == 1 else "Mailboxes", mailboxes_line(notice)),
            ("Severity", notice.severity)]
    if notice.kind == "alert":
        rows.append(("Category", f"{notice.category} (rule {notice.rule_id})"))
        if notice.incident:
            alerts = len(notice.incident.get("alert_ids") or ())
            categories = ", ".join(str(c) for c in notice.incident.get("categories") or ())
            rows.append(("Incident", f"{notice.incident.get('id')}: "
                         f"{plural(alerts, 'alert')} ({categories})"))
        if notice.first_seen or notice.last_seen:
            rows.append(("When", f"{notice.first_seen or '?'} to {notice.last_seen or '?'}"))
        if notice.source_ips:
            rows.append(("Source IPs", one_line(notice.source_ips[:10])))
    else:
        rows.append(("Check", str(notice.check_id)))
    if notice.escalation:
        rows.append(("Escalated", "worse than the earlier notice: " + (
            ", ".join(notice.marks) or "severity raised")))
    return [(label, one_line(value, 1000)) for label, value in rows]


def evidence_heading(notice: Notice) -> str:
    """"Evidence (2 rows)", or "Evidence (first 5 of 40 rows)" when the message shows a part."""
    shown = len(notice.evidence)
    rows = notice.document.get("evidence")
    total = len(rows) if isinstance(rows, list) else shown
    if total > shown:
        return f"Evidence (first {shown} of {total} rows)"
    return f"Evidence ({plural(shown, 'row')})"


def evidence_lines(notice: Notice) -> list[str]:
    return [one_line(row) for row in notice.evidence]


def plain_text(notice: Notice, recipients: Recipients | None = None) -> str:
    lines = [notice.subject, "", "What happened:", "  " + one_line(notice.summary, 2000), ""]
    lines += [f"{label}: {value}" for label, value in facts(notice)]
    if recipients and recipients.note:
        lines += ["", "Note: " + recipients.note]
    lines += ["", "Do now:"]
    lines += [f"  {n}. {action}" for n, action in enumerate(notice.actions, 1)]
    if notice.evidence:
        lines += ["", f"{evidence_heading(notice)}:"]
        lines += [f"  - {line}" for line in evidence_lines(notice)]
    return "\n".join(lines) + "\n"


def _e(value: Any) -> str:
    return html.escape(one_line(value, 2000), quote=True)


def html_body(notice: Notice, recipients: Recipients | None = None) -> str:
    """A small, self-contained HTML message; every tenant string is escaped."""
    colour = _HEADING_COLOUR.get(notice.severity, "#555555")
    parts = [
        "<html><body style=\"font-family:Segoe UI,Arial,sans-serif\">",
        f"<h2 style=\"color:{colour}\">{_e(notice.subject)}</h2>",
        f"<p><strong>What happened:</strong> {_e(notice.summary)}</p>",
        "<table>",
        *(f"<tr><th align=\"left\">{_e(label)}</th><td>{_e(value)}</td></tr>"
          for label, value in facts(notice)),
        "</table>",
    ]
    if recipients and recipients.note:
        parts.append(f"<p><em>{_e(recipients.note)}</em></p>")
    parts.append("<h3>Do now</h3><ol>")
    parts += [f"<li>{_e(action)}</li>" for action in notice.actions]
    parts.append("</ol>")
    if notice.evidence:
        parts.append(f"<h3>{_e(evidence_heading(notice))}</h3><ul>")
        parts += [f"<li><code>{_e(line)}</code></li>" for line in evidence_lines(notice)]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
