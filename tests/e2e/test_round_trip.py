"""The whole collect path through the real command line: a synthetic tenant written to
disk, served by `mailwarden emulator` on loopback HTTPS, collected by `mailwarden collect`
(MSAL, Graph, Exchange), and read back into the same snapshot."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailwarden.model.inventory import Snapshot
from mailwarden.tenant.snapshot import load_snapshot
from tests.support.served_emulator import emulator_process
from tests.support.synthetic import write_tenant


def mailwarden(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailwarden", *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """One emulator for the module: its tests only read the tenant it serves."""
    tmp_path = tmp_path_factory.mktemp("served")
    tenant_dir = tmp_path / "A"
    write_tenant(tenant_dir, "small", seed=5)
    ca_file = tmp_path / "ca.pem"
    with emulator_process(["--tenant-dir", str(tenant_dir)], ca_file) as base_url:
        yield tenant_dir, base_url, ca_file


def without_collection_time(snapshot: Snapshot) -> Snapshot:
    tenant = dataclasses.replace(snapshot.tenant, collected_at=None)
    return dataclasses.replace(snapshot, tenant=tenant)


def test_collecting_the_emulated_tenant_gives_back_the_same_snapshot(
    served: tuple[Path, str, Path], tmp_path: Path
) -> None:
    tenant_dir, base_url, ca_file = served
    assert oct(ca_file.stat().st_mode & 0o777) == "0o600"
    out = tmp_path / "B"
    env = {**os.environ, "MAILWARDEN_CLIENT_SECRET": "emulator-secret"}
    tenant_id = load_snapshot(tenant_dir).tenant.tenant_id
    assert tenant_id
    done = mailwarden(
        "collect", "--tenant", tenant_id, "--client-id", "round-trip-test",
        "--login-url", base_url, "--graph-url", base_url, "--exo-url", base_url,
        "--ca-bundle", str(ca_file), "--out", str(out), "--quiet", env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "emulator-secret" not in done.stdout + done.stderr
    original, collected = load_snapshot(tenant_dir), load_snapshot(out)
    assert collected.problems == {}
    assert without_collection_time(collected) == without_collection_time(original)
    for path in out.rglob("*.json"):
        assert path.stat().st_mode & 0o077 == 0, path
        assert "emulator-secret" not in path.read_text()


def test_a_wrong_secret_is_one_clear_line(served: tuple[Path, str, Path], tmp_path: Path) -> None:
    tenant_dir, base_url, ca_file = served
    env = {**os.environ, "MAILWARDEN_CLIENT_SECRET": "not-the-secret"}
    tenant_id = load_snapshot(tenant_dir).tenant.tenant_id
    done = mailwarden(
        "collect", "--tenant", tenant_id, "--client-id", "x",
        "--login-url", base_url, "--graph-url", base_url, "--exo-url", base_url,
        "--ca-bundle", str(ca_file), "--out", str(tmp_path / "C"), "--quiet", env=env,
    )
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "AADSTS7000215" in lines[0] and "Traceback" not in done.stderr
    assert "not-the-secret" not in done.stderr
