"""A dormant grant (dormant-delegate) gets a removal in the plan: one per grant, by its
trustee as Exchange wrote it, with "dormant since" its last use as the reason; a grant both
stale and dormant is removed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailwarden.model.findings import Status
from mailwarden.model.findings.evidence import DormantGrants, evidence_of
from mailwarden.pipeline import Scan, scan_directory
from mailwarden.remediate.model import ActionKind, ExoCall
from mailwarden.synth import generate, write_synthetic
from tests.remediate.remediate_helpers import plan_for

CHECK = "dormant-delegate"


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    directory = tmp_path_factory.mktemp("dormant") / "tenant"
    write_synthetic(generate("small", seed=0), directory)
    return scan_directory(Path(directory))


def test_every_dormant_grant_has_exactly_one_removal(scan: Scan) -> None:
    plan = plan_for(scan)
    removals = [a for a in plan.actions if a.kind is ActionKind.REMOVE_DELEGATE]
    skipped = {s.upn for s in plan.skipped}
    dormant = [f for f in scan.result.findings
               if f.check_id == CHECK and f.status is Status.FAIL and f.resource.upn not in skipped]
    assert dormant
    ids = [a.id for a in removals]
    assert len(ids) == len(set(ids)), "a grant both stale and dormant is removed once"
    by_grant = {(a.upn, str(a.detail["right"]), str(a.detail["trustee"]).lower()): a
                for a in removals}
    for finding in dormant:
        for grant in evidence_of(finding, DormantGrants).dormant:
            action = by_grant[(finding.resource.upn or "", grant.right, grant.trustee.lower())]
            (call,) = action.calls
            assert isinstance(call, ExoCall) and grant.trustee in str(call.parameters)
            if CHECK in action.check_ids:
                (reason,) = action.reasons
                assert "not used in the last 90 days" in reason.message
                if grant.last_used:
                    assert f"dormant since {grant.last_used[:10]}" in reason.message
    assert any(CHECK in a.check_ids for a in removals)


def test_dormant_removals_can_be_planned_alone(scan: Scan) -> None:
    plan = plan_for(scan, checks=(CHECK,))
    assert plan.actions and {a.kind for a in plan.actions} == {ActionKind.REMOVE_DELEGATE}
    assert all(a.check_ids == (CHECK,) for a in plan.actions)
