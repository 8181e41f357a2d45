"""The compliance roll-up: findings gathered per benchmark control, and its renderings.

`roll_up` is pure. A finding counts towards the controls it names: its check's mapping in
the catalogue, narrowed to the mailbox kinds a control speaks of (CIS 1.2.2: shared
mailboxes; 6.1.2: user mailboxes) and by the check where one finding does not speak to a
control (a mailbox's own SMTP AUTH setting is not the organisation's). A findings.json
that names controls this catalogue does not know (written before a mapping was corrected)
rolls up by its checks' mappings today.

Scope: mailwarden judges the ownerless mailboxes, so a control's pass means every finding
mailwarden makes for it passed; where the benchmark's own audit looks wider, the control's
`coverage` says how.

A control's status, worst first:
- fail: any finding behind it failed;
- error: none failed, but one could not be judged (its input was missing): never a pass;
- accepted: the only failures are covered by an unexpired exception;
- pass: every finding behind it passed;
- not_applicable: nothing in the tenant is in its scope (no finding, or only
  not_applicable ones, e.g. 1.2.2 in a tenant without shared mailboxes).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mailwarden.model.controls import (
    FRAMEWORK_NAMES,
    Control,
    Framework,
    applicable,
    control,
    framework_controls,
)
from mailwarden.model.findings import CheckInfo, Finding, Status
from mailwarden.model.inventory import TenantInfo
from mailwarden.model.run import Run
from mailwarden.report.csv_report import safe_cell

SCHEMA = "mailwarden.compliance/1"
#: The order counts are shown in; also the order of precedence of a control's status.
COUNTED = (Status.FAIL, Status.ERROR, Status.ACCEPTED, Status.PASS, Status.NOT_APPLICABLE)
#: The frameworks reports show a roll-up for.
REPORTED = (Framework.CIS_M365, Framework.SCUBA)


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlResult:
    control: Control
    status: Status
    checks: tuple[str, ...]  # the checks mapped to the control
    findings: tuple[Finding, ...]  # every finding that counts towards it

    def count(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status is status)

    @property
    def counts(self) -> dict[str, int]:
        return {status.value: self.count(status) for status in COUNTED}

    @property
    def open(self) -> tuple[Finding, ...]:
        """The findings that keep the control from passing: failed, error, accepted."""
        return tuple(f for f in self.findings
                     if f.status in (Status.FAIL, Status.ERROR, Status.ACCEPTED))


def control_status(findings: Iterable[Finding]) -> Status:
    statuses = {f.status for f in findings}
    for status in COUNTED:
        if status in statuses:
            return status
    return Status.NOT_APPLICABLE


def _speaks_to(finding: Finding, checks: Mapping[str, CheckInfo]) -> tuple[str, ...]:
    """The controls a finding counts towards: those it names, when the catalogue knows them
    all; else (a findings file of another catalogue version) its check's mapping today."""
    if all(control(ref) is not None for ref in finding.controls):
        return finding.controls
    info = checks.get(finding.check_id)
    return applicable(info.controls, finding.resource.kind) if info else ()


def roll_up(
    findings: Sequence[Finding], checks: Sequence[CheckInfo], framework: Framework
) -> tuple[ControlResult, ...]:
    """One result per control of the framework that a check maps to, in catalogue order."""
    by_check = {info.id: info for info in checks}
    rows = []
    for entry in framework_controls(framework):
        mapped = tuple(info.id for info in checks if entry.ref in info.controls)
        if not mapped:
            continue
        behind = tuple(f for f in findings if entry.ref in _speaks_to(f, by_check))
        rows.append(ControlResult(control=entry, status=control_status(behind), checks=mapped,
                                  findings=behind))
    return tuple(rows)


def status_summary(rows: Sequence[ControlResult]) -> dict[str, int]:
    """How many controls have each status."""
    return {status.value: sum(1 for r in rows if r.status is status) for status in COUNTED}


def _resource(finding: Finding) -> str:
    return finding.resource.upn or "tenant"


def _finding_dict(finding: Finding) -> dict[str, Any]:
    resource = finding.resource
    return {
        "check_id": finding.check_id,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "resource": {"type": resource.type.value, "upn": resource.upn,
                     "kind": resource.kind.value if resource.kind else None},
        "message": finding.message,
    }


def row_dict(row: ControlResult) -> dict[str, Any]:
    entry = row.control
    return {
        "framework": entry.framework.value,
        "id": entry.id,
        "ref": entry.ref,
        "title": entry.title,
        "source": entry.source,
        "coverage": entry.coverage or None,
        "status": row.status.value,
        "checks": list(row.checks),
        "counts": row.counts,
        "findings": [_finding_dict(f) for f in row.findings],
    }


def tenant_dict(tenant: TenantInfo) -> dict[str, Any]:
    return {"id": tenant.tenant_id, "display_name": tenant.display_name,
            "default_domain": tenant.default_domain}


def compliance_document(
    rows: Sequence[ControlResult], framework: Framework, *, tenant: Mapping[str, Any],
    as_of: str | None,
) -> dict[str, Any]:
    """`as_of`: when the tenant was read (or the findings file written), ISO 8601."""
    return {
        "schema": SCHEMA,
        "framework": {"id": framework.value, "name": FRAMEWORK_NAMES[framework]},
        "tenant": {key: tenant.get(key) for key in ("id", "display_name", "default_domain")},
        "as_of": as_of,
        "summary": status_summary(rows),
        "controls": [row_dict(row) for row in rows],
    }


def render_json(rows: Sequence[ControlResult], framework: Framework, *,
                tenant: Mapping[str, Any], as_of: str | None) -> str:
    document = compliance_document(rows, framework, tenant=tenant, as_of=as_of)
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("framework", "control", "title", "status", *(s.value for s in COUNTED),
               "checks", "open_findings", "coverage", "source")


def csv_rows(rows: Sequence[ControlResult]) -> list[list[str]]:
    """One line per control; open_findings lists "status check upn" for each finding that
    keeps it from passing."""
    out = []
    for row in rows:
        entry = row.control
        behind = "; ".join(f"{f.status.value} {f.check_id} {_resource(f)}" for f in row.open)
        out.append([entry.framework.value, entry.id, entry.title, row.status.value,
                    *(str(row.count(s)) for s in COUNTED), " ".join(row.checks), behind,
                    entry.coverage, entry.source])
    return out


def render_csv(rows: Sequence[ControlResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([safe_cell(cell) for cell in line] for line in csv_rows(rows))
    return buffer.getvalue()


def run_rows(run: Run) -> tuple[tuple[Framework, tuple[ControlResult, ...]], ...]:
    """The roll-up of a run for every framework the reports show."""
    result = run.result
    return tuple((fw, roll_up(result.findings, result.checks, fw)) for fw in REPORTED)


def render_run_csv(run: Run) -> str:
    """compliance.csv: the roll-up of every reported framework, one line per control."""
    return render_csv(tuple(row for _, rows in run_rows(run) for row in rows))
