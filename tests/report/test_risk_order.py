"""`make_run` (what `report`, `demo` and `watch` build their run with) ranks mailboxes by
the run's alerts, and every renderer shows that one order."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from mailwarden.assess import assess
from mailwarden.model.findings import Severity
from mailwarden.model.run import Run
from mailwarden.report import ReportFormat, make_run, render_reports
from mailwarden.report.html_view import report_context
from tests.report.report_factory import GENERATED, detection, snapshot

BOARDROOM, HR = "boardroom@contoso.com", "hr@contoso.com"


def _run(target: str, severity: Severity = Severity.CRITICAL) -> Run:
    found = detection()
    alert = replace(found.alerts[0], target=target, targets=(target,), severity=severity)
    snap = snapshot()
    return make_run(assess(snap), generated_at=GENERATED, snapshot=snap,
                    detection=replace(found, alerts=(alert,)))


def _orders(run: Run) -> dict[str, list[str]]:
    files = render_reports(run, [ReportFormat.JSON, ReportFormat.MARKDOWN, ReportFormat.HTML])
    context = report_context(run)
    return {
        "json": [m["upn"] for m in json.loads(files["findings.json"])["mailboxes"]],
        "markdown": re.findall(r"^\d+\. \*\*(\S+)\*\*", files["summary.md"], re.MULTILINE),
        "html-riskiest": [item.upn for item in context["riskiest"]],
        "html-table": [row.upn for row in context["rows"]],
        "html-file": re.findall(r'data-rank="\d+" data-upn="([^"]+)"', files["report.html"]),
    }


def test_an_alert_on_the_lower_scoring_mailbox_ranks_it_first_everywhere() -> None:
    run = _run(BOARDROOM)
    boardroom = next(a for a in run.result.assessments if a.upn == BOARDROOM)
    hr = next(a for a in run.result.assessments if a.upn == HR)
    assert boardroom.risk_score < hr.risk_score
    orders = _orders(run)
    assert orders == {name: [BOARDROOM, HR] for name in orders}


def test_a_medium_alert_does_not_reorder() -> None:
    orders = _orders(_run(BOARDROOM, Severity.MEDIUM))
    assert orders == {name: [HR, BOARDROOM] for name in orders}


def test_findings_json_explains_the_rank() -> None:
    files = render_reports(_run(BOARDROOM), [ReportFormat.JSON])
    first = json.loads(files["findings.json"])["mailboxes"][0]
    assert (first["rank"], first["upn"], first["tier"]) == (1, BOARDROOM, "active")
    assert first["evidence"][0]["severity"] == "critical" and first["evidence"][0]["open"]
    effects = {f["effect"] for f in first["risk_factors"]}
    assert {"evidence", "counted"} <= effects
    assert set(first["blast_radius"]) == {"delegates", "external", "roles"}
