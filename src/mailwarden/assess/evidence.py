"""Active evidence per mailbox, from alerts in their alerts.json form (SPEC section 8).

An alert is on a mailbox when the mailbox is its target, or, for an alert without a single
target (a spray across accounts), when the mailbox is among its targets. The alerts of one
category on one mailbox make one `ActiveEvidence`: its worst severity, the summary of its
worst and latest alert, first and last seen, and the alert ids. It is open unless every
one of its alerts belongs to an incident that was resolved (`closed`: by a person, or
after its quiet period); only open high and critical evidence ranks a mailbox in the
active tier (`RiskTier`). An acknowledged incident is still open evidence: someone knows
of the attack, which does not make it over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mailwarden.model.findings import ActiveEvidence, Severity
from mailwarden.times import parse_time

_NEVER = datetime.min.replace(tzinfo=UTC)


def _mailboxes_of(alert: Mapping[str, Any]) -> set[str]:
    target = alert.get("target")
    if isinstance(target, str) and target:
        return {target.lower()}
    targets = alert.get("targets") or ()
    return {t.lower() for t in targets if isinstance(t, str) and t}


def evidence_from_alerts(
    alerts: Iterable[Mapping[str, Any]], closed: Collection[str] = (),
) -> dict[str, tuple[ActiveEvidence, ...]]:
    """Evidence by lower-case mailbox UPN; `closed` are the ids of alerts whose incident
    was resolved. Alerts whose severity is not one of mailwarden's are left out (they
    cannot be ranked); so are alerts on no account."""
    grouped: dict[tuple[str, str], list[tuple[Severity, Mapping[str, Any]]]] = defaultdict(list)
    for alert in alerts:
        severity = Severity.named(alert.get("severity"))
        if severity is None:
            continue
        category = str(alert.get("category") or alert.get("rule_id") or "alert")
        for upn in _mailboxes_of(alert):
            grouped[(upn, category)].append((severity, alert))
    found: dict[str, list[ActiveEvidence]] = defaultdict(list)
    for (upn, category), items in sorted(grouped.items()):
        found[upn].append(_evidence(category, items, closed))
    return {upn: tuple(items) for upn, items in found.items()}


def _evidence(category: str, items: list[tuple[Severity, Mapping[str, Any]]],
              closed: Collection[str]) -> ActiveEvidence:
    def latest(alert: Mapping[str, Any]) -> datetime:
        return parse_time(alert.get("last_seen")) or parse_time(alert.get("first_seen")) or _NEVER

    worst, alert = max(items, key=lambda item: (item[0].rank, latest(item[1])))
    firsts = [t for _, a in items if (t := parse_time(a.get("first_seen"))) is not None]
    lasts = [t for _, a in items if (t := parse_time(a.get("last_seen"))) is not None]
    more = len(items) - 1
    summary = str(alert.get("summary") or category)
    if more:
        summary += f" (and {more} more {'alert' if more == 1 else 'alerts'})"
    return ActiveEvidence(
        source="alerts",
        category=category,
        severity=worst,
        summary=summary,
        open=any(str(a.get("id")) not in closed for _, a in items),
        first_seen=min(firsts, default=None),
        last_seen=max(lasts, default=None),
        refs=tuple(str(a.get("id")) for _, a in items if a.get("id") is not None),
    )


def resolved_alert_ids(incidents: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The ids of the alerts of the incidents (in their alerts.json form) that are resolved."""
    return frozenset(str(alert_id) for incident in incidents
                     if incident.get("status") == "resolved"
                     for alert_id in incident.get("alert_ids") or ())
