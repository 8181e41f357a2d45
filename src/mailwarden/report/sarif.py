"""SARIF 2.1.0: checks as rules, failed and unjudgeable findings as results; and one
result per incident (the alerts of one attack), under a rule per alert category
(`incident/<category>`), with its alerts in the result's properties.

Mailboxes are not source files, so each result is located by a logical location (the
mailbox UPN, or the tenant). A finding that could not be judged (`error`) is reported
with kind "open": SARIF's word for "the tool could not tell pass from fail".

An accepted finding (an unexpired exception covers it) stays a "fail" result, with one
`suppressions` entry of kind "external" (the exception lives outside the scanned
resource), status "accepted" and the exception's reason as its justification (SARIF 2.1.0
section 3.35); viewers such as GitHub code scanning then show it as dismissed, not fixed.
A finding whose exception expired is an ordinary failure that says so in its properties.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from mailwarden.model.findings import CheckInfo, Finding, Severity, Status
from mailwarden.model.run import Run
from mailwarden.report.findings_json import exception_dict, plain_value
from mailwarden.times import iso

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub code scanning reads `security-severity` (0.0-10.0) to rank security results.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule(info: CheckInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.title,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": f"{info.fails} {info.risk}"},
        "help": {"text": info.remediation.summary},
        "defaultConfiguration": {"level": _LEVEL[info.severity]},
        "properties": {
            "tags": ["security", *info.controls],
            "security-severity": _SECURITY_SEVERITY[info.severity],
            "scope": info.scope.value,
        },
    }


def _fingerprint(finding: Finding, tenant: str) -> str:
    material = "\x1f".join((tenant, finding.check_id, finding.resource.key or ""))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _result(finding: Finding, rule_index: int, tenant: str) -> dict[str, Any]:
    resource = finding.resource
    name = resource.upn or (resource.label if resource.app_id else tenant)
    judged = finding.status in (Status.FAIL, Status.ACCEPTED)
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "kind": "fail" if judged else "open",
        "level": _LEVEL[finding.severity] if judged else "none",
        "message": {"text": finding.message},
        "locations": [
            {
                "logicalLocations": [
                    {
                        "name": name,
                        "fullyQualifiedName": f"{tenant}/{name}",
                        "kind": resource.type.value,
                    }
                ]
            }
        ],
        "partialFingerprints": {"mailwardenFinding/v1": _fingerprint(finding, tenant)},
        "properties": {
            "severity": finding.severity.value,
            "status": finding.status.value,
            "mailboxKind": resource.kind.value if resource.kind else None,
            "evidence": plain_value(finding.evidence),
        },
    }
    if finding.remediation is not None:
        fix = finding.remediation
        result["properties"]["remediation"] = fix.as_dict()
    exception = finding.exception
    if exception is not None:
        accepted = finding.status is Status.ACCEPTED
        result["properties"]["exception"] = {**exception_dict(exception), "expired": not accepted}
        if accepted:
            result["suppressions"] = [{
                "kind": "external",
                "status": "accepted",
                "justification": exception.reason,
                "properties": {"owner": exception.owner,
                               "expires": exception.expires.isoformat(),
                               "ticket": exception.ticket, "origin": exception.origin},
            }]
    return result


_ALERT_KEYS = ("id", "category", "rule_id", "severity", "target", "first_seen", "last_seen",
               "event_count", "summary", "source_ips")


def _incident_rule(category: str) -> dict[str, Any]:
    return {
        "id": f"incident/{category}",
        "name": f"incident: {category}",
        "shortDescription": {"text": f"An attack whose worst alert is {category}"},
        "properties": {"tags": ["security", "incident", category]},
    }


def _incident_result(incident: Mapping[str, Any], alerts: Mapping[str, Mapping[str, Any]],
                     rule_index: int, tenant: str) -> dict[str, Any]:
    severity = Severity.named(incident.get("severity")) or Severity.INFO
    places = list(incident.get("targets") or ()) or [tenant]
    held = [alerts[str(i)] for i in incident.get("alert_ids") or () if str(i) in alerts]
    return {
        "ruleId": f"incident/{incident['category']}",
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": _LEVEL[severity],
        "message": {"text": str(incident.get("summary") or incident["category"])},
        "locations": [{"logicalLocations": [
            {"name": str(place), "fullyQualifiedName": f"{tenant}/{place}", "kind": "mailbox"}
            for place in places]}],
        "partialFingerprints": {"mailwardenIncident/v1": str(incident["id"])},
        "properties": {
            "severity": severity.value, "status": incident.get("status"),
            "incident": str(incident["id"]),
            "categories": list(incident.get("categories") or [incident["category"]]),
            "firstSeen": incident.get("first_seen"), "lastSeen": incident.get("last_seen"),
            "alerts": [{k: alert.get(k) for k in _ALERT_KEYS} for alert in held],
        },
    }


def sarif_document(run: Run) -> dict[str, Any]:
    result = run.result
    tenant = run.tenant.default_domain or run.tenant.tenant_id
    index = {info.id: i for i, info in enumerate(result.checks)}
    categories = list(dict.fromkeys(str(i["category"]) for i in run.incidents))
    incident_rules = {c: len(result.checks) + n for n, c in enumerate(categories)}
    alerts = {str(a.get("id")): a for a in run.alerts}
    reported = [
        f
        for f in result.findings
        if f.status in (Status.FAIL, Status.ACCEPTED, Status.ERROR) and f.check_id in index
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mailwarden",
                        "version": run.version or "0",
                        "rules": [*(_rule(info) for info in result.checks),
                                  *(_incident_rule(c) for c in categories)],
                    }
                },
                "invocations": [
                    {"executionSuccessful": True, "endTimeUtc": iso(run.generated_at)}
                ],
                "automationDetails": {"id": f"mailwarden/{run.tenant.tenant_id}/"},
                "results": [
                    *(_result(f, index[f.check_id], tenant) for f in reported),
                    *(_incident_result(i, alerts, incident_rules[str(i["category"])], tenant)
                      for i in run.incidents),
                ],
            }
        ],
    }


def render(run: Run) -> str:
    return json.dumps(sarif_document(run), indent=2, ensure_ascii=False) + "\n"
