"""`mailwarden emulator` as a person or a script starts it: URL first, CA written, Ctrl-C."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.errors import ConfigError
from mailwarden.synth import generate
from mailwarden.tenant.recorded import write_recorded_tenant

runner = CliRunner()


#: A stopped emulator exits within a second when the machine is quiet; the suite runs
#: many processes at once on few cores.
STOP_TIMEOUT = 60


def test_help_documents_the_client_secret() -> None:
    result = runner.invoke(command_app(), ["emulator", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "emulator-secret" in result.output


def test_exactly_one_tenant_source_is_required(tmp_path: Path) -> None:
    for args in ([], ["--synthetic", "small", "--tenant-dir", str(tmp_path)]):
        result = runner.invoke(command_app(), ["emulator", *args])
        assert isinstance(result.exception, ConfigError)


@pytest.mark.slow
def test_it_prints_the_url_first_serves_the_tenant_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    tenant = generate(60, seed=2).recorded
    write_recorded_tenant(tmp_path / "tenant", tenant)
    ca = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [sys.executable, "-c", "from mailwarden.cli import main; main()", "emulator",
         "--tenant-dir", str(tmp_path / "tenant"), "--ca-out", str(ca), "--throttle"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("https://127.0.0.1:")
        assert ca.stat().st_mode & 0o777 == 0o600
        tenant_id = tenant.data["tenant"]["tenantId"]
        answer = httpx.get(f"{base_url}/{tenant_id}/v2.0/.well-known/openid-configuration",
                           verify=ssl.create_default_context(cafile=str(ca)))
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=STOP_TIMEOUT)
    assert process.returncode == 0, errors
    assert "emulator stopped" in errors


@pytest.mark.slow
def test_tenants_serves_many_synthetic_tenants_each_from_its_own_seed(tmp_path: Path) -> None:
    from mailwarden.synth import tenant_identity

    ca = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "mailwarden", "emulator", "--synthetic", "small", "--seed", "5",
         "--tenants", "50", "--ca-out", str(ca)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        verify = ssl.create_default_context(cafile=str(ca))
        with httpx.Client(base_url=base_url, verify=verify, timeout=60) as client:
            listed = client.get("/_emulator/tenants").json()["tenants"]
            assert len(listed) == 50 and not any(t["built"] for t in listed)
            last = tenant_identity(5 + 49).tenant_id
            assert listed[49]["tenantId"] == last
            token = client.post(f"/{last}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": "app",
                "client_secret": "emulator-secret",
                "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]
            organization = client.get("/v1.0/organization",
                                      headers={"Authorization": f"Bearer {token}"})
            assert organization.json()["value"][0]["id"] == last
            built = [t["tenantId"] for t in client.get("/_emulator/tenants").json()["tenants"]
                     if t["built"]]
            assert built == [last]
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=STOP_TIMEOUT)
    assert process.returncode == 0, errors
    assert "serving 50 tenants" in errors


def test_tenants_needs_a_synthetic_size(tmp_path: Path) -> None:
    result = runner.invoke(command_app(), ["emulator", "--tenant-dir", str(tmp_path),
                                           "--tenants", "2"])
    assert isinstance(result.exception, ConfigError)
    assert "--synthetic" in str(result.exception)
