"""findings.json: SPEC section 8's shape, exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mailwarden.report.findings_json import render_findings_json
from mailwarden.schemas import FINDINGS_SCHEMA as SCHEMA
from tests.assess.assess_factory import HR, hardened, run, with_account

GENERATED = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def document() -> dict[str, object]:
    result = run(with_account(hardened(), "hr", account_enabled=True))
    return json.loads(render_findings_json(result, GENERATED))  # type: ignore[no-any-return]


def test_top_level_keys_and_values() -> None:
    doc = document()
    assert doc["schema"] == SCHEMA == "mailwarden.findings/1"
    assert doc["generated_at"] == "2026-11-02T08:30:00Z"
    tenant = doc["tenant"]
    assert isinstance(tenant, dict)
    assert tenant["default_domain"] == "contoso.com"
    assert tenant["collected_at"] == "2026-11-01T00:00:00Z"
    assert isinstance(doc["findings"], list) and doc["findings"]


def test_every_finding_has_the_contract_keys() -> None:
    findings = document()["findings"]
    assert isinstance(findings, list)
    required = {
        "check_id",
        "status",
        "severity",
        "resource",
        "message",
        "evidence",
        "controls",
        "remediation",
    }
    for item in findings:
        assert required <= set(item)
        assert item["status"] in {"pass", "fail", "error", "not_applicable"}
        assert item["severity"] in {"critical", "high", "medium", "low", "info"}
        resource = item["resource"]
        assert resource["type"] in {"mailbox", "tenant"}
        if resource["type"] == "mailbox":
            assert resource["upn"] == resource["upn"].lower()
            assert resource["kind"] in {
                "shared",
                "room",
                "equipment",
                "scheduling",
                "unlicensed-user",
            }
        else:
            assert resource["upn"] is None
        assert isinstance(item["evidence"], dict) and isinstance(item["controls"], list)
        assert isinstance(item["remediation"], dict)


def test_a_failure_carries_its_bound_remediation() -> None:
    findings = document()["findings"]
    assert isinstance(findings, list)
    sign_in = next(
        f for f in findings if f["check_id"] == "sign-in-enabled" and f["resource"]["upn"] == HR
    )
    assert sign_in["status"] == "fail"
    assert (
        "Update-MgUser -UserId 'hr@contoso.com' -AccountEnabled:$false"
        in sign_in["remediation"]["powershell"]
    )
    assert sign_in["controls"] == ["CIS M365 6.0.0 1.2.2"]


def test_mailboxes_and_summary_are_extra_keys() -> None:
    doc = document()
    mailboxes = doc["mailboxes"]
    assert isinstance(mailboxes, list) and mailboxes[0]["upn"] == HR
    summary = doc["summary"]
    assert isinstance(summary, dict) and summary["statuses"]["fail"] >= 1


def test_generated_at_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_findings_json(run(hardened()), datetime(2026, 11, 2))
