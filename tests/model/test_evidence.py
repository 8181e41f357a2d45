"""Typed evidence: what the checks write reads back the same, from memory or from a
findings.json, and evidence that lacks what is needed is a typed error that says what."""

from __future__ import annotations

import dataclasses
import functools
import json

import pytest

from mailwarden.model.findings import Finding, Status
from mailwarden.model.findings.evidence import (
    EvidenceError,
    ExternalForwarding,
    HidingInboxRules,
    MissingAuditActions,
    StaleDelegates,
    TypedEvidence,
    evidence_of,
)
from mailwarden.pipeline import scan_snapshot
from mailwarden.report.findings_json import plain_value
from mailwarden.synth import generate
from mailwarden.tenant.snapshot import snapshot_from_recorded

TYPES: tuple[type[TypedEvidence], ...] = (
    MissingAuditActions, StaleDelegates, ExternalForwarding, HidingInboxRules,
)


@functools.cache
def findings() -> tuple[Finding, ...]:
    return scan_snapshot(snapshot_from_recorded(generate("small", seed=0).recorded)).result.findings


def failing(kind: type[TypedEvidence]) -> list[Finding]:
    found = [f for f in findings() if f.check_id == kind.CHECK_ID and f.status is Status.FAIL]
    assert found, kind.CHECK_ID
    return found


def as_json(finding: Finding) -> Finding:
    """The finding as read back from findings.json: lists for tuples, plain values."""
    return dataclasses.replace(
        finding, evidence=json.loads(json.dumps(plain_value(finding.evidence)))
    )


@pytest.mark.parametrize("kind", TYPES, ids=lambda k: k.CHECK_ID)
def test_the_evidence_a_check_writes_reads_back_the_same(kind: type[TypedEvidence]) -> None:
    for finding in failing(kind):
        parsed = evidence_of(finding, kind)
        assert evidence_of(as_json(finding), kind) == parsed
        written = parsed.as_evidence()
        assert {k: finding.evidence[k] for k in written} == written


def test_the_parsed_values_say_what_the_builders_need() -> None:
    audit = evidence_of(failing(MissingAuditActions)[0], MissingAuditActions)
    assert audit.gaps and all(g.audit_list.startswith("Audit") and g.actions for g in audit.gaps)
    stale = [evidence_of(f, StaleDelegates) for f in failing(StaleDelegates)]
    assert any(p.direct for s in stale for p in s.stale)
    assert any(not p.direct for s in stale for p in s.stale)
    forwarding = [evidence_of(f, ExternalForwarding) for f in failing(ExternalForwarding)]
    assert {"ForwardingSmtpAddress"} <= {e.where for f in forwarding for e in f.external}
    hiding = evidence_of(failing(HidingInboxRules)[0], HidingInboxRules)
    assert all(r.identity for r in hiding.rules)


@pytest.mark.parametrize(
    ("kind", "evidence", "key"),
    [
        (MissingAuditActions, {}, "missing"),
        (MissingAuditActions, {"missing": ["Send"]}, "missing"),
        (MissingAuditActions, {"missing": {"AuditOwner": "Send"}}, "AuditOwner"),
        (StaleDelegates, {"orphaned": []}, "stale"),
        (StaleDelegates, {"stale": [{"upn": "a@b.c"}]}, "via"),
        (ExternalForwarding, {"external": [{"where": "ForwardingSmtpAddress"}]}, "address"),
        (HidingInboxRules, {"rules": 3}, "rules"),
        (HidingInboxRules, {"rules": [{"rule": "x"}]}, "identity"),
    ],
)
def test_evidence_that_lacks_what_is_needed_is_a_typed_error(
    kind: type[TypedEvidence], evidence: dict[str, object], key: str
) -> None:
    finding = dataclasses.replace(failing(kind)[0], evidence=evidence)
    with pytest.raises(EvidenceError, match=f"'{key}'") as caught:
        evidence_of(finding, kind)
    assert caught.value.check_id == kind.CHECK_ID and caught.value.key == key
    assert caught.value.upn and caught.value.upn in str(caught.value)
    assert "scan the tenant again" in str(caught.value)


def test_reading_a_finding_as_another_check_s_evidence_is_a_bug() -> None:
    with pytest.raises(ValueError, match="no StaleDelegates evidence"):
        evidence_of(failing(MissingAuditActions)[0], StaleDelegates)
