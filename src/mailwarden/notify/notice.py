"""A notice: one incident (the alerts of one attack), one alert, one newly failing
finding, a digest of several of those for one recipient (`mailwarden.notify.digest`), or
an access review's invitation or reminder, ready to be rendered for a channel.

Notices are plain values that survive a trip through JSON, so the outbox can hold them
between "stored" and "sent" and resend them after a crash without the original inputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mailwarden.detect.incidents import escalation_marks as facts_marks
from mailwarden.model.findings import Finding, Severity
from mailwarden.notify.actions import actions_for_category
from mailwarden.text import plural, printable

NoticeKind = Literal["alert", "finding", "digest", "review"]
#: Evidence rows shown in a message; the full set stays in alerts.json.
EVIDENCE_ROWS = 5
#: Evidence columns worth a person's attention, in the order shown.
EVIDENCE_COLUMNS = ("time", "upn", "actor", "mailbox", "operation", "activity", "ip",
                    "client_app", "protocol", "result_code", "failure_reason", "user_agent",
                    "country", "rule_name", "forward_to", "trustee", "rights")


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    key: str  # what de-duplication compares: one alert (rule, target, window) or finding
    kind: NoticeKind
    severity: str  # a `Severity` value, as the alert or finding document spells it
    title: str
    summary: str  # what happened, in a sentence or two
    mailboxes: tuple[str, ...]  # the mailboxes it is about (recipients derive from these)
    actions: tuple[str, ...]  # the one or two things to do now
    evidence: tuple[Mapping[str, Any], ...] = ()
    category: str | None = None
    rule_id: str | None = None
    check_id: str | None = None
    source_ips: tuple[str, ...] = ()
    first_seen: str | None = None
    last_seen: str | None = None
    #: Facts that make a still-open alert worse than what was sent (e.g. a proven password).
    marks: tuple[str, ...] = ()
    escalation: bool = False
    #: The alert as in alerts.json (an incident's worst alert), or the finding as in
    #: findings.json.
    document: Mapping[str, Any] = field(default_factory=dict)
    #: For an incident: the incident as in alerts.json, with a line per alert it holds.
    incident: Mapping[str, Any] = field(default_factory=dict)
    #: For an incident: "category/rule_id" of each of its alerts, for routing.
    alert_kinds: tuple[str, ...] = ()
    #: For a digest: one line per notice it holds (`digest.item_of`), worst first.
    items: tuple[Mapping[str, Any], ...] = ()
    #: For a digest: who reads it, "custodian", "security" or "channel" (wording differs).
    audience: str | None = None
    #: For an incident sent to its custodian: the page where they answer "was this you?"
    #: (`mailwarden.notify.answer`). Set only on the copy being sent, never stored: the URL
    #: holds a link token.
    answer_url: str | None = None
    #: A page the recipient opens (an access review). A custodian's link holds a token:
    #: it is added by the sender just before sending, never stored in the outbox.
    link: str | None = None

    @property
    def rank(self) -> int:
        return Severity.rank_of(self.severity)

    @property
    def subject(self) -> str:
        prefix = "ESCALATED " if self.escalation else ""
        # A header: tenant text in the title must not carry line breaks or terminal controls.
        return printable(f"[mailwarden] {prefix}{self.severity.upper()}: {self.title}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def notice_from_dict(data: Mapping[str, Any]) -> Notice:
    tuples = ("mailboxes", "actions", "evidence", "source_ips", "marks", "alert_kinds",
              "items")
    values: dict[str, Any] = {k: tuple(v) if k in tuples else v for k, v in data.items()}
    return Notice(**values)


def escalation_marks(alert: Mapping[str, Any]) -> tuple[str, ...]:
    """What, in an alert's facts, shows an attack got further than a failed attempt."""
    return facts_marks(alert.get("facts") or {})


def _evidence(rows: Any) -> tuple[dict[str, Any], ...]:
    shown = []
    for row in list(rows or ())[:EVIDENCE_ROWS]:
        if isinstance(row, Mapping):
            picked = {c: row[c] for c in EVIDENCE_COLUMNS if row.get(c) not in (None, "", [])}
            shown.append(picked or dict(list(row.items())[:6]))
    return tuple(shown)


def alert_notice(alert: Mapping[str, Any]) -> Notice:
    """A notice for one alert of alerts.json (SPEC section 8)."""
    target = alert.get("target")
    # A spray names every account it tried; the ownerless ones among them are the mailboxes
    # this product answers for, and whose custodians should hear of it.
    ownerless = tuple((alert.get("facts") or {}).get("ownerless_targets") or ())
    mailboxes = (target,) if target else ownerless or tuple(alert.get("targets") or ())
    category = str(alert.get("category") or "")
    return Notice(
        key=f"alert:{alert['id']}", kind="alert", severity=str(alert.get("severity", "info")),
        title=f"{category} on {target or _several(mailboxes)}",
        summary=str(alert.get("summary") or ""), mailboxes=tuple(m.lower() for m in mailboxes),
        actions=actions_for_category(category), evidence=_evidence(alert.get("evidence")),
        category=category, rule_id=alert.get("rule_id"),
        source_ips=tuple(alert.get("source_ips") or ()), first_seen=alert.get("first_seen"),
        last_seen=alert.get("last_seen"), marks=escalation_marks(alert), document=dict(alert),
    )


_ALERT_LINE = ("id", "category", "rule_id", "severity", "target", "first_seen", "last_seen",
               "summary")


def incident_marks(incident: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]
                   ) -> tuple[str, ...]:
    """The incident's marks as alerts.json gives them; for one that gives none, every
    category and mailbox and each alert's escalations."""
    given = incident.get("marks")
    if isinstance(given, list):
        return tuple(str(m) for m in given)
    held = set(incident.get("alert_ids") or ())
    return tuple(sorted({*(f"category:{c}" for c in incident.get("categories") or ()),
                         *(f"mailbox:{m}" for m in incident.get("targets") or ()),
                         *(m for a in alerts if a.get("id") in held
                           for m in escalation_marks(a))}))


def incident_notice(incident: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]],
                    marks: Sequence[str]) -> Notice:
    """A notice for one incident (as alerts.json holds it) with the alerts of it this run
    has (as alerts.json holds them); `marks` say what makes it worse than an earlier
    notice (detect.incidents). Its key is the incident's, so the outbox sends it once and
    again only when it gets worse."""
    held = [a for a in alerts if a.get("id") in set(incident.get("alert_ids") or ())]
    held.sort(key=lambda a: -Severity.rank_of(a.get("severity")))
    worst = held[0] if held else {}
    category = str(incident.get("category") or worst.get("category") or "")
    mailboxes = tuple(str(m).lower() for m in incident.get("targets") or ())
    others = max(len(incident.get("alert_ids") or ()) - 1, 0)
    related = f" and {plural(others, 'related alert')}" if others else ""
    actions = tuple(dict.fromkeys(
        action for c in (category, *(incident.get("categories") or ()))
        for action in actions_for_category(str(c))))[:3]
    evidence = _evidence([row for a in held for row in a.get("evidence") or ()])
    return Notice(
        key=f"incident:{incident['id']}", kind="alert",
        severity=str(incident.get("severity", "info")),
        title=f"{category} on {_several(mailboxes)}{related}",
        summary=str(incident.get("summary") or worst.get("summary") or ""),
        mailboxes=mailboxes, actions=actions, evidence=evidence, category=category,
        rule_id=worst.get("rule_id"), source_ips=tuple(incident.get("source_ips") or ()),
        first_seen=incident.get("first_seen"), last_seen=incident.get("last_seen"),
        marks=tuple(sorted(marks)), document=dict(worst),
        incident={**incident, "alerts": [{k: a.get(k) for k in _ALERT_LINE} for a in held]},
        alert_kinds=tuple(sorted({f"{a.get('category')}/{a.get('rule_id')}" for a in held})),
    )


def finding_document(finding: Finding) -> dict[str, Any]:
    """The finding as findings.json shows it (SPEC section 8), JSON-ready."""
    resource = finding.resource
    document = {
        "check_id": finding.check_id, "status": finding.status.value,
        "severity": finding.severity.value,
        "resource": {"type": resource.type.value, "upn": resource.upn,
                     "kind": resource.kind.value if resource.kind else None,
                     "display_name": resource.display_name,
                     **({"app_id": resource.app_id} if resource.app_id else {})},
        "message": finding.message, "evidence": finding.evidence,
        "controls": list(finding.controls),
        "remediation": finding.remediation.as_dict() if finding.remediation else {},
    }
    plain: dict[str, Any] = json.loads(json.dumps(document, default=str))
    return plain


def finding_notice(finding: Finding, *, since: str) -> Notice:
    """A notice for a newly failing finding; `since` (when the run that saw it fail was
    made) makes a later fail-pass-fail drift a new notice rather than a repeat."""
    upn = finding.resource.upn
    document = finding_document(finding)
    remediation = finding.remediation.summary if finding.remediation else None
    actions = (remediation,) if remediation else ("Review the failing check and fix it.",)
    evidence = document["evidence"]
    return Notice(
        key=f"finding:{finding.check_id}:{finding.resource.key or 'tenant'}:{since}",
        kind="finding", severity=finding.severity.value,
        title=f"{finding.check_id} newly failing on {finding.resource.label}",
        summary=finding.message, mailboxes=(upn,) if upn else (), actions=actions,
        evidence=(evidence,) if evidence else (), check_id=finding.check_id,
        document=document,
    )


def _several(mailboxes: tuple[str, ...]) -> str:
    if not mailboxes:
        return "the tenant"
    if len(mailboxes) == 1:
        return mailboxes[0]
    return f"{mailboxes[0]} and {plural(len(mailboxes) - 1, 'more account')}"
