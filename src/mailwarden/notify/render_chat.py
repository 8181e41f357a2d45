"""A notice as a Teams Adaptive Card, a Slack message, and a generic JSON webhook body.

Teams: tenant strings go into RichTextBlock TextRuns, which Teams does not read as
markdown (a display name cannot become a link), and `{{` is broken up so Adaptive Card's
DATE()/TIME() functions cannot be triggered. Slack: `&`, `<` and `>` are escaped as Slack
requires, which also disarms `<!channel>` mentions and `<url|text>` links.
"""

from __future__ import annotations

from typing import Any

from mailwarden.model.findings import Severity
from mailwarden.notify.notice import Notice
from mailwarden.notify.render_text import (
    Recipients,
    evidence_heading,
    evidence_lines,
    facts,
    item_line,
    item_steps,
    more_line,
    one_line,
    shown_items,
)
from mailwarden.schemas import NOTIFICATION_SCHEMA

_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
_SLACK_TEXT_LIMIT = 2900  # Slack rejects section text over 3000 characters


def _card_text(value: Any) -> str:
    return one_line(value, 2000).replace("{{", "{ {")


def _rich(text: str, *, bold: bool = False, colour: str | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"type": "TextRun", "text": _card_text(text)}
    if bold:
        run["weight"] = "Bolder"
    if colour:
        run["color"] = colour
    return {"type": "RichTextBlock", "inlines": [run]}


def _labelled(label: str, value: str) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": f"{label}: ", "weight": "Bolder"},
        {"type": "TextRun", "text": _card_text(value)},
    ]}


def teams_card(notice: Notice, recipients: Recipients | None = None) -> dict[str, Any]:
    """A Teams message with one Adaptive Card (what incoming webhooks and workflows take)."""
    colour = ("Attention" if notice.rank >= Severity.HIGH.rank
              else "Warning" if notice.rank == Severity.MEDIUM.rank else "Default")
    body: list[dict[str, Any]] = [
        _rich(notice.subject, bold=True, colour=colour),
        _labelled("What happened", notice.summary),
        *(_labelled(label, value) for label, value in facts(notice)),
    ]
    if notice.kind == "digest":
        shown, more = shown_items(notice)
        body.append(_rich("Items", bold=True))
        for item in shown:
            body.append(_rich(item_line(item), bold=True))
            body += [_rich(text) for text in (item.get("summary"),
                                              *item_steps(notice, item)) if text]
        if more > 0:
            body.append(_rich(more_line(more)))
    if recipients and recipients.note:
        body.append(_rich(recipients.note))
    body.append(_rich("Do now", bold=True))
    body += [_rich(f"{n}. {action}") for n, action in enumerate(notice.actions, 1)]
    if notice.evidence:
        body.append(_rich(evidence_heading(notice), bold=True))
        body += [_rich(line) for line in evidence_lines(notice)]
    return {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {"$schema": _CARD_SCHEMA, "type": "AdaptiveCard", "version": "1.2",
                        "body": body, "msteams": {"width": "full"}},
        }],
    }


def slack_escape(value: Any) -> str:
    """Slack's three control characters, escaped as its message formatting requires."""
    return one_line(value, 2000).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:_SLACK_TEXT_LIMIT],
                                        "verbatim": True}}


def slack_payload(notice: Notice, recipients: Recipients | None = None) -> dict[str, Any]:
    """An incoming-webhook body: blocks, plus `text` as the notification fallback."""
    fact_lines = "\n".join(f"*{slack_escape(label)}:* {slack_escape(value)}"
                           for label, value in facts(notice))
    blocks: list[dict[str, Any]] = [
        {"type": "header",
         "text": {"type": "plain_text", "text": slack_escape(notice.subject)[:150]}},
        _section(f"*What happened:* {slack_escape(notice.summary)}"),
        _section(fact_lines),
    ]
    if notice.kind == "digest":
        shown, more = shown_items(notice)
        lines = [f"• *{slack_escape(item_line(item))}*"
                 + "".join(f"\n    {slack_escape(text)}"
                           for text in (item.get("summary"), *item_steps(notice, item)) if text)
                 for item in shown]
        if more > 0:
            lines.append(slack_escape(more_line(more)))
        # One section per few items: Slack refuses a section text over 3000 characters.
        for start in range(0, len(lines), 5):
            blocks.append(_section("\n".join(lines[start:start + 5])))
    if recipients and recipients.note:
        blocks.append(_section(f"_{slack_escape(recipients.note)}_"))
    blocks.append(_section("*Do now:*\n" + "\n".join(
        f"{n}. {slack_escape(action)}" for n, action in enumerate(notice.actions, 1))))
    if notice.evidence:
        blocks.append(_section(f"*{evidence_heading(notice)}:*\n" + "\n".join(
            f"• `{slack_escape(line)}`" for line in evidence_lines(notice))))
    return {"text": slack_escape(notice.subject), "blocks": blocks, "unfurl_links": False,
            "unfurl_media": False}


def webhook_payload(notice: Notice, *, channel: str,
                    recipients: Recipients | None = None) -> dict[str, Any]:
    """The alert (or finding) as in its JSON document, plus how it was routed; a digest
    as its items (each a notice's key, kind, severity, title, summary, mailboxes, steps)."""
    if notice.kind == "digest":
        content: dict[str, Any] = {"digest": {"title": notice.title, "summary": notice.summary,
                                              "items": [dict(i) for i in notice.items]}}
    else:
        key = "alert" if notice.kind == "alert" else "finding"
        content = {key: dict(notice.document)}
        if notice.incident:
            content["incident"] = dict(notice.incident)
    return {
        "schema": NOTIFICATION_SCHEMA,
        "kind": notice.kind,
        **content,
        "notification": {
            "key": notice.key, "escalation": notice.escalation, "marks": list(notice.marks),
            "subject": notice.subject, "actions": list(notice.actions), "channel": channel,
            "mailboxes": list(notice.mailboxes),
            "custodians": list(recipients.to) if recipients else [],
            "copied": list(recipients.cc) if recipients else [],
            "note": recipients.note if recipients else None,
        },
    }
