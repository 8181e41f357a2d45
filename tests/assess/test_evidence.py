"""Active evidence from alerts: an incident that was resolved no longer makes its mailbox
active; an acknowledged one still does."""

from __future__ import annotations

from typing import Any

from mailwarden.assess.evidence import evidence_from_alerts, resolved_alert_ids

MAILBOX = "payroll@contoso.com"


def alert(ident: str, severity: str = "high") -> dict[str, Any]:
    return {"id": ident, "category": "ownerless-sign-in", "severity": severity,
            "target": MAILBOX, "summary": f"sign-in {ident}",
            "first_seen": "2026-11-01T08:00:00Z", "last_seen": "2026-11-01T09:00:00Z"}


def incident(status: str, *alert_ids: str) -> dict[str, Any]:
    return {"id": f"inc-{status}", "status": status, "alert_ids": list(alert_ids)}


def test_an_incident_resolved_closes_its_evidence_and_one_acknowledged_does_not() -> None:
    alerts = [alert("a1"), alert("a2")]
    both_resolved = resolved_alert_ids([incident("resolved", "a1", "a2")])
    (closed,) = evidence_from_alerts(alerts, both_resolved)[MAILBOX]
    assert not closed.open
    acknowledged = resolved_alert_ids([incident("acknowledged", "a1", "a2")])
    assert acknowledged == frozenset()
    (still,) = evidence_from_alerts(alerts, acknowledged)[MAILBOX]
    assert still.open
    # One alert of the category outside the resolved incident keeps the evidence open.
    (partly,) = evidence_from_alerts(alerts, resolved_alert_ids([incident("resolved", "a1")]))[
        MAILBOX]
    assert partly.open and partly.refs == ("a1", "a2")
