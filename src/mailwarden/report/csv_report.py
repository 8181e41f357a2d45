"""findings.csv: one row per finding, for spreadsheets. An accepted finding has status
`accepted` and its exception's reason, owner, expiry and ticket in the last columns.

Tenant strings are attacker-controlled and spreadsheets run formulas, so a cell that
would start a formula is prefixed with an apostrophe (the usual CSV-injection guard).
"""

from __future__ import annotations

import csv
import io
import json

from mailwarden.model.findings import Finding, Status
from mailwarden.model.run import Run
from mailwarden.report.findings_json import plain_value
from mailwarden.times import iso

COLUMNS = (
    "generated_at",
    "tenant",
    "check_id",
    "status",
    "severity",
    "resource_type",
    "upn",
    "kind",
    "display_name",
    "message",
    "controls",
    "remediation",
    "powershell",
    "evidence",
    "exception_reason",
    "exception_owner",
    "exception_expires",
    "exception_ticket",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _row(finding: Finding, generated_at: str, tenant: str) -> list[str]:
    resource = finding.resource
    remediation = finding.remediation
    return [
        generated_at,
        tenant,
        finding.check_id,
        finding.status.value,
        finding.severity.value,
        resource.type.value,
        resource.upn or "",
        resource.kind.value if resource.kind else "",
        resource.display_name or "",
        finding.message,
        "; ".join(finding.controls),
        remediation.summary if remediation else "",
        "\n".join(remediation.powershell) if remediation else "",
        json.dumps(plain_value(finding.evidence), sort_keys=True, ensure_ascii=False),
        *_exception(finding),
    ]


def _exception(finding: Finding) -> list[str]:
    """The exception accepting the finding; on a failure, the expired one that no longer
    does (its expiry date says why the finding fails again)."""
    exception = finding.exception
    if exception is None:
        return ["", "", "", ""]
    expired = "" if finding.status is Status.ACCEPTED else " (expired)"
    return [exception.reason, exception.owner, exception.expires.isoformat() + expired,
            exception.ticket or ""]


def render(run: Run) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    generated_at = iso(run.generated_at)
    tenant = run.tenant.default_domain or run.tenant.tenant_id
    for finding in run.result.findings:
        writer.writerow([safe_cell(cell) for cell in _row(finding, generated_at, tenant)])
    return buffer.getvalue()
