"""The offline remediate commands through the real command line."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.errors import ConfigError
from mailwarden.remediate.errors import JournalError, StaleSnapshotError
from mailwarden.synth import write_synthetic
from tests.remediate.remediate_helpers import small

runner = CliRunner()


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("remediate-cli") / "tenant"
    write_synthetic(small(), out)
    return out


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(command_app(), list(args))
    return result.exit_code, result.output


def refusal(*args: str) -> BaseException | None:
    """The typed error a command stops with (the CLI's main maps it to an exit code)."""
    return runner.invoke(command_app(), list(args)).exception


def test_an_old_recorded_tenant_is_refused_without_force(tenant_dir: Path) -> None:
    error = refusal("remediate", "plan", "--from-dir", str(tenant_dir))
    assert isinstance(error, StaleSnapshotError) and error.exit_code == 2
    assert "--force" in str(error)


def test_plan_as_json_lists_actions_with_their_calls(tenant_dir: Path) -> None:
    code, output = run("remediate", "plan", "--from-dir", str(tenant_dir), "--force",
                       "--format", "json", "--check", "sign-in-enabled")
    assert code == 0, output
    document = json.loads(output)
    assert document["schema"] == "mailwarden.remediation-plan/1"
    assert {a["kind"] for a in document["actions"]} == {"block-sign-in"}
    assert all(a["calls"][0]["method"] == "PATCH" for a in document["actions"])


def test_export_writes_a_private_script(tenant_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.ps1"
    code, output = run("remediate", "export", "--from-dir", str(tenant_dir), "--force",
                       "--out", str(out), "--exclude", "builds@adventure-works.com")
    assert code == 0, output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    script = out.read_text()
    assert script.startswith("# mailwarden remediation plan for Adventure Works")
    assert "Set-CASMailbox -Identity" in script
    assert "-Identity 'builds@adventure-works.com'" not in script


def test_export_names_the_formats_it_knows(tenant_dir: Path) -> None:
    error = refusal("remediate", "export", "--from-dir", str(tenant_dir), "--force",
                    "--format", "bash")
    assert isinstance(error, ConfigError) and "powershell" in str(error)


def test_show_lists_no_runs_in_an_empty_journal(tmp_path: Path) -> None:
    code, output = run("remediate", "show", "--journal-dir", str(tmp_path))
    assert code == 0 and output == ""
    error = refusal("remediate", "show", "missing-run", "--journal-dir", str(tmp_path))
    assert isinstance(error, JournalError) and str(tmp_path) in str(error)


def test_show_reads_the_history_database_unless_a_directory_is_named(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    code, output = run("remediate", "show", "--db", str(db))
    assert code == 0 and output == ""
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    error = refusal("remediate", "show", "missing-run", "--db", str(db))
    assert isinstance(error, JournalError) and "--db" in str(error)


def test_tenant_wide_actions_through_the_command_line(tenant_dir: Path) -> None:
    """As a person runs it: the application options and a group that cannot scope an app."""
    base = [sys.executable, "-m", "mailwarden", "remediate", "plan", "--from-dir",
            str(tenant_dir), "--force", "--format", "json", "--check",
            "app-mail-access-unscoped", "--check", "direct-send-allowed"]
    plain = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    kinds = [a["kind"] for a in json.loads(plain.stdout)["actions"]]
    assert kinds == ["reject-direct-send"]
    asked = subprocess.run([*base, "--app-scope-group", "App scope - Helpdesk Notifier",
                            "--remove-app-grants"], capture_output=True, text=True, timeout=120)
    assert asked.returncode == 0, asked.stderr
    actions = json.loads(asked.stdout)["actions"]
    assert {a["kind"] for a in actions} == {
        "reject-direct-send", "add-app-access-policy", "remove-app-grant"}
    assert all(a["upn"] == "" for a in actions)
    wrong = subprocess.run([*base, "--app-scope-group", "no such group"],
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2
    assert "--app-scope-group no such group" in wrong.stderr
    assert "Traceback" not in wrong.stderr
