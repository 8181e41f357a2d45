"""Findings about applications (one per app, tenant-scoped) keep apart in every format:
their own SARIF fingerprint and location, OCSF uid and resource, CSV row, findings.json
app_id, HTML remediation target, and history key."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from jsonschema import Draft7Validator

from mailwarden.assess import assess
from mailwarden.model.run import Run
from mailwarden.report import ReportFormat, render_reports
from mailwarden.report.build import make_run
from mailwarden.report.html_view import remediation_groups
from mailwarden.store.history import facts_of, run_ref
from mailwarden.synth import generate
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.report.report_factory import GENERATED

CHECK = "app-mail-access-unscoped"
SCHEMAS = Path(__file__).parent / "schemas"


def _run() -> Run:
    snapshot = snapshot_from_recorded(generate("small", seed=1).recorded)
    return make_run(assess(snapshot), generated_at=GENERATED, snapshot=snapshot)


def test_each_application_is_its_own_result_in_every_format() -> None:
    run = _run()
    apps = [f for f in run.result.findings if f.check_id == CHECK]
    ids = {f.resource.app_id for f in apps}
    assert len(apps) == len(ids) == 5 and None not in ids
    reports = render_reports(run, list(ReportFormat))

    results = [
        r
        for r in json.loads(reports["findings.sarif"])["runs"][0]["results"]
        if r["ruleId"] == CHECK
    ]
    failing = {f.resource.app_id for f in apps if f.failed}
    assert len(failing) == 3  # SARIF holds the results that fail or could not be judged
    assert len({r["partialFingerprints"]["mailwardenFinding/v1"] for r in results}) == 3
    names = {r["locations"][0]["logicalLocations"][0]["name"] for r in results}
    assert all(any(str(app_id) in name for name in names) for app_id in failing)

    events = [
        e
        for e in json.loads(reports["ocsf.json"])
        if e.get("finding_info", {}).get("types") == [CHECK]
    ]
    assert len({e["finding_info"]["uid"] for e in events}) == len(events) >= 3
    assert {e["resources"][0]["type"] for e in events} == {"application"}
    schema = json.loads((SCHEMAS / "ocsf-1.3.0-compliance_finding.json").read_text("utf-8"))
    validator = Draft7Validator(schema)
    assert [e.message for event in events for e in validator.iter_errors(event)] == []

    document = json.loads(reports["findings.json"])
    listed = [f for f in document["findings"] if f["check_id"] == CHECK]
    assert {f["resource"]["app_id"] for f in listed} == ids
    assert all(f["resource"]["type"] == "tenant" for f in listed)

    rows = [
        r for r in csv.DictReader(io.StringIO(reports["findings.csv"])) if r["check_id"] == CHECK
    ]
    assert {r["display_name"] for r in rows} == {f.resource.display_name for f in apps}

    (group,) = [
        g for g in remediation_groups(run.result.findings, run.result.checks) if g.check_id == CHECK
    ]
    assert all(label.startswith("application ") for label in group.mailboxes)
    assert "<html" in reports["report.html"].lower()

    stored = facts_of(run, run_ref(run)).findings
    assert {key for (check, key) in stored if check == CHECK} == {f"app:{i}" for i in ids}
