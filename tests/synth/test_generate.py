"""Determinism, sizes and proportions."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailwarden.errors import ConfigError
from mailwarden.synth import (
    COLLECTED_AT,
    SyntheticTenant,
    generate,
    user_count,
    write_synthetic,
)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    write_synthetic(generate("small", seed=5), tmp_path / "a")
    write_synthetic(generate("small", seed=5), tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second
    assert "graph/users.json" in first and "planted.json" in first


def test_same_seed_is_identical_across_processes(tmp_path: Path) -> None:
    """String hashing differs per process; nothing may depend on set or hash order."""
    script = ("import sys; from pathlib import Path; "
              "from mailwarden.synth import generate, write_synthetic; "
              "write_synthetic(generate('small', seed=9), Path(sys.argv[1]))")
    for name, hash_seed in (("a", "1"), ("b", "2")):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_different_seed_gives_a_different_tenant(tmp_path: Path) -> None:
    write_synthetic(generate("small", seed=5), tmp_path / "a")
    write_synthetic(generate("small", seed=6), tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first.keys() == second.keys()
    assert first["graph/users.json"] != second["graph/users.json"]
    assert first["planted.json"] != second["planted.json"]


@pytest.mark.parametrize(("size", "users"), [
    ("small", 200), ("medium", 5_000), ("large", 50_000), (1_234, 1_234), (" 900 ", 900),
])
def test_sizes(size: str | int, users: int) -> None:
    assert user_count(size) == users


@pytest.mark.parametrize("size", ["huge", "", 10, -5, True, 2.5])
def test_bad_sizes_say_what_to_use(size: Any) -> None:
    with pytest.raises(ConfigError, match=r"small|at least"):
        user_count(size)


def _mailbox_kinds(tenant: SyntheticTenant) -> Counter[str]:
    return Counter(row["RecipientTypeDetails"] for row in tenant.recorded.data["exo/Get-Mailbox"])


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_proportions(fixture: str, request: pytest.FixtureRequest) -> None:
    tenant: SyntheticTenant = request.getfixturevalue(fixture)
    users = tenant.recorded.data["graph/users"]
    total = len(users)
    assert total == user_count(tenant.size)
    kinds = _mailbox_kinds(tenant)
    assert abs(kinds["SharedMailbox"] - total / 20) <= 1  # one per ~20 users
    assert kinds["RoomMailbox"] >= 2 and kinds["EquipmentMailbox"] >= 1
    assert 1 <= kinds["SchedulingMailbox"] <= 2
    assert kinds["DiscoveryMailbox"] == 1
    members = [u for u in users if u["userType"] == "Member" and u["assignedLicenses"]]
    assert len(members) > total * 0.75
    guests = [u for u in users if u["userType"] == "Guest"]
    assert 0.02 * total <= len(guests) <= 0.06 * total
    assert all("#EXT#" in g["userPrincipalName"] for g in guests)
    leavers = [u for u in users if u["employeeLeaveDateTime"]]
    assert all(not u["accountEnabled"] for u in leavers)
    recent = [u for u in leavers
              if _when(u["employeeLeaveDateTime"]) > COLLECTED_AT - timedelta(days=90)]
    assert recent and len(recent) < len(leavers)  # some left recently, some long ago
    unlicensed_mailboxes = [
        row for row in tenant.recorded.data["exo/Get-Mailbox"]
        if row["RecipientTypeDetails"] == "UserMailbox"
        and not next(u for u in users if u["id"] == row["ExternalDirectoryObjectId"])[
            "assignedLicenses"]
    ]
    assert unlicensed_mailboxes


def test_most_resource_accounts_are_blocked(medium: SyntheticTenant) -> None:
    users = {u["id"]: u for u in medium.recorded.data["graph/users"]}
    rows = [r for r in medium.recorded.data["exo/Get-Mailbox"]
            if r["RecipientTypeDetails"] in {"SharedMailbox", "RoomMailbox", "EquipmentMailbox"}]
    enabled = [r for r in rows if users[r["ExternalDirectoryObjectId"]]["accountEnabled"]]
    assert 0 < len(enabled) < len(rows) / 2


def test_protocols_are_mixed(medium: SyntheticTenant) -> None:
    cas = medium.recorded.data["exo/Get-CASMailbox"]
    for field in ("ImapEnabled", "PopEnabled", "EwsEnabled", "ActiveSyncEnabled"):
        values = Counter(row[field] for row in cas)
        assert values[True] > values[False] > 0
    smtp = Counter(row["SmtpClientAuthenticationDisabled"] for row in cas)
    assert smtp[None] > smtp[True] > 0 and smtp[False] > 0


@pytest.mark.slow
def test_large_tenant_counts(large: SyntheticTenant) -> None:
    tenant = large
    assert len(tenant.recorded.data["graph/users"]) == 50_000
    kinds = _mailbox_kinds(tenant)
    assert kinds["SharedMailbox"] == 2_500
    assert len(tenant.planted.clean) > 100
