"""Reading what notify works from: alerts.json, findings.json (SPEC section 8), custodians."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailwarden.errors import InputError
from mailwarden.model.findings import (
    Finding,
    MailboxKind,
    Remediation,
    Resource,
    Scope,
    Severity,
    Status,
)
from mailwarden.schemas import ALERTS_SCHEMA, FINDINGS_SCHEMA


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingsFile:
    generated_at: str
    findings: tuple[Finding, ...]
    custodians: Mapping[str, str]  # mailbox -> custodian, from the run's assessments
    tenant: Mapping[str, Any] = field(default_factory=dict)  # the document's "tenant"
    #: The kinds of the run's problems ("missing-source", ...), one per problem.
    problem_kinds: tuple[str, ...] = ()


def _document(path: Path, schema: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise InputError(f"{path}: expected a {schema} document (found schema "
                         f"{data.get('schema') if isinstance(data, dict) else None!r})")
    return data


def load_alerts(path: Path) -> tuple[dict[str, Any], ...]:
    """The alerts of an alerts.json, each checked for the keys notify relies on."""
    data = _document(path, ALERTS_SCHEMA)
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise InputError(f"{path}: 'alerts' must be a list")
    for index, alert in enumerate(alerts):
        missing = [k for k in ("id", "category", "rule_id", "severity")
                   if not isinstance(alert, dict) or not alert.get(k)]
        if missing:
            raise InputError(f"{path}: alert {index + 1} lacks {', '.join(missing)}")
        if alert["severity"] not in {s.value for s in Severity}:
            raise InputError(f"{path}: alert {alert['id']} has unknown severity "
                             f"{alert['severity']!r}")
    return tuple(alerts)


def load_incidents(path: Path) -> tuple[dict[str, Any], ...] | None:
    """The incidents of an alerts.json (None for a document written before incidents),
    each checked for the keys notify relies on."""
    data = _document(path, ALERTS_SCHEMA)
    incidents = data.get("incidents")
    if incidents is None:
        return None
    if not isinstance(incidents, list):
        raise InputError(f"{path}: 'incidents' must be a list")
    for index, incident in enumerate(incidents):
        if (not isinstance(incident, dict) or not incident.get("id")
                or not isinstance(incident.get("alert_ids"), list)):
            raise InputError(f"{path}: incident {index + 1} lacks an id or its alert_ids")
        if Severity.named(incident.get("severity")) is None:
            raise InputError(f"{path}: incident {incident['id']} has unknown severity "
                             f"{incident.get('severity')!r}")
    return tuple(incidents)


def _finding(path: Path, index: int, item: Any) -> Finding:
    try:
        resource = item.get("resource") or {}
        remediation = item.get("remediation") or {}
        upn = resource.get("upn")
        return Finding(
            check_id=str(item["check_id"]), status=Status(item["status"]),
            severity=Severity(item["severity"]),
            resource=Resource(type=Scope(resource.get("type", "mailbox")),
                              upn=upn.lower() if upn else None,
                              kind=MailboxKind(resource["kind"]) if resource.get("kind") else None,
                              display_name=resource.get("display_name"),
                              app_id=resource.get("app_id")),
            message=str(item.get("message") or ""), evidence=item.get("evidence") or {},
            controls=tuple(item.get("controls") or ()),
            remediation=Remediation(
                summary=str(remediation["summary"]),
                powershell=tuple(remediation.get("powershell") or ()),
                graph=tuple(remediation.get("graph") or ()),
                exchange_api=tuple(remediation.get("exchange_api") or ()),
                note=remediation.get("note"),
            ) if remediation.get("summary") else None,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: finding {index + 1} is malformed ({exc!r})") from exc


def load_findings(path: Path) -> FindingsFile:
    data = _document(path, FINDINGS_SCHEMA)
    items = data.get("findings")
    if not isinstance(items, list):
        raise InputError(f"{path}: 'findings' must be a list")
    custodians = {}
    for mailbox in data.get("mailboxes") or ():
        custodian = (mailbox or {}).get("custodian") or {}
        if mailbox.get("upn") and custodian.get("person"):
            custodians[str(mailbox["upn"]).lower()] = str(custodian["person"]).lower()
    return FindingsFile(generated_at=str(data.get("generated_at") or ""),
                        findings=tuple(_finding(path, i, f) for i, f in enumerate(items)),
                        custodians=custodians,
                        tenant=data["tenant"] if isinstance(data.get("tenant"), dict) else {},
                        problem_kinds=tuple(str(p.get("kind")) for p in data.get("problems") or ()
                                            if isinstance(p, dict)))
