"""OCSF 1.3.0 events: a Compliance Finding (class 2003) per judged check and mailbox, and a
Detection Finding (class 2004) per incident (the alerts of one attack), its alerts as
evidence artifacts (each `data` one alert with its evidence rows), an alert no incident
holds (a run from before incidents) as a finding of its own. The file is a JSON array of
events.

Not-applicable findings are left out: they say nothing about the tenant's posture.
An accepted finding (an unexpired exception covers it) still fails its control
(compliance status_id 3, Fail) and is a finding someone reviewed and chose not to act on:
the event's status_id is 3, Suppressed (OCSF 1.3.0 Finding `status_id`: 0 Unknown, 1 New,
2 In Progress, 3 Suppressed, 4 Resolved, 99 Other; the vendored schema's enum), with the
exception (reason, owner, expiry, ticket) in `unmapped.exception`.
Values OCSF has no attribute for (evidence, commands) go in `unmapped`, as the schema asks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from mailwarden.model.findings import CheckInfo, Finding, Severity, Status
from mailwarden.model.run import Run
from mailwarden.report.findings_json import exception_dict, plain_value
from mailwarden.times import parse_time

OCSF_VERSION = "1.3.0"
_FINDINGS_CATEGORY = 2
COMPLIANCE_FINDING = 2003
DETECTION_FINDING = 2004
_CREATE = 1  # activity_id: a new finding
_STATUS_NEW = 1
_STATUS_SUPPRESSED = 3
_SEVERITY: Mapping[str, tuple[int, str]] = {  # OCSF severity_id and its caption
    Severity.CRITICAL: (5, "Critical"),
    Severity.HIGH: (4, "High"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.LOW: (2, "Low"),
    Severity.INFO: (1, "Informational"),
}
_COMPLIANCE_STATUS = {  # compliance.status_id and its caption
    Status.PASS: (1, "Pass"),
    Status.FAIL: (3, "Fail"),
    Status.ACCEPTED: (3, "Fail"),  # the control still fails; the finding is suppressed
    Status.ERROR: (0, "Unknown"),
}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _base(run: Run, class_uid: int, class_name: str, severity: str, when: int) -> dict[str, Any]:
    severity_id, severity_name = _SEVERITY.get(severity, (0, "Unknown"))
    return {
        "activity_id": _CREATE,
        "activity_name": "Create",
        "category_uid": _FINDINGS_CATEGORY,
        "category_name": "Findings",
        "class_uid": class_uid,
        "class_name": class_name,
        "type_uid": class_uid * 100 + _CREATE,
        "type_name": f"{class_name}: Create",
        "severity_id": severity_id,
        "severity": severity_name,
        "status_id": _STATUS_NEW,
        "status": "New",
        "time": when,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "mailwarden",
                "vendor_name": "mailwarden",
                "version": run.version or "0",
            },
            "tenant_uid": run.tenant.tenant_id,
        },
    }


def _standards(controls: tuple[str, ...]) -> list[str]:
    """"CIS M365 6.0.0 1.2.2" -> "CIS M365 6.0.0": the benchmark without the control number."""
    names = {control.rsplit(" ", 1)[0] if " " in control else control for control in controls}
    return sorted(names) or ["mailwarden"]


def _uid(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def compliance_event(run: Run, finding: Finding, info: CheckInfo | None) -> dict[str, Any]:
    resource = finding.resource
    tenant = run.tenant.tenant_id
    status_id, status = _COMPLIANCE_STATUS[finding.status]
    event = _base(run, COMPLIANCE_FINDING, "Compliance Finding", finding.severity.value,
                  _ms(run.generated_at))
    event["message"] = finding.message
    event["finding_info"] = {
        "uid": _uid(tenant, finding.check_id, resource.key or ""),
        "title": info.title if info else finding.check_id,
        "desc": finding.message,
        "types": [finding.check_id],
    }
    event["compliance"] = {
        "control": finding.check_id,
        "standards": _standards(finding.controls),
        "requirements": list(finding.controls),
        "status_id": status_id,
        "status": status,
    }
    event["resources"] = [{
        "uid": resource.account_id or resource.upn or resource.app_id or tenant,
        "name": resource.upn or resource.display_name if resource.app_id
        else resource.upn or run.tenant.default_domain or tenant,
        "type": f"mailbox/{resource.kind.value}" if resource.kind
        else "application" if resource.app_id else resource.type.value,
    }]
    unmapped: dict[str, Any] = {"evidence": plain_value(finding.evidence)}
    if finding.remediation is not None:
        event["remediation"] = {"desc": finding.remediation.summary}
        unmapped["remediation"] = finding.remediation.as_dict()
    if finding.exception is not None:
        accepted = finding.status is Status.ACCEPTED
        unmapped["exception"] = {**exception_dict(finding.exception), "expired": not accepted}
        if accepted:
            event["status_id"], event["status"] = _STATUS_SUPPRESSED, "Suppressed"
    event["unmapped"] = unmapped
    return event


def detection_event(run: Run, alert: Mapping[str, Any]) -> dict[str, Any]:
    first = parse_time(alert.get("first_seen"))
    last = parse_time(alert.get("last_seen"))
    when = _ms(last or run.generated_at)
    event = _base(run, DETECTION_FINDING, "Detection Finding", str(alert.get("severity")), when)
    info: dict[str, Any] = {
        "uid": str(alert["id"]),
        "title": str(alert["category"]),
        "desc": str(alert.get("summary") or ""),
        "types": [str(alert["category"])],
        "analytic": {"uid": str(alert["rule_id"]), "name": str(alert["rule_id"]),
                     "type_id": 1, "type": "Rule"},
    }
    _seen(event, info, first, last)
    event.update(message=str(alert.get("summary") or ""), finding_info=info,
                 count=int(alert.get("event_count") or 0), is_alert=True)
    targets = [alert["target"]] if alert.get("target") else list(alert.get("targets") or ())
    _where_from(event, targets, alert.get("source_ips") or ())
    if alert.get("evidence"):
        event["evidences"] = [{"data": row} for row in alert["evidence"]]
    event["unmapped"] = {"facts": alert.get("facts") or {}, "mitre": alert.get("mitre") or []}
    return event



def _seen(event: dict[str, Any], info: dict[str, Any], first: datetime | None,
          last: datetime | None) -> None:
    """A detection's first and last times, on its finding info and the event."""
    if first:
        info["first_seen_time"] = _ms(first)
        event["start_time"] = _ms(first)
    if last:
        info["last_seen_time"] = _ms(last)
        event["end_time"] = _ms(last)


def _where_from(event: dict[str, Any], targets: Iterable[Any], ips: Iterable[Any]) -> None:
    """The mailboxes a detection is about (resources) and the addresses it came from."""
    mailboxes = [{"name": str(t), "type": "mailbox"} for t in targets]
    if mailboxes:
        event["resources"] = mailboxes
    observables = [{"name": "source_ip", "type_id": 2, "type": "IP Address", "value": str(ip)}
                   for ip in ips]
    if observables:
        event["observables"] = observables

def incident_event(run: Run, incident: Mapping[str, Any],
                   alerts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    held = [alerts[str(i)] for i in incident.get("alert_ids") or () if str(i) in alerts]
    first = parse_time(incident.get("first_seen"))
    last = parse_time(incident.get("last_seen"))
    event = _base(run, DETECTION_FINDING, "Detection Finding", str(incident.get("severity")),
                  _ms(last or run.generated_at))
    worst = max(held, key=lambda a: Severity.rank_of(a.get("severity")), default={})
    categories = [str(c) for c in incident.get("categories") or [incident["category"]]]
    info: dict[str, Any] = {"uid": str(incident["id"]), "title": str(incident["category"]),
                            "desc": str(incident.get("summary") or ""), "types": categories}
    if worst.get("rule_id"):
        info["analytic"] = {"uid": str(worst["rule_id"]), "name": str(worst["rule_id"]),
                            "type_id": 1, "type": "Rule"}
    _seen(event, info, first, last)
    event.update(message=str(incident.get("summary") or ""), finding_info=info,
                 count=sum(int(a.get("event_count") or 0) for a in held), is_alert=True)
    _where_from(event, incident.get("targets") or (), incident.get("source_ips") or ())
    if held:
        event["evidences"] = [{"data": dict(alert)} for alert in held]
    event["unmapped"] = {"incident": dict(incident),
                         "alert_ids": [str(i) for i in incident.get("alert_ids") or ()]}
    return event


def ocsf_events(run: Run) -> list[dict[str, Any]]:
    checks = {info.id: info for info in run.result.checks}
    events = [
        compliance_event(run, finding, checks.get(finding.check_id))
        for finding in run.result.findings
        if finding.status in _COMPLIANCE_STATUS
    ]
    alerts = {str(a.get("id")): a for a in run.alerts}
    grouped = {str(i) for incident in run.incidents for i in incident.get("alert_ids") or ()}
    events += [incident_event(run, incident, alerts) for incident in run.incidents]
    events += [detection_event(run, a) for a in run.alerts if str(a.get("id")) not in grouped]
    return events


def render(run: Run) -> str:
    return json.dumps(ocsf_events(run), indent=2, ensure_ascii=False) + "\n"

