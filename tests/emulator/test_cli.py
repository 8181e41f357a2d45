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
        _, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors
    assert "emulator stopped" in errors
