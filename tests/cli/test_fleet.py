"""`mailwarden fleet add|list|remove|status`, as processes with nothing injected, on SQLite and
PostgreSQL; and the refusals that keep secrets and bad files out of the registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.errors import ConfigError, InputError
from mailwarden.model.fleet import JobKind, JobState, interval_text, parse_interval
from mailwarden.store.fleet import FleetStore
from tests.support.postgres_schema import postgres_schema_url

runner = CliRunner()
TENANT = "5b1f3c2a-7e4d-4f6a-9b8c-0d1e2f3a4b5c"
CSV = "mailbox,custodian\nhr@contoso.com,alice@contoso.com\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "history.db")
        return
    yield from postgres_schema_url("mw_fleet_")


def _mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], text=True,
                          capture_output=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "250"})


def test_the_fleet_commands_as_processes(db: str, tmp_path: Path) -> None:
    certificate = tmp_path / "fleet.pem"
    certificate.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    custodians = tmp_path / "custodians.csv"
    custodians.write_text(CSV, encoding="utf-8")
    added = _mailwarden("fleet", "add", TENANT.upper(), "--client-id", "fleet-app",
                        "--certificate", str(certificate), "--multi-tenant-app",
                        "--name", "Contoso", "--posture-every", "12h", "--logs-every", "5m",
                        "--custodians", str(custodians), "--db", db)
    assert added.returncode == 0, added.stderr
    assert f"added tenant {TENANT}: multi-tenant app fleet-app" in added.stdout
    second = _mailwarden("fleet", "add", "fabrikam.onmicrosoft.com", "--client-id", "app-2",
                         "--secret-env", "FABRIKAM_SECRET", "--db", db)
    assert second.returncode == 0, second.stderr
    again = _mailwarden("fleet", "add", TENANT, "--client-id", "x", "--secret-env", "X",
                        "--db", db)
    assert again.returncode == 2 and "already in the fleet" in again.stderr

    listed = json.loads(_mailwarden("fleet", "list", "--format", "json", "--db", db).stdout)
    assert listed["schema"] == "mailwarden.fleet/1"
    first = next(t for t in listed["tenants"] if t["tenant_id"] == TENANT)
    assert first["credential"] == {"client_id": "fleet-app",
                                   "certificate_path": str(certificate.resolve()),
                                   "secret_env": None, "multi_tenant_app": True}
    assert (first["posture_every"], first["logs_every"]) == ("12h", "5m")
    assert first["custodians_path"] == str(custodians.resolve())
    table = _mailwarden("fleet", "list", "--db", db)
    assert "secret in $FABRIKAM_SECRET" in table.stdout and "2 tenants" in table.stdout

    now = datetime.now(UTC)
    with FleetStore.open(db) as store:
        run = store.jobs.new_run(trigger="now", by="test", at=now)
        job, _ = store.jobs.enqueue(run_id=run, tenant_id=TENANT, kind=JobKind.POSTURE,
                                    due_at=now - timedelta(hours=1), at=now)
        store.jobs.start(job.job_id, worker_id="w1", at=now - timedelta(minutes=50))
        store.jobs.finish(job.job_id, worker_id="w1", state=JobState.SUCCEEDED,
                          at=now - timedelta(minutes=45))
        logs, _ = store.jobs.enqueue(run_id=run, tenant_id=TENANT, kind=JobKind.LOGS,
                                     due_at=now - timedelta(minutes=4), at=now)
        store.jobs.start(logs.job_id, worker_id="w2", at=now - timedelta(minutes=3))
        store.jobs.finish(logs.job_id, worker_id="w2", state=JobState.FAILED,
                          at=now - timedelta(minutes=2), error="sign-in refused (AADSTS7000215)")
    status = json.loads(_mailwarden("fleet", "status", "--format", "json", "--db", db).stdout)
    assert status["schema"] == "mailwarden.fleet-status/1"
    contoso = next(t for t in status["tenants"] if t["tenant_id"] == TENANT)
    assert contoso["posture"]["freshness"] == "fresh"
    assert contoso["logs"]["freshness"] == "never"
    assert contoso["logs"]["failing"]["error"] == "sign-in refused (AADSTS7000215)"
    fabrikam = next(t for t in status["tenants"] if t["tenant_id"] != TENANT)
    assert fabrikam["posture"]["freshness"] == "never"
    shown = _mailwarden("fleet", "status", "--db", db)
    assert shown.returncode == 0 and "failing: sign-in refused (AADSTS7000215)" in shown.stdout

    removed = _mailwarden("fleet", "remove", TENANT, "--db", db)
    assert removed.returncode == 0 and f"removed tenant {TENANT}" in removed.stdout
    missing = _mailwarden("fleet", "remove", TENANT, "--db", db)
    assert missing.returncode == 2 and "not in the fleet" in missing.stderr


def test_list_and_status_create_no_database(tmp_path: Path) -> None:
    db = tmp_path / "none" / "history.db"
    for command in ("list", "status"):
        result = runner.invoke(command_app(), ["fleet", command, "--format", "json",
                                               "--db", str(db)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["tenants"] == []
    assert not db.parent.exists()


def _add(tmp_path: Path, *args: str) -> BaseException | None:
    result = runner.invoke(command_app(), ["fleet", "add", TENANT, "--client-id", "app",
                                           *args, "--db", str(tmp_path / "h.db")])
    return result.exception


def test_a_secret_given_where_its_name_belongs_is_refused(tmp_path: Path) -> None:
    refused = _add(tmp_path, "--secret-env", "Xy7~Q.secret-value")
    assert isinstance(refused, ConfigError) and "never the secret" in str(refused)
    assert "Xy7~Q" not in str(refused)
    assert not (tmp_path / "h.db").exists()


def test_a_credential_needs_exactly_one_key_and_files_must_exist(tmp_path: Path) -> None:
    assert isinstance(_add(tmp_path), ConfigError)
    both = _add(tmp_path, "--secret-env", "A", "--certificate", str(tmp_path))
    assert isinstance(both, ConfigError)
    gone = _add(tmp_path, "--certificate", str(tmp_path / "missing.pem"))
    assert isinstance(gone, InputError) and "no such certificate file" in str(gone)
    bad_routing = tmp_path / "routing.yaml"
    bad_routing.write_text("channels: [\n", encoding="utf-8")
    assert isinstance(_add(tmp_path, "--secret-env", "A", "--routing", str(bad_routing)),
                      InputError)
    assert isinstance(_add(tmp_path, "--secret-env", "A", "--logs-every", "30s"), ConfigError)
    bad_tenant = runner.invoke(command_app(), ["fleet", "add", "not a tenant!", "--client-id",
                                               "a", "--secret-env", "A"])
    assert isinstance(bad_tenant.exception, ConfigError)


def test_intervals_read_and_print_the_same_way() -> None:
    for text, interval in (("24h", timedelta(hours=24)), ("15m", timedelta(minutes=15)),
                           ("1d", timedelta(days=1)), ("1h30m", timedelta(minutes=90))):
        assert parse_interval(text) == interval
    assert interval_text(timedelta(hours=24)) == "1d"
    assert interval_text(timedelta(minutes=90)) == "1h30m"
    for bad in ("", "h", "15", "0m", "1w"):
        with pytest.raises(ValueError, match=r"interval|shorter"):
            parse_interval(bad)
