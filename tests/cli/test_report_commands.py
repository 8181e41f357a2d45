"""`report`, `history` and `diff` through the real command line, on a synthetic tenant with
a sign-in log."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mailwarden.cli import command_app
from tests.support.cli_runner import invoke_ok, runner
from tests.support.synthetic import assessed_code


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report-cli") / "tenant"
    invoke_ok("synth", "--size", "60", "--seed", "5", "--out", str(out))
    users = json.loads((out / "graph/users.json").read_text(encoding="utf-8"))
    shared = json.loads((out / "exo/Get-Mailbox.json").read_text(encoding="utf-8"))
    target = next(m["UserPrincipalName"] for m in shared
                  if m["RecipientTypeDetails"] == "SharedMailbox")
    user_id = next(u["id"] for u in users if u["userPrincipalName"] == target)
    (out / "logs").mkdir(exist_ok=True)  # the generator may write logs of its own
    (out / "logs/extra-signins.json").write_text(json.dumps([{
        "id": "s1", "createdDateTime": "2026-10-30T22:14:00Z", "userPrincipalName": target,
        "userId": user_id, "appDisplayName": "Office 365 Exchange Online",
        "clientAppUsed": "IMAP4", "ipAddress": "203.0.113.7", "userAgent": "python-imaplib",
        "isInteractive": True, "status": {"errorCode": 0},
    }]), encoding="utf-8")
    return out


def test_report_history_and_diff(tenant_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "history.db")
    out = tmp_path / "out"
    output = invoke_ok("report", "--from-dir", str(tenant_dir), "--out", str(out),
                       "--format", "all", "--db", db, code=assessed_code(tenant_dir))
    assert "stored as run 1" in output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["alerts.json", "compliance.csv", "findings.csv", "findings.json",
                     "findings.sarif", "ocsf.json", "report.html", "summary.md"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())
    alerts = json.loads((out / "alerts.json").read_text(encoding="utf-8"))
    assert any(a["category"] == "ownerless-sign-in" for a in alerts["alerts"])

    invoke_ok("report", "--from-dir", str(tenant_dir), "--out", str(out), "--db", db,
              code=assessed_code(tenant_dir))
    assert "Changes since the previous run" in (out / "report.html").read_text(encoding="utf-8")
    listed = json.loads(invoke_ok("history", "--db", db, "--format", "json"))
    assert [r["id"] for r in listed] == [1, 2]
    assert "no changes" in invoke_ok("diff", "--db", db)
    drift = json.loads(invoke_ok("diff", "1", "2", "--db", db, "--format", "json"))
    assert drift["findings"] == [] and drift["before"]["id"] == 1


def test_unknown_format_is_refused(tenant_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(command_app(), ["report", "--from-dir", str(tenant_dir), "--out",
                                           str(tmp_path), "--format", "pdf", "--no-store"])
    assert result.exit_code != 0
