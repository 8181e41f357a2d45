"""Accepted findings in every format: findings.json, SARIF (suppressions, schema-valid),
OCSF (Suppressed, schema-valid), CSV, Markdown and HTML (an Exceptions section); and drift,
where a failure that is accepted now is "accepted", never "fixed"."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator

from mailwarden.assess import assess
from mailwarden.model.exceptions import FindingException
from mailwarden.model.run import FindingChangeKind, Run
from mailwarden.report import ReportFormat, make_run, render_reports
from mailwarden.store.diff import diff
from mailwarden.store.history import facts_of, run_ref
from tests.report.report_factory import GENERATED, snapshot

SCHEMAS = Path(__file__).parent / "schemas"


def _schema(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def _exception(check: str, mailbox: str | None, expires: date, **extra: str
               ) -> FindingException:
    return FindingException(check=check, mailbox=mailbox, reason=f"<b>{check}</b> accepted",
                            owner="it-ops@contoso.com", expires=expires,
                            origin="exc.yaml:3", **extra)


EXCEPTIONS = (
    _exception("imap-enabled", "hr@contoso.com", date(2027, 6, 30), ticket="CHG-42"),
    _exception("sign-in-enabled", "hr@contoso.com", date(2026, 10, 1)),  # expired
    _exception("no-custodian", "board*@contoso.com", date(2026, 11, 10)),  # expiring
    _exception("pop-enabled", "nobody@contoso.com", date(2027, 6, 30)),  # matches nothing
)


def _run() -> Run:
    snap = snapshot()
    result = assess(snap, exceptions=EXCEPTIONS, at=GENERATED)
    return make_run(result, generated_at=GENERATED, snapshot=snap)


def test_findings_json_holds_the_status_and_the_exception() -> None:
    document = json.loads(render_reports(_run(), [ReportFormat.JSON])["findings.json"])
    by_key = {(f["check_id"], f["resource"]["upn"]): f for f in document["findings"]}
    imap = by_key[("imap-enabled", "hr@contoso.com")]
    assert imap["status"] == "accepted"
    assert imap["exception"]["reason"] == "<b>imap-enabled</b> accepted"
    assert (imap["exception"]["owner"], imap["exception"]["expires"],
            imap["exception"]["ticket"], imap["exception"]["expired"]) == (
        "it-ops@contoso.com", "2027-06-30", "CHG-42", False)
    sign_in = by_key[("sign-in-enabled", "hr@contoso.com")]
    assert sign_in["status"] == "fail" and sign_in["exception"]["expired"] is True
    summary = document["summary"]
    assert summary["statuses"]["accepted"] == 2
    assert summary["exceptions"]["expired"] == 1 and summary["exceptions"]["expiring"] == 1
    assert summary["exceptions"]["unused"] == 1
    states = {e["check"]: (e["state"], e["matched"]) for e in document["exceptions"]}
    assert states["no-custodian"] == ("expiring", ["no-custodian boardroom@contoso.com"])
    assert states["pop-enabled"] == ("active", [])
    hr = next(m for m in document["mailboxes"] if m["upn"] == "hr@contoso.com")
    assert "imap-enabled" in hr["accepted"] and "imap-enabled" not in hr["failing"]


def test_sarif_suppresses_the_accepted_result_and_stays_valid() -> None:
    document = json.loads(render_reports(_run(), [ReportFormat.SARIF])["findings.sarif"])
    assert list(Draft4Validator(_schema("sarif-schema-2.1.0.json")).iter_errors(document)) == []
    results = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r
               for r in document["runs"][0]["results"]}
    imap = results[("imap-enabled", "hr@contoso.com")]
    assert imap["kind"] == "fail" and imap["properties"]["status"] == "accepted"
    assert imap["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "<b>imap-enabled</b> accepted",
        "properties": {"owner": "it-ops@contoso.com", "expires": "2027-06-30",
                       "ticket": "CHG-42", "origin": "exc.yaml:3"}}]
    expired = results[("sign-in-enabled", "hr@contoso.com")]
    assert "suppressions" not in expired and expired["properties"]["exception"]["expired"]


def test_ocsf_marks_the_accepted_finding_suppressed_and_failing() -> None:
    events = json.loads(render_reports(_run(), [ReportFormat.OCSF])["ocsf.json"])
    validator = Draft7Validator(_schema("ocsf-1.3.0-compliance_finding.json"))
    compliance = [e for e in events if e["class_uid"] == 2003]
    for event in compliance:
        assert list(validator.iter_errors(event)) == []
    by_key = {(e["compliance"]["control"], e["resources"][0]["name"]): e for e in compliance}
    imap = by_key[("imap-enabled", "hr@contoso.com")]
    assert (imap["status_id"], imap["status"]) == (3, "Suppressed")
    assert (imap["compliance"]["status_id"], imap["compliance"]["status"]) == (3, "Fail")
    assert imap["unmapped"]["exception"]["owner"] == "it-ops@contoso.com"
    expired = by_key[("sign-in-enabled", "hr@contoso.com")]
    assert (expired["status_id"], expired["compliance"]["status_id"]) == (1, 3)


def test_csv_markdown_and_html_show_accepted_and_the_exceptions() -> None:
    reports = render_reports(_run(), [ReportFormat.CSV, ReportFormat.MARKDOWN,
                                      ReportFormat.HTML])
    rows = list(csv.DictReader(io.StringIO(reports["findings.csv"])))
    imap = next(r for r in rows if r["check_id"] == "imap-enabled"
                and r["upn"] == "hr@contoso.com")
    assert (imap["status"], imap["exception_owner"], imap["exception_expires"],
            imap["exception_ticket"]) == ("accepted", "it-ops@contoso.com", "2027-06-30",
                                          "CHG-42")
    sign_in = next(r for r in rows if r["check_id"] == "sign-in-enabled"
                   and r["upn"] == "hr@contoso.com")
    assert (sign_in["status"], sign_in["exception_expires"]) == ("fail", "2026-10-01 (expired)")

    summary = reports["summary.md"]
    section = summary[summary.index("## Exceptions"):summary.index("## Alerts")]
    expired = section[section.index("### Expired"):section.index("### Expiring")]
    assert "sign-in-enabled" in expired and "expired 32 days ago" in expired
    expiring = section[section.index("### Expiring within 14 days"):
                       section.index("### Matching no")]
    assert "board\\*@contoso.com" in expiring and "8 days left" in expiring
    assert "pop-enabled" in section[section.index("### Matching no"):
                                    section.index("### Active")]
    assert "2 failing findings accepted by an exception" in summary

    html = reports["report.html"]
    assert '<section id="exceptions">' in html and 'id="count-accepted">2<' in html
    assert "&lt;b&gt;imap-enabled&lt;/b&gt; accepted" in html and "<b>imap" not in html
    assert "(+1 accepted)" in html


def test_a_failure_accepted_since_the_last_run_is_accepted_not_fixed() -> None:
    snap = snapshot()
    before = make_run(assess(snap), generated_at=GENERATED, snapshot=snap)
    after = _run()
    drift = diff(facts_of(before, run_ref(before, 1)), facts_of(after, run_ref(after, 2)))
    accepted = drift.findings_of(FindingChangeKind.ACCEPTED)
    assert {(c.check_id, c.upn) for c in accepted} == {
        ("imap-enabled", "hr@contoso.com"), ("no-custodian", "boardroom@contoso.com")}
    assert drift.findings_of(FindingChangeKind.FIXED) == ()
    back = diff(facts_of(after, run_ref(after, 2)), facts_of(before, run_ref(before, 3)))
    assert {c.kind for c in back.findings} == {FindingChangeKind.REGRESSED}
