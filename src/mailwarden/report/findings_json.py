"""findings.json (SPEC section 8): a pure renderer of a `ScanResult`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from mailwarden.assess.risk import ranked
from mailwarden.model.exceptions import ExceptionsReport, ExceptionUse, FindingException
from mailwarden.model.findings import (
    ActiveEvidence,
    AttackPath,
    Custodian,
    Finding,
    MailboxAssessment,
    Problem,
    RiskFactor,
    ScanResult,
    Status,
)
from mailwarden.model.inventory import TenantInfo
from mailwarden.model.run import Run
from mailwarden.schemas import FINDINGS_SCHEMA
from mailwarden.times import iso


def _plain(value: Any) -> Any:
    """Evidence as JSON values: datetimes in ISO 8601 UTC, enums by value, tuples as lists."""
    if value is None or isinstance(value, str | int | float | bool):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


#: Evidence as JSON-ready values, for the other renderers.
plain_value = _plain


def _tenant(tenant: TenantInfo) -> dict[str, Any]:
    return {
        "id": tenant.tenant_id,
        "display_name": tenant.display_name,
        "default_domain": tenant.default_domain,
        "verified_domains": list(tenant.verified_domains),
        "collected_at": iso(tenant.collected_at) if tenant.collected_at else None,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    resource = finding.resource
    return {
        "check_id": finding.check_id,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "resource": {
            "type": resource.type.value,
            "upn": resource.upn.lower() if resource.upn else None,
            "kind": resource.kind.value if resource.kind else None,
            "display_name": resource.display_name,
            **({"app_id": resource.app_id} if resource.app_id else {}),
        },
        "message": finding.message,
        "evidence": _plain(finding.evidence),
        "controls": list(finding.controls),
        "remediation": finding.remediation.as_dict() if finding.remediation else {},
        **({"exception": {**exception_dict(finding.exception),
                          "expired": finding.status is not Status.ACCEPTED}}
           if finding.exception is not None else {}),
    }


def exception_dict(exception: FindingException) -> dict[str, Any]:
    """An exception as every JSON document shows it."""
    return {
        "check": exception.check,
        "mailbox": exception.mailbox,
        "reason": exception.reason,
        "owner": exception.owner,
        "expires": exception.expires.isoformat(),
        "ticket": exception.ticket,
        "source": exception.source.value,
        "origin": exception.origin,
        "id": exception.id,
        "created_at": iso(exception.created_at) if exception.created_at else None,
        "created_by": exception.created_by,
    }


def _use(use: ExceptionUse) -> dict[str, Any]:
    return {**exception_dict(use.exception), "state": use.state.value,
            "days_left": use.days_left, "matched": list(use.matched)}


def exceptions_summary(report: ExceptionsReport | None) -> dict[str, Any] | None:
    """Counts of the run's exceptions by what they did; None when the run had none."""
    if report is None:
        return None
    return {"active": len(report.active), "expiring": len(report.expiring),
            "expired": len(report.expired), "unused": len(report.unused),
            "expiring_within_days": report.warn_days, "judged_at": iso(report.at)}


def _custodian(custodian: Custodian | None) -> dict[str, Any] | None:
    if custodian is None:
        return None
    return {
        "person": custodian.person,
        "team": custodian.team,
        "source": custodian.source.value,
        "reason": custodian.reason,
    }


def _path(path: AttackPath) -> dict[str, Any]:
    return {
        "title": path.title,
        "severity": path.severity.value,
        "steps": list(path.steps),
        "text": path.text,
    }


def _factor(factor: RiskFactor) -> dict[str, Any]:
    return {
        "effect": factor.effect.value,
        "name": factor.name,
        "severity": factor.severity.value if factor.severity else None,
        "detail": factor.detail,
    }


def _evidence(evidence: ActiveEvidence) -> dict[str, Any]:
    return {
        "source": evidence.source,
        "category": evidence.category,
        "severity": evidence.severity.value,
        "summary": evidence.summary,
        "open": evidence.open,
        "active": evidence.active,
        "first_seen": iso(evidence.first_seen) if evidence.first_seen else None,
        "last_seen": iso(evidence.last_seen) if evidence.last_seen else None,
        "refs": list(evidence.refs),
    }


def _mailbox(rank: int, item: MailboxAssessment) -> dict[str, Any]:
    return {
        "rank": rank,
        "upn": item.upn,
        "kind": item.kind.value,
        "display_name": item.display_name,
        "tier": item.tier.value,
        "risk_score": item.risk_score,
        "risk_factors": [_factor(f) for f in item.factors],
        "evidence": [_evidence(e) for e in item.evidence],
        "blast_radius": {
            "delegates": item.blast.delegates,
            "external": item.blast.external,
            "roles": item.blast.roles,
        },
        "failing": list(item.failing),
        "accepted": list(item.accepted),
        "errors": list(item.errors),
        "attack_paths": [_path(p) for p in item.attack_paths],
        "custodian": _custodian(item.custodian),
    }


def _problem(problem: Problem) -> dict[str, Any]:
    return {
        "kind": problem.kind.value,
        "source": problem.source,
        "subject": problem.subject,
        "detail": problem.detail,
    }


def findings_document(result: ScanResult, generated_at: datetime) -> dict[str, Any]:
    """findings.json as a JSON-ready dict."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    return {
        "schema": FINDINGS_SCHEMA,
        "tenant": _tenant(result.tenant),
        "generated_at": iso(generated_at),
        "summary": {
            "statuses": result.status_counts(),
            "mailboxes": dict(result.mailbox_counts),
            "ownerless": len(result.inventory),
            "checks": [info.id for info in result.checks],
            "exceptions": exceptions_summary(result.exceptions),
        },
        "findings": [_finding(f) for f in result.findings],
        # In risk order, the order the terminal and the HTML report show (rank 1 first).
        "mailboxes": [
            _mailbox(rank, a) for rank, a in enumerate(ranked(result.assessments), start=1)
        ],
        "problems": [_problem(p) for p in result.problems],
        # Each exception the run applied, with its state and the findings it matched.
        "exceptions": [_use(u) for u in result.exceptions.uses] if result.exceptions else [],
    }


def render_findings_json(result: ScanResult, generated_at: datetime) -> str:
    """findings.json's text. Pure: the caller writes it (0600: it holds personal data)."""
    return json.dumps(findings_document(result, generated_at), ensure_ascii=False) + "\n"


def render(run: Run) -> str:
    """findings.json for a `Run`."""
    return render_findings_json(run.result, run.generated_at)
