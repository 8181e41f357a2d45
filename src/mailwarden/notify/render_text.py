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
#: Who reads a digest (`Notice.audience`): the wording differs.
CUSTODIAN = "custodian"
SECURITY = "security"
CHANNEL = "channel"
#: Notices a digest lists one by one; the rest are counted (the report has them all).
ITEMS_SHOWN = 40


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


def why_you(notice: Notice) -> str | None:
    """Why a custodian is the one told (None for other audiences)."""
    if notice.audience != CUSTODIAN:
        return None
    shown = ", ".join(notice.mailboxes[:5]) + (
        f" and {len(notice.mailboxes) - 5} more" if len(notice.mailboxes) > 5 else "")
    return ("You are receiving this because you are the custodian named for "
            f"{shown}: a mailbox nobody signs in to as themselves, so its custodian is the "
            "person who can say whether what happened was expected.")


def item_line(item: Mapping[str, Any]) -> str:
    """One digest item: severity, title, and the period it covers."""
    when = ""
    if item.get("first_seen") or item.get("last_seen"):
        when = f" ({item.get('first_seen') or '?'} to {item.get('last_seen') or '?'})"
    worse = " [worse than before]" if item.get("escalation") else ""
    return one_line(f"{str(item.get('severity', '')).upper()}: {item.get('title')}{when}"
                    f"{worse}", 1000)


#: Evidence rows a digest shows per item (the single notice shows more).
ITEM_EVIDENCE = 2


def item_steps(notice: Notice, item: Mapping[str, Any]) -> list[str]:
    """An item's evidence and steps for the security team and team channels; a
    custodian's digest leaves both out (what to do as a custodian is said once)."""
    if notice.audience == CUSTODIAN:
        return []
    seen = [f"Seen: {one_line(row)}" for row in list(item.get("evidence") or ())[:ITEM_EVIDENCE]]
    return seen + [f"Do: {one_line(a, 1000)}" for a in item.get("actions") or ()]


def shown_items(notice: Notice) -> tuple[tuple[Mapping[str, Any], ...], int]:
    """The items a digest lists and how many more it only counts."""
    shown = notice.items[:ITEMS_SHOWN]
    return shown, len(notice.items) - len(shown)


def more_line(more: int) -> str:
    return (f"... and {more} more (`mailwarden alerts` and `mailwarden report` list them "
            "all)")


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
    elif notice.kind == "finding":
        rows.append(("Check", str(notice.check_id)))
    elif notice.kind == "review":
        rows.append(("Due", str(notice.document.get("due"))))
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


#: What a custodian is asked beside the link to their answer page.
ASK = "Was this you? Answer here:"


def _digest_text(notice: Notice) -> list[str]:
    shown, more = shown_items(notice)
    lines = ["", "Items:"]
    for item in shown:
        lines.append("  - " + item_line(item))
        if item.get("summary"):
            lines.append("    " + one_line(item["summary"], 1000))
        lines += [f"    {step}" for step in item_steps(notice, item)]
        if item.get("answer_url"):
            lines.append(f"    {ASK} {one_line(item['answer_url'], 2000)}")
    if more > 0:
        lines.append("  " + more_line(more))
    return lines


def plain_text(notice: Notice, recipients: Recipients | None = None) -> str:
    lines = [notice.subject, "", "What happened:", "  " + one_line(notice.summary, 2000), ""]
    lines += [f"{label}: {value}" for label, value in facts(notice)]
    if (why := why_you(notice)) is not None:
        lines += ["", "Why you: " + one_line(why, 2000)]
    if notice.answer_url:
        lines += ["", f"{ASK} {one_line(notice.answer_url, 2000)}"]
    if notice.kind == "digest":
        lines += _digest_text(notice)
    if recipients and recipients.note:
        lines += ["", "Note: " + recipients.note]
    lines += ["", "Do now:"]
    lines += [f"  {n}. {action}" for n, action in enumerate(notice.actions, 1)]
    if notice.link:
        lines += ["", f"Open: {notice.link}"]
    if notice.evidence:
        lines += ["", f"{evidence_heading(notice)}:"]
        lines += [f"  - {line}" for line in evidence_lines(notice)]
    return "\n".join(lines) + "\n"


def _e(value: Any) -> str:
    return html.escape(one_line(value, 2000), quote=True)


def _answer_html(url: str, *, tag: str = "p") -> str:
    """The custodian's answer link; only an http(s) URL becomes a link."""
    href = html.escape(one_line(url, 2000), quote=True)
    if not href.startswith(("https://", "http://")):
        return f"<{tag}>{html.escape(ASK)} {href}</{tag}>"
    return (f"<{tag}><strong>Was this you?</strong> <a href=\"{href}\">Tell us: yes, or "
            f"no</a> ({href})</{tag}>")


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
    if (why := why_you(notice)) is not None:
        parts.append(f"<p><strong>Why you:</strong> {_e(why)}</p>")
    if notice.answer_url:
        parts.append(_answer_html(notice.answer_url))
    if notice.kind == "digest":
        shown, more = shown_items(notice)
        parts.append("<h3>Items</h3><ul>")
        for item in shown:
            steps = "".join(f"<br>{_e(step)}" for step in item_steps(notice, item))
            summary = f"<br>{_e(item['summary'])}" if item.get("summary") else ""
            answer = (f"<br>{_answer_html(item['answer_url'], tag='span')}"
                      if item.get("answer_url") else "")
            parts.append(f"<li><strong>{_e(item_line(item))}</strong>{summary}{steps}"
                         f"{answer}</li>")
        if more > 0:
            parts.append(f"<li>{_e(more_line(more))}</li>")
        parts.append("</ul>")
    if recipients and recipients.note:
        parts.append(f"<p><em>{_e(recipients.note)}</em></p>")
    parts.append("<h3>Do now</h3><ol>")
    parts += [f"<li>{_e(action)}</li>" for action in notice.actions]
    parts.append("</ol>")
    if notice.link:
        link = html.escape(notice.link, quote=True)
        parts.append(f"<p><a href=\"{link}\">Open the review</a><br>{link}</p>")
    if notice.evidence:
        parts.append(f"<h3>{_e(evidence_heading(notice))}</h3><ul>")
        parts += [f"<li><code>{_e(line)}</code></li>" for line in evidence_lines(notice)]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
