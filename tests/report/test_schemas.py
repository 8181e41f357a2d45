"""SARIF and OCSF output validated against their schemas (vendored in schemas/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft7Validator

from mailwarden.report import ReportFormat, render_reports
from tests.report.report_factory import small_run

SCHEMAS = Path(__file__).parent / "schemas"


def _schema(name: str) -> Any:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def _errors(validator: Any, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_sarif_is_valid_sarif_2_1_0() -> None:
    schema = _schema("sarif-schema-2.1.0.json")
    Draft4Validator.check_schema(schema)
    document = json.loads(render_reports(small_run(), [ReportFormat.SARIF])["findings.sarif"])
    assert _errors(Draft4Validator(schema), document) == []
    results = document["runs"][0]["results"]
    kinds = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r["kind"]
             for r in results}
    assert kinds[("imap-enabled", "hr@contoso.com")] == "fail"
    assert kinds[("hiding-inbox-rule", "hr@contoso.com")] == "open"  # input missing
    assert all(r["kind"] in ("fail", "open") for r in results)
    # One result per incident, its alerts with it.
    (incident,) = [r for r in results if r["ruleId"].startswith("incident/")]
    assert incident["ruleId"] == "incident/ownerless-sign-in" and incident["level"] == "error"
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert rules[incident["ruleIndex"]]["id"] == "incident/ownerless-sign-in"
    assert [a["id"] for a in incident["properties"]["alerts"]] == ["a1b2c3d4e5f6a7b8c9d0"]
    assert incident["partialFingerprints"]["mailwardenIncident/v1"].startswith("inc-")


def test_sarif_schema_rejects_a_broken_log() -> None:
    validator = Draft4Validator(_schema("sarif-schema-2.1.0.json"))
    assert _errors(validator, {"version": "2.1.0", "runs": [{"results": []}]})


def test_ocsf_and_sarif_hold_one_result_per_incident_of_several_alerts() -> None:
    run = small_run(with_alerts=True, second_alert=True)
    assert len(run.alerts) == 2 and len(run.incidents) == 1
    reports = render_reports(run, [ReportFormat.OCSF, ReportFormat.SARIF])
    events = [e for e in json.loads(reports["ocsf.json"]) if e["class_uid"] == 2004]
    validator = Draft7Validator(_schema("ocsf-1.3.0-detection_finding.json"))
    (event,) = events
    assert _errors(validator, event) == []
    assert len(event["evidences"]) == 2 and event["count"] == 3
    document = json.loads(reports["findings.sarif"])
    assert _errors(Draft4Validator(_schema("sarif-schema-2.1.0.json")), document) == []
    (result,) = [r for r in document["runs"][0]["results"]
                 if r["ruleId"].startswith("incident/")]
    assert len(result["properties"]["alerts"]) == 2


@pytest.mark.parametrize("with_alerts", [True, False])
def test_ocsf_events_are_valid(with_alerts: bool) -> None:
    events = json.loads(render_reports(small_run(with_alerts=with_alerts),
                                       [ReportFormat.OCSF])["ocsf.json"])
    validators = {
        2003: Draft7Validator(_schema("ocsf-1.3.0-compliance_finding.json")),
        2004: Draft7Validator(_schema("ocsf-1.3.0-detection_finding.json")),
    }
    for event in events:
        assert _errors(validators[event["class_uid"]], event) == [], event["finding_info"]
    classes = [event["class_uid"] for event in events]
    assert classes.count(2004) == (1 if with_alerts else 0)
    for event in (e for e in events if e["class_uid"] == 2004):
        # A finding per incident, with its alerts as evidence.
        assert event["finding_info"]["uid"].startswith("inc-")
        assert [e["data"]["id"] for e in event["evidences"]] == ["a1b2c3d4e5f6a7b8c9d0"]
    failed = [e for e in events if e["class_uid"] == 2003 and e["compliance"]["status_id"] == 3]
    assert {(e["compliance"]["control"], e["resources"][0]["name"]) for e in failed} >= {
        ("imap-enabled", "hr@contoso.com"), ("stale-delegate", "hr@contoso.com")}


def test_ocsf_schema_rejects_a_missing_required_attribute() -> None:
    events = json.loads(render_reports(small_run(), [ReportFormat.OCSF])["ocsf.json"])
    event = dict(events[0])
    del event["compliance"]
    validator = Draft7Validator(_schema("ocsf-1.3.0-compliance_finding.json"))
    assert any("compliance" in message for message in _errors(validator, event))
