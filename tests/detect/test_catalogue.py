"""The rule catalogue and the alerts.json contract."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailwarden.detect import (
    CATEGORIES,
    DetectContext,
    DetectOptions,
    OwnerlessAccount,
    alerts_document,
    detect_files,
    list_rules,
    render_alerts_json,
)
from mailwarden.detect.alerts import alert_id
from mailwarden.errors import InputError
from tests.detect.detect_factory import at, run, signin, upn

SPEC_CATEGORIES = {
    "password-spray", "brute-force", "ownerless-sign-in", "legacy-protocol-auth",
    "leaver-access", "malicious-inbox-rule", "external-forwarding-set",
    "mailbox-permission-change", "non-owner-access", "mass-send", "password-reset",
    "sign-in-unblocked", "audit-tampering",
}
TESTS = Path(__file__).parent


def test_every_category_has_a_rule_and_ids_are_unique() -> None:
    rules = list_rules()
    assert set(CATEGORIES) == SPEC_CATEGORIES
    assert {rule.category for rule in rules} == SPEC_CATEGORIES
    assert len({rule.id for rule in rules}) == len(rules)


def test_rules_are_documented_and_bind_their_thresholds() -> None:
    for rule in list_rules():
        assert rule.title and rule.description and rule.summary and rule.mitre, rule.id
        assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", t) for t in rule.mitre), rule.id
        used = set(re.findall(r"\$([a-z_]+)", rule.sql))
        declared = {t.name for t in rule.thresholds} | {"evidence_limit"}
        assert used <= declared, (rule.id, used - declared)
        assert {t.name for t in rule.thresholds} <= used, rule.id
        assert all(t.doc for t in rule.thresholds), rule.id


def test_every_rule_is_exercised_by_a_test() -> None:
    text = "".join(path.read_text() for path in TESTS.glob("test_rules_*.py"))
    missing = [rule.id for rule in list_rules() if f'"{rule.id}"' not in text
               and rule.category != "password-spray"]
    assert missing == []
    for spray in ("spray-ip", "spray-network", "spray-user-agent"):
        assert spray in text


def test_alert_ids_are_stable_and_distinct() -> None:
    window = datetime(2026, 3, 2, tzinfo=UTC)
    assert alert_id("r", "a@x", None, window) == alert_id("r", "a@x", None, window)
    assert alert_id("r", "a@x", None, window) != alert_id("r", "b@x", None, window)
    assert alert_id("r", "a@x", "k", window) != alert_id("r", "a@x", None, window)


def test_alerts_document_follows_the_contract(tmp_path: Path) -> None:
    hr = upn("hr")
    context = DetectContext(ownerless=(OwnerlessAccount(upn=hr),))
    result = run(tmp_path, context, signins=[signin(at(0), hr, "[2001:db8::1]:99", 0,
                                                     client="POP3")])
    generated = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    document = json.loads(render_alerts_json(result, generated))
    assert document["schema"] == "mailwarden.alerts/1"
    assert document["generated_at"] == "2026-03-03T08:00:00Z"
    [alert] = [a for a in document["alerts"] if a["rule_id"] == "ownerless-sign-in"]
    assert set(alert) >= {"id", "category", "rule_id", "severity", "target", "targets",
                          "source_ips", "first_seen", "last_seen", "event_count", "summary",
                          "evidence"}
    assert alert["target"] == hr and alert["severity"] == "critical"
    assert alert["source_ips"] == ["2001:db8::1"] and alert["first_seen"] == "2026-03-02T09:00:00Z"
    assert alert["evidence"][0]["client_app"] == "POP3"
    assert alert["evidence"][0]["source_row"] == 1
    assert document["inputs"][0]["rows"] == 1
    assert {r["rule_id"] for r in document["rules"]} == {r.id for r in list_rules()}
    assert alerts_document(result, generated)["alerts"][0]["id"] == document["alerts"][0]["id"]
    with pytest.raises(ValueError, match="timezone"):
        alerts_document(result, datetime(2026, 3, 3))


def test_the_same_alert_from_two_files_is_reported_once(tmp_path: Path) -> None:
    hr = upn("hr")
    context = DetectContext(ownerless=(OwnerlessAccount(upn=hr),))
    record = signin(at(0), hr, "203.0.113.5", 0)
    first = tmp_path / "a.jsonl"
    second = tmp_path / "b.json"
    first.write_text(json.dumps(record) + "\n")
    second.write_text(json.dumps([signin(at(5), hr, "203.0.113.6", 0)]))
    result = detect_files([first, second], context)
    [alert] = [a for a in result.alerts if a.rule_id == "ownerless-sign-in"]
    assert alert.event_count == 2 and alert.source_ips == ("203.0.113.5", "203.0.113.6")
    assert {e["source_file"] for e in alert.evidence} == {str(first), str(second)}


def test_threshold_overrides_and_rule_selection(tmp_path: Path) -> None:
    records = [signin(at(n), f"user{n}", "203.0.113.9", 50126) for n in range(5)]
    assert run(tmp_path, DetectContext(), signins=records).alerts == ()
    result = run(tmp_path, DetectContext(), signins=records, rules=["spray-ip"],
                 thresholds={"spray-ip": {"min_accounts": 5}})
    assert [a.rule_id for a in result.alerts] == ["spray-ip"]
    assert [r.rule_id for r in result.rule_runs] == ["spray-ip"]
    with pytest.raises(InputError, match="unknown rule"):
        detect_files([], DetectContext(), options=DetectOptions(rules=["nope"]))
