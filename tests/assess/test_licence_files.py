"""The licence defects, shown on recorded-tenant files alone (what a collection of a real
tenant writes), so that each test reads the same on any version of the code:

- security defaults on, no conditional access: legacy authentication is blocked ("After
  security defaults are enabled in your tenant, all authentication requests made by an
  older protocol will be blocked": MicrosoftDocs/entra-docs,
  docs/fundamentals/security-defaults.md), so `legacy-auth-not-blocked` must not fail and
  nothing is sprayable;
- users collected without signInActivity because the tenant has no Entra ID P1
  (limitations.json): `direct-sign-in-observed` cannot pass;
- an ownerless account eligible for a role through PIM (a `unifiedRoleEligibilitySchedule`,
  shaped as the v1.0 "List roleEligibilitySchedules" example) is privileged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailwarden.assess import assess
from mailwarden.model.findings import ScanResult, Status
from mailwarden.synth import generate, write_synthetic
from mailwarden.tenant.snapshot import load_snapshot

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("licence") / "tenant"
    write_synthetic(generate("small", seed=7), directory)
    return directory


def copy(source: Path, target: Path, **changes: Any) -> Path:
    """The recorded tenant at `source` with some files replaced (None: deleted)."""
    for path in source.rglob("*.json"):
        relative = path.relative_to(source)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(path.read_bytes())
    for name, value in changes.items():
        path = target / (name.replace("__", "/") + ".json")
        if value is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value), encoding="utf-8")
    return target


def scan(directory: Path) -> ScanResult:
    return assess(load_snapshot(directory))


def statuses(result: ScanResult, check_id: str) -> dict[str | None, Status]:
    return {f.resource.upn: f.status for f in result.findings if f.check_id == check_id}


def users(directory: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (directory / "graph" / "users.json").read_text(encoding="utf-8"))
    return data


def test_security_defaults_block_legacy_authentication(written: Path, tmp_path: Path) -> None:
    policy = {"id": "00000000-0000-0000-0000-000000000005", "displayName": "Security Defaults",
              "description": "Security defaults is a set of basic identity security mechanisms "
              "recommended by Microsoft.", "isEnabled": True}
    before = scan(written)
    assert Status.FAIL in statuses(before, "legacy-auth-not-blocked").values()
    assert any(p.title == "Password spray without MFA"
               for a in before.assessments for p in a.attack_paths)
    directory = copy(written, tmp_path, graph__securityDefaults=policy,
                     graph__conditionalAccessPolicies=[])
    result = scan(directory)
    legacy = statuses(result, "legacy-auth-not-blocked")
    assert legacy and set(legacy.values()) == {Status.PASS}
    assert not any(p.title == "Password spray without MFA"
                   for a in result.assessments for p in a.attack_paths)


def test_users_without_sign_in_activity_never_pass_direct_sign_in(
    written: Path, tmp_path: Path
) -> None:
    stripped = [{k: v for k, v in u.items() if k != "signInActivity"} for u in users(written)]
    directory = copy(written, tmp_path, graph__users=stripped, limitations={
        "graph/users.signInActivity": {"reason": "needs Entra ID P1 (signInActivity)"}})
    found = [f for f in scan(directory).findings if f.check_id == "direct-sign-in-observed"]
    assert found and {f.status for f in found} == {Status.ERROR}
    assert all("needs Entra ID P1 (signInActivity)" in f.message for f in found)


def test_an_eligible_role_makes_an_ownerless_account_privileged(
    written: Path, tmp_path: Path
) -> None:
    before = statuses(scan(written), "privileged-account")
    upn = sorted(u for u, s in before.items() if s is Status.PASS)[0]
    account = next(u for u in users(written) if u["userPrincipalName"].lower() == upn)
    schedule = {
        "id": "77f71919-62f3-4d0c-9f88-0a0391b665cd", "principalId": account["id"],
        "roleDefinitionId": GLOBAL_ADMIN, "directoryScopeId": "/", "appScopeId": None,
        "createdUsing": "77f71919-62f3-4d0c-9f88-0a0391b665cd",
        "createdDateTime": "2026-04-12T14:44:50.287Z", "modifiedDateTime": None,
        "status": "Provisioned", "memberType": "Direct",
        "scheduleInfo": {"startDateTime": "2026-04-12T14:44:50.287Z", "recurrence": None,
                         "expiration": {"type": "noExpiration", "endDateTime": None,
                                        "duration": None}},
    }
    directory = copy(written, tmp_path, graph__roleEligibilitySchedules=[schedule])
    after = statuses(scan(directory), "privileged-account")
    assert after[upn] is Status.FAIL
    # Not readable (a tenant without Entra ID P2): no role on record is not a pass.
    unread = copy(written, tmp_path / "unread", graph__roleEligibilitySchedules=None)
    assert statuses(scan(unread), "privileged-account")[upn] is Status.ERROR
