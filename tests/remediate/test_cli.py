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
from mailwarden.errors import ConfigError, NoHistoryError
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
    assert script.startswith("<#\n.SYNOPSIS\n    mailwarden remediation plan for Adventure Works")
    assert "Set-CASMailbox -Identity" in script
    assert "-Identity 'builds@adventure-works.com'" not in script


def test_export_names_the_formats_it_knows(tenant_dir: Path) -> None:
    error = refusal("remediate", "export", "--from-dir", str(tenant_dir), "--force",
                    "--format", "bash")
    assert isinstance(error, ConfigError) and "powershell" in str(error)


def test_show_lists_no_runs_in_an_empty_journal(tmp_path: Path) -> None:
    code, output = run("remediate", "show", "--journal-dir", str(tmp_path))
    assert code == 0 and "0 remediation runs" in output
    error = refusal("remediate", "show", "missing-run", "--journal-dir", str(tmp_path))
    assert isinstance(error, JournalError) and str(tmp_path) in str(error)


def test_show_reads_the_history_database_unless_a_directory_is_named(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    code, output = run("remediate", "show", "--db", str(db))
    assert code == 0 and "0 remediation runs" in output
    assert not db.exists()  # showing creates no history database
    error = refusal("remediate", "show", "missing-run", "--db", str(db))
    assert isinstance(error, NoHistoryError) and not db.exists()


def test_plan_verbose_shows_each_call_and_what_might_break(tenant_dir: Path) -> None:
    code, output = run("remediate", "plan", "--from-dir", str(tenant_dir), "--force",
                       "--check", "stale-delegate", "--verbose")
    assert code == 0, output
    assert "Remove-MailboxPermission" in output and "might break" in output
    brief = run("remediate", "plan", "--from-dir", str(tenant_dir), "--force",
                "--check", "stale-delegate")[1]
    assert "Remove-MailboxPermission" not in brief and "might break" not in brief
    assert "remove-delegate" in brief


def test_plan_names_the_formats_it_knows(tenant_dir: Path) -> None:
    error = refusal("remediate", "plan", "--from-dir", str(tenant_dir), "--force",
                    "--format", "yaml")
    assert isinstance(error, ConfigError) and "table, json or csv" in str(error)


def test_rollback_takes_the_journalled_connection_unless_an_option_overrides_it() -> None:
    from datetime import UTC, datetime

    from mailwarden.cli.connect import Connection
    from mailwarden.cli.remediate import _journalled
    from mailwarden.remediate.journal import RunContext, RunRecord

    kept = {"tenant": "t1", "client_id": "app", "login_url": "https://127.0.0.1:1",
            "ca_bundle": "/tmp/ca.pem"}
    run = RunRecord(run_id="r", tenant_id="t1", started_at=datetime(2026, 1, 1, tzinfo=UTC),
                    actions=(), entries={}, context=RunContext(connection=kept))
    filled = _journalled(Connection(client_id="other"), run)
    assert (filled.tenant, filled.client_id, filled.login_url) == (
        "t1", "other", "https://127.0.0.1:1")
    assert filled.ca_bundle == Path("/tmp/ca.pem")
    old = RunRecord(run_id="r", tenant_id="t1", started_at=run.started_at, actions=(),
                    entries={})
    assert _journalled(Connection(), old).tenant == "t1"  # a run journalled before the context


def test_show_lists_runs_newest_first_with_outcomes_and_rollback(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from mailwarden.remediate.journal import EntryStatus, FileJournal, JournalEntry, RunContext
    from tests.remediate.remediate_helpers import plan_for

    journal = FileJournal(tmp_path)
    actions = plan_for().actions[:3]
    start = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    context = RunContext(by="alice", tenant_name="Adventure Works")
    for n, run_id in enumerate(("run-old", "run-new")):
        journal.begin(run_id, tenant_id="t1", started_at=start + timedelta(days=n),
                      actions=actions, context=context)
    for action, status in zip(actions[:2], (EntryStatus.ROLLED_BACK, EntryStatus.APPLIED),
                              strict=True):
        journal.record("run-old", JournalEntry(action_id=action.id, status=status, at=start,
                                               prior={"x": True}))
    code, output = run("remediate", "show", "--journal-dir", str(tmp_path), "--format", "json")
    assert code == 0, output
    runs = json.loads(output)["runs"]
    assert [r["run_id"] for r in runs] == ["run-new", "run-old"]
    old = runs[1]
    assert old["by"] == "alice" and old["tenant_name"] == "Adventure Works"
    assert old["outcomes"] == {"rolled-back": 1, "applied": 1, "not-done": 1}
    assert old["rolled_back"] == "partial (1 of 2)" and runs[0]["rolled_back"] == "nothing to undo"
    code, output = run("remediate", "show", "run-old", "--journal-dir", str(tmp_path),
                       "--format", "json")
    shown = json.loads(output)
    assert [a["outcome"] for a in shown["actions"]] == ["rolled-back", "applied", "not started"]
    assert all(a["change"] and a["change"] != a["id"] for a in shown["actions"])




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
