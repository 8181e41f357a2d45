"""`mailwarden doctor` as README.md says to run it: a process against the emulator served on
loopback, with nothing injected.

The emulator grants Graph application permissions through the token's `roles` claim
(client credentials: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference)
and refuses a read the token does not grant with Graph's 403 `Authorization_RequestDenied`
(https://github.com/BakkerJan/M365Portal/issues/1); exit code 3 is "sign-in or permission
problem" (SPEC section 8).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.served_emulator import ServedEmulator, mailwarden, served_emulator

#: Everything collect reads with, except User.Read.All (and Directory.Read.All, which
#: would grant users too).
WITHOUT_USERS = ("GroupMember.Read.All,RoleManagement.Read.Directory,Policy.Read.All,"
                 "AuditLog.Read.All,User-LifeCycleInfo.Read.All,OrgContact.Read.All")


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedEmulator]:
    with served_emulator(tmp_path_factory.mktemp("everything")) as running:
        yield running


@pytest.fixture(scope="module")
def no_users(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedEmulator]:
    with served_emulator(tmp_path_factory.mktemp("no-users"),
                         options=["--graph-permissions", WITHOUT_USERS]) as running:
        yield running


def _json(served: ServedEmulator) -> tuple[int, dict[str, Any]]:
    done = mailwarden("doctor", *served.connection(), "--format", "json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_with_everything_granted_every_source_is_ok_and_it_exits_0(
    everything: ServedEmulator,
) -> None:
    code, document = _json(everything)
    assert code == 0 and document["exit_code"] == 0
    assert document["schema"] == "mailwarden.doctor/1"
    statuses = {s["source"]: s["status"] for s in document["sources"]}
    assert set(statuses.values()) == {"ok"}, statuses
    assert {"graph/users", "exo/Get-Mailbox", "exo/Get-InboxRule"} <= set(statuses)
    assert "User.Read.All" in document["tokens"]["graph"]["permissions"]
    assert document["tokens"]["exchange"]["permissions"] == ["Exchange.ManageAsApp"]

    table = mailwarden("doctor", *everything.connection())
    assert table.returncode == 0, table.stderr
    assert "graph/users" in table.stdout and "readable" in table.stdout
    assert "emulator-secret" not in table.stdout + table.stderr


def test_a_token_without_a_permission_exits_3_and_names_it(no_users: ServedEmulator) -> None:
    code, document = _json(no_users)
    assert code == 3 and document["exit_code"] == 3
    users = next(s for s in document["sources"] if s["source"] == "graph/users")
    assert users["status"] == "missing-permission"
    assert users["grant"] == "User.Read.All"
    assert "Authorization_RequestDenied" in users["detail"]
    others = {s["source"]: s["status"] for s in document["sources"]
              if s["source"] != "graph/users"}
    assert others["graph/groups"] == "ok" and others["exo/Get-InboxRule"] == "ok"

    table = mailwarden("doctor", *no_users.connection(), "--format", "table")
    assert table.returncode == 3
    line = next(ln for ln in table.stdout.splitlines() if ln.startswith("graph/users:"))
    assert line == "graph/users: missing-permission: grant User.Read.All"


def test_without_a_credential_it_says_so_and_exits_2(everything: ServedEmulator,
                                                     tmp_path: Path) -> None:
    done = mailwarden("doctor", *everything.connection(), secret=False)
    assert done.returncode == 2
    assert "MAILWARDEN_CLIENT_SECRET" in done.stderr


def test_the_help_lists_its_exit_codes() -> None:
    done = mailwarden("doctor", "--help")
    assert done.returncode == 0
    for code in ("0", "2", "3", "4"):
        assert f" {code} " in " ".join(done.stdout.split())


def _statuses(document: dict[str, Any]) -> dict[str, str]:
    return {s["source"]: s["status"] for s in document["sources"]}


@pytest.mark.parametrize(("profile", "limited"), [
    # No Entra ID P1: signInActivity and the registration report are refused with
    # Authentication_RequestFromNonPremiumTenantOrB2CTenant, PIM eligibility with
    # AadPremiumLicenseRequired (microsoftgraph/microsoft-graph-docs-contrib#3033, maester#1421).
    ("business-basic", {"graph/users", "graph/userRegistrationDetails",
                        "graph/roleEligibilitySchedules"}),
    # P1 without P2: only PIM eligibility is refused.
    ("e3", {"graph/roleEligibilitySchedules"}),
    ("e5", set()),
])
def test_each_licence_profile_shows_its_limitations_and_a_licence_alone_exits_0(
    tmp_path: Path, profile: str, limited: set[str],
) -> None:
    with served_emulator(tmp_path, options=["--profile", profile]) as served:
        code, document = _json(served)
    statuses = _statuses(document)
    assert code == 0 and document["exit_code"] == 0, statuses
    assert {s for s, status in statuses.items() if status == "licence"} == limited, statuses
    assert {status for s, status in statuses.items() if s not in limited} == {"ok"}, statuses


def test_a_view_only_exchange_role_exits_3_and_names_the_role_to_add(tmp_path: Path) -> None:
    """Get-InboxRule "doesn't work for members of View-Only Organization Management role
    group" (office-docs-powershell, Get-InboxRule.md); Get-RecipientPermission answers
    "User is not allowed to call" (office-docs-powershell#7365, #9428)."""
    with served_emulator(tmp_path, options=[
            "--exchange-role", "view-only-organization-management"]) as served:
        code, document = _json(served)
    statuses = _statuses(document)
    assert code == 3, statuses
    for source in ("exo/Get-InboxRule", "exo/Get-RecipientPermission"):
        found = next(s for s in document["sources"] if s["source"] == source)
        assert found["status"] == "missing-role", found
        assert "Exchange Recipient Administrator" in found["grant"], found
    assert statuses["exo/Get-Mailbox"] == "ok" and statuses["graph/users"] == "ok"
