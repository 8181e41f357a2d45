"""`mailwarden collect-logs` against the emulator on loopback HTTPS (MSAL, Graph, the
audit log query): a first run, a second run from the checkpoint, and a failed kind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.emulator import EmulatorConfig, Served, create_app, emulator_of, serve_in_thread
from mailwarden.errors import ConfigError
from mailwarden.synth import generate

runner = CliRunner()
SINCE, MIDDLE, UNTIL = "2026-10-01T00:00:00Z", "2026-10-16T00:00:00Z", "2026-11-01T00:00:00Z"
SIGN_IN = {"id": "s-1", "createdDateTime": "2026-10-05T10:00:00Z",
           "userPrincipalName": "hr@contoso.com", "status": {"errorCode": 0}}
AUDIT = {"id": "d-1", "activityDateTime": "2026-10-20T10:00:00Z",
         "activityDisplayName": "Reset user password"}
UAL = {"Id": "u-1", "CreationTime": "2026-10-07T10:00:00", "Operation": "Set-Mailbox",
       "RecordType": 1, "UserType": 2, "Workload": "Exchange", "UserId": "admin@contoso.com"}


@pytest.fixture(params=[{}, {"failing_sources": {"logs/directoryAudits": 500}}],
                ids=["healthy", "audits-failing"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Served, str]]:
    tenant = generate(60, seed=1)
    app = create_app(tenant.recorded, config=EmulatorConfig(**request.param))
    state = emulator_of(app).state
    state.add_log_records("signIns", [SIGN_IN, dict(SIGN_IN, id="s-2",
                                                    createdDateTime="2026-10-25T08:00:00Z")])
    state.add_log_records("directoryAudits", [AUDIT])
    state.add_log_records("ual", [UAL])
    with serve_in_thread(app) as running:
        yield running, str(tenant.recorded.data["tenant"]["tenantId"])


def collect(served: tuple[Served, str], out: Path, *extra: str) -> Any:
    running, tenant_id = served
    base = running.base_url
    settings = out.parent / "settings.toml"
    # Failing requests are retried twice, quickly: the test waits for no backoff.
    settings.write_text("[mailwarden.retry]\nmax_attempts = 2\nbackoff_base = 0.01\n")
    return runner.invoke(command_app(), [
        "collect-logs", "--out", str(out), "--tenant", tenant_id, "--client-id", "app",
        "--login-url", base, "--graph-url", base, "--exo-url", base,
        "--ca-bundle", str(running.ca_file), "--config", str(settings), "--quiet", *extra],
        env={"MAILWARDEN_CLIENT_SECRET": "emulator-secret"})


def lines(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_two_runs_and_a_failed_kind(served: tuple[Served, str], tmp_path: Path) -> None:
    failing = bool(emulator_of(served[0].app).config.failing_sources)
    out = tmp_path / "tenant"
    first = collect(served, out, "--since", SINCE, "--until", MIDDLE)
    second = collect(served, out, "--until", UNTIL)
    logs = out / "logs"
    assert lines(logs / "signIns.json") == ["s-1", "s-2"]
    assert lines(logs / "ual.json") == ["u-1"]
    assert "sign-ins: 1 new record\n" in first.stdout
    assert (logs / ".checkpoint.json").stat().st_mode & 0o777 == 0o600
    assert "emulator-secret" not in first.stdout + second.stdout
    if failing:
        assert (first.exit_code, second.exit_code) == (4, 4)
        assert "directory audits: failed" in second.stdout
        assert not (logs / "directoryAudits.json").exists()
        checkpoint = json.loads((logs / ".checkpoint.json").read_text())
        assert "directoryAudits" not in checkpoint["kinds"]
    else:
        assert (first.exit_code, second.exit_code) == (0, 0), first.stdout + second.stdout
        assert lines(logs / "directoryAudits.json") == ["d-1"]
        assert "directory audits: 0 new records" in first.stdout


def test_since_and_days_together_are_refused(tmp_path: Path) -> None:
    result = runner.invoke(command_app(), [
        "collect-logs", "--out", str(tmp_path), "--tenant", "t", "--client-id", "c",
        "--since", SINCE, "--days", "3"])
    assert isinstance(result.exception, ConfigError)
    assert "one of --since and --days" in str(result.exception)
