"""Conditional-access remediation end to end: the command line as a subprocess against the
emulator on loopback HTTPS. The fix takes the ownerless accounts out of the existing
policy's exclusions (one PATCH per policy, never one policy per mailbox), rollback puts
the exact exclusion list back, a tenant without a legacy-auth block gets exactly one
report-only policy that excludes the break-glass account, and an app without
Policy.ReadWrite.ConditionalAccess is refused as Graph refuses it."""

from __future__ import annotations

import copy
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailwarden.emulator import DEFAULT_CLIENT_SECRET, EmulatorConfig, Served, serve_in_thread
from mailwarden.emulator.app import emulator_of
from mailwarden.emulator.permissions import ALL_GRAPH_PERMISSIONS
from mailwarden.remediate.journal import EntryStatus, FileJournal
from mailwarden.tenant.recorded import RecordedTenant, write_recorded_tenant
from tests.remediate.remediate_helpers import small, tenant_id

POLICIES = "graph/conditionalAccessPolicies"
GROUP_NAME = "Legacy Auth Exceptions"
LEGACY_BLOCKS = ("Block legacy authentication", "Block legacy authentication - old")


def _breakglass() -> dict[str, Any]:
    users = small().recorded.data["graph/users"]
    return next(u for u in users if u["userPrincipalName"].startswith("breakglass"))


def _direct_exclusions() -> RecordedTenant:
    """The synthetic tenant with the exception group's members excluded by id instead."""
    data = copy.deepcopy(dict(small().recorded.data))
    group = next(g for g in data["graph/groups"] if g["displayName"] == GROUP_NAME)
    members = [m["id"] for m in data["graph/groupMembers"][group["id"]]]
    for policy in data[POLICIES]:
        if policy["displayName"] == LEGACY_BLOCKS[0]:
            users = policy["conditions"]["users"]
            users["excludeUsers"] = [*users["excludeUsers"], *members]
            users["excludeGroups"] = []
    return RecordedTenant(data=data)


def _no_legacy_block() -> RecordedTenant:
    data = copy.deepcopy(dict(small().recorded.data))
    data[POLICIES] = [p for p in data[POLICIES] if p["displayName"] not in LEGACY_BLOCKS]
    return RecordedTenant(data=data)


@pytest.fixture
def env() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MAILWARDEN_")}
    return {**environ, "MAILWARDEN_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}


@pytest.fixture
def serve() -> Iterator[Any]:
    def start(tenant: RecordedTenant, config: EmulatorConfig | None = None) -> Served:
        served = serve_in_thread(tenant, **({"config": config} if config else {}))
        running.append(served.__enter__())
        return running[-1]

    running: list[Served] = []
    yield start
    for served in running:
        gc.collect()
        time.sleep(0.1)
        served.__exit__(None, None, None)


def mailwarden(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def recorded(tenant: RecordedTenant, directory: Path) -> list[str]:
    """Findings from the recorded copy of what the emulator serves: the commands skip a
    live collection (the rescan that reads the change is the emulator's own state)."""
    write_recorded_tenant(directory, tenant)
    return ["--from-dir", str(directory), "--force"]


def connection(served: Served) -> list[str]:
    base = served.base_url
    return ["--tenant", tenant_id(), "--client-id", "ca-test", "--login-url", base,
            "--graph-url", base, "--exo-url", base, "--ca-bundle", str(served.ca_file)]


def policies(served: Served) -> list[dict[str, Any]]:
    return [dict(p) for p in emulator_of(served.app).state.rows(POLICIES)]


def policy(served: Served, name: str) -> dict[str, Any]:
    return next(p for p in policies(served) if p["displayName"] == name)


def test_the_fix_takes_the_accounts_out_of_the_policy_and_rollback_puts_them_back(
    serve: Any, env: dict[str, str], tmp_path: Path
) -> None:
    tenant = _direct_exclusions()
    served = serve(tenant)
    found = recorded(tenant, tmp_path / "tenant")
    journal = tmp_path / "journal"
    before = policy(served, LEGACY_BLOCKS[0])["conditions"]["users"]
    breakglass = _breakglass()
    common = ["--check", "legacy-auth-not-blocked", "--journal-dir", str(journal), *found,
              "--break-glass", breakglass["userPrincipalName"], *connection(served)]

    applied = mailwarden(env, "remediate", "apply", "--yes", *common)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    (run_id,) = FileJournal(journal).run_ids()
    run = FileJournal(journal).load(run_id)
    (removal,) = run.actions  # one change for the policy, whatever the number of mailboxes
    assert removal.kind.value == "ca-remove-exclusion"
    removed = set(removal.detail["remove"])
    assert len(removed) >= 3

    after = policy(served, LEGACY_BLOCKS[0])["conditions"]["users"]
    assert after["excludeUsers"] == [u for u in before["excludeUsers"] if u not in removed]
    assert breakglass["id"] in after["excludeUsers"]  # never taken out
    assert after["includeUsers"] == before["includeUsers"] == ["All"]
    assert [p["displayName"] for p in policies(served)].count(LEGACY_BLOCKS[0]) == 1
    (entry,) = run.entries.values()
    assert entry.status is EntryStatus.APPLIED
    assert entry.prior is not None
    assert entry.prior["users"]["excludeUsers"] == before["excludeUsers"]

    rolled = mailwarden(env, "remediate", "rollback", run_id, "--yes", "--journal-dir",
                        str(journal), *connection(served))
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    restored = policy(served, LEGACY_BLOCKS[0])["conditions"]["users"]
    assert restored["excludeUsers"] == before["excludeUsers"]


def test_a_tenant_without_a_block_gets_one_report_only_policy_sparing_break_glass(
    serve: Any, env: dict[str, str], tmp_path: Path
) -> None:
    tenant = _no_legacy_block()
    served = serve(tenant)
    count = len(policies(served))
    breakglass = _breakglass()
    journal = tmp_path / "journal"
    applied = mailwarden(env, "remediate", "apply", "--yes", "--check",
                         "legacy-auth-not-blocked", "--journal-dir", str(journal),
                         *recorded(tenant, tmp_path / "tenant"),
                         "--break-glass", breakglass["userPrincipalName"], *connection(served))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    created = policies(served)[count:]
    assert len(created) == 1
    (made,) = created
    assert made["state"] == "enabledForReportingButNotEnforced"
    assert made["conditions"]["users"]["includeUsers"] == ["All"]
    assert made["conditions"]["users"]["excludeUsers"] == [breakglass["id"]]
    assert made["grantControls"]["builtInControls"] == ["block"]
    assert set(made["conditions"]["clientAppTypes"]) == {"exchangeActiveSync", "other"}

    (run_id,) = FileJournal(journal).run_ids()
    rolled = mailwarden(env, "remediate", "rollback", run_id, "--yes", "--journal-dir",
                        str(journal), *connection(served))
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert len(policies(served)) == count


def test_without_break_glass_the_plan_warns_and_still_creates_report_only(
    env: dict[str, str], tmp_path: Path
) -> None:
    planned = mailwarden(env, "remediate", "plan", "--format", "json", "--check",
                         "legacy-auth-not-blocked", *recorded(_no_legacy_block(), tmp_path))
    assert planned.returncode == 0, planned.stderr
    assert "no break-glass account is configured" in " ".join(planned.stderr.split())
    (action,) = json.loads(planned.stdout)["actions"]
    assert action["calls"][0]["body"]["state"] == "enabledForReportingButNotEnforced"


def test_an_unknown_break_glass_account_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    planned = mailwarden(env, "remediate", "plan", "--check", "legacy-auth-not-blocked",
                         "--break-glass", "nobody@example.com",
                         *recorded(_no_legacy_block(), tmp_path))
    assert planned.returncode == 2
    assert "nobody@example.com" in planned.stderr and "Traceback" not in planned.stderr


def test_without_the_conditional_access_write_permission_graph_refuses(
    serve: Any, env: dict[str, str], tmp_path: Path
) -> None:
    tenant = _direct_exclusions()
    served = serve(tenant, EmulatorConfig(graph_permissions=ALL_GRAPH_PERMISSIONS))
    before = policy(served, LEGACY_BLOCKS[0])["conditions"]["users"]
    applied = mailwarden(env, "remediate", "apply", "--yes", "--check",
                         "legacy-auth-not-blocked", "--journal-dir", str(tmp_path / "journal"),
                         *recorded(tenant, tmp_path / "tenant"), *connection(served))
    assert applied.returncode == 5
    journal = FileJournal(tmp_path / "journal")
    (entry,) = journal.load(journal.run_ids()[0]).entries.values()
    assert entry.status is EntryStatus.FAILED
    assert "403" in (entry.error or "") and "Policy.ReadWrite.ConditionalAccess" in (
        entry.error or "")
    assert policy(served, LEGACY_BLOCKS[0])["conditions"]["users"] == before
