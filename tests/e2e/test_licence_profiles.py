"""Each licence profile of the synthetic tenant, scanned read offline and collected through
the emulator (which refuses what the licences do not cover, with Graph's published
bodies), finds exactly its planted truth: the planted failures, the planted `error`
verdicts with their reasons, the licence limitations as problems, and nothing else.

What the profiles rest on: Microsoft Entra security defaults block legacy authentication
(MicrosoftDocs/entra-docs, docs/fundamentals/security-defaults.md); signInActivity and the
registration report need Entra ID P1 (403 Authentication_RequestFromNonPremiumTenantOrB2CTenant,
microsoftgraph/microsoft-graph-docs-contrib issues 3033, 3808); PIM eligibility needs P2
(400 AadPremiumLicenseRequired, maester365/maester issue 1421).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mailwarden.assess import assess, load_custodians
from mailwarden.emulator import create_app, emulator_of
from mailwarden.model.findings import ProblemKind, ScanResult, Status
from mailwarden.model.inventory import SIGN_IN_ACTIVITY, Snapshot
from mailwarden.synth import generate, write_synthetic
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import load_snapshot, snapshot_from_recorded
from tests.emulator.emulator_helpers import collect_from
from tests.support.served_emulator import emulator_process

PROFILES = ("mixed", "business-basic", "e3", "e5")


#: Judged from the audit log, which these scans do not read (tests/assess/test_synthetic.py
#: and tests/cli/test_dormant_cli.py check it): without it every grant is `error`.
FROM_LOGS = "dormant-delegate"


def verdicts(result: ScanResult, planted: dict[str, Any]) -> None:
    want = {(row["check_id"], row["upn"]) for row in planted["planted"]}
    got = {(f.check_id, f.resource.upn) for f in result.findings if f.status is Status.FAIL}
    assert sorted(want - got, key=str) == [], "planted but not found"
    assert sorted(got - want, key=str) == [], "found but not planted"
    clean = set(planted["clean"])
    assert clean and not [c for c in got if c[1] in clean]
    errors = {(f.check_id, f.resource.upn): f for f in result.findings
              if f.status is Status.ERROR and f.check_id != FROM_LOGS}
    planted_errors = {(row["check_id"], row["upn"]): row["detail"]
                      for row in planted.get("errors", [])}
    # Errors are the licence's ("errors") and those the data cannot decide ("unknown").
    undecided = {(row["check_id"], row["upn"]) for row in planted.get("unknown", [])}
    assert sorted(set(errors) ^ (set(planted_errors) | undecided), key=str) == []
    for key, reason in planted_errors.items():
        assert reason in errors[key].message, (key, errors[key].message)
    limitations = planted.get("limitations", {})
    assert {(p.kind, p.source, p.detail) for p in result.problems} == {
        (ProblemKind.LICENCE_LIMITATION, source, reason) for source, reason in limitations.items()
    }


def collected(recorded: RecordedTenant) -> RecordedTenant:
    app = create_app(recorded)
    tenant = str(recorded.data["tenant"]["tenantId"])
    result = collect_from(app, tenant)
    stats = emulator_of(app).stats.as_dict()
    for service in ("graph", "exchange"):
        assert stats["services"][service]["requests"] == stats["necessary"][service], service
    return result


def comparable(snapshot: Snapshot) -> Snapshot:
    tenant = dataclasses.replace(snapshot.tenant, collected_at=None)
    return dataclasses.replace(snapshot, tenant=tenant)


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_finds_exactly_its_planted_truth_offline_and_collected(
    profile: str, tmp_path: Path
) -> None:
    tenant = generate("small", seed=7, profile=profile)
    directory = tmp_path / profile
    write_synthetic(tenant, directory)
    planted = json.loads((directory / "planted.json").read_text(encoding="utf-8"))
    custodians = load_custodians(directory / "custodians.csv")
    offline = load_snapshot(directory)
    verdicts(assess(offline, custodians=custodians), planted)

    recorded = collected(tenant.recorded)
    assert recorded.errors == {}
    assert recorded.limitations == tenant.recorded.limitations
    online = snapshot_from_recorded(recorded)
    assert comparable(online) == comparable(offline)
    verdicts(assess(online, custodians=custodians), planted)


def test_the_profiles_differ_where_the_licences_do() -> None:
    truth = {p: generate("small", seed=7, profile=p).planted for p in PROFILES}

    def checks(profile: str, check_id: str) -> set[str | None]:
        return {f.upn for f in truth[profile].findings if f.check_id == check_id}

    # The same people and mailboxes under every profile.
    assert {p: truth[p].clean for p in PROFILES} == dict.fromkeys(PROFILES, truth["mixed"].clean)
    # Security defaults block legacy authentication; sign-ins and MFA are unknown.
    assert checks("mixed", "legacy-auth-not-blocked") and not checks(
        "business-basic", "legacy-auth-not-blocked")
    assert checks("mixed", "direct-sign-in-observed") and not checks(
        "business-basic", "direct-sign-in-observed")
    assert checks("e3", "legacy-auth-not-blocked") == checks("mixed", "legacy-auth-not-blocked")
    # PIM: e5 plants eligible-only ownerless accounts; e3 cannot see them either way.
    assert checks("e3", "privileged-account") == checks("mixed", "privileged-account")
    extra = checks("e5", "privileged-account") - checks("mixed", "privileged-account")
    assert len(extra) == 2
    assert all("(eligible)" in f.detail for f in truth["e5"].findings
               if f.check_id == "privileged-account" and f.upn in extra)
    assert not truth["mixed"].errors and not truth["e5"].errors
    assert {f.check_id for f in truth["e3"].errors} == {"privileged-account"}
    assert {f.check_id for f in truth["business-basic"].errors} == {
        "direct-sign-in-observed", "no-mfa-on-enabled-account", "privileged-account"}


def mailwarden(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailwarden", *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )


def test_the_command_line_collects_a_business_basic_tenant_with_its_limitations(
    tmp_path: Path,
) -> None:
    """synth --profile and emulator --synthetic --profile describe the same tenant; collect
    records the limitations (not failures) and says so."""
    written = tmp_path / "A"
    done = mailwarden("synth", "--size", "small", "--seed", "5", "--profile", "business-basic",
                      "--out", str(written))
    assert done.returncode == 0, done.stderr
    planted = json.loads((written / "planted.json").read_text(encoding="utf-8"))
    assert planted["profile"] == "business-basic"
    assert planted["limitations"][SIGN_IN_ACTIVITY] == "needs Entra ID P1 (signInActivity)"
    ca_file = tmp_path / "ca.pem"
    out = tmp_path / "B"
    env = {**os.environ, "MAILWARDEN_CLIENT_SECRET": "emulator-secret"}
    tenant_id = load_snapshot(written).tenant.tenant_id
    served = ["--synthetic", "small", "--seed", "5", "--profile", "business-basic"]
    with emulator_process(served, ca_file) as base_url:
        done = mailwarden(
            "collect", "--tenant", tenant_id, "--client-id", "licence-test",
            "--login-url", base_url, "--graph-url", base_url, "--exo-url", base_url,
            "--ca-bundle", str(ca_file), "--out", str(out), "--quiet", env=env,
        )
    assert done.returncode == 0, done.stderr
    assert "licence limitation: graph/users.signInActivity" in done.stderr
    assert not (out / "errors.json").exists()
    limitations = json.loads((out / "limitations.json").read_text(encoding="utf-8"))
    assert set(limitations) == set(planted["limitations"])
    assert comparable(load_snapshot(out)) == comparable(load_snapshot(written))
