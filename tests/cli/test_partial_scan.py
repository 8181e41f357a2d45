"""`scan`, `report` and `diff` on a recorded tenant whose sources failed, as processes
(`python -m mailwarden`): the ownerless mailboxes are still assessed from what remains and
the last stored run, the summary says where the inventory came from, the exit code is 4
(a partial result), and a failure that became unknown is not called gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.synthetic import PARTIAL, assessed_code, write_tenant

#: Get-Mailbox failed, and with it the per-mailbox sources, as `collect` records it.
GET_MAILBOX_FAILED = {
    "exo/Get-Mailbox": "HTTP 503 Service Unavailable",
    "exo/Get-MailboxPermission": "not collected: Get-Mailbox failed",
    "exo/Get-InboxRule": "not collected: Get-Mailbox failed",
}


def mailwarden(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "300", "MAILWARDEN_DB": str(db)})


def _findings(out: Path) -> dict[tuple[str, str | None], str]:
    document = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return {(f["check_id"], f["resource"]["upn"]): f["status"] for f in document["findings"]}


def _fail_sources(tenant: Path, failed: dict[str, str]) -> None:
    """As `collect` records a failure: no file, the error in errors.json."""
    for source in failed:
        (tenant / f"{source}.json").unlink()
    entries = {source: {"error": message} for source, message in failed.items()}
    (tenant / "errors.json").write_text(json.dumps(entries), encoding="utf-8")


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())


def test_get_mailbox_failed_keeps_every_failure_and_exits_4(tmp_path: Path) -> None:
    tenant, db = tmp_path / "tenant", tmp_path / "history.db"
    write_tenant(tenant, "small", seed=0)
    clean = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "clean"),
                       "-q", "--no-logs", db=db)
    assert clean.returncode == assessed_code(tenant), _said(clean)
    stored = mailwarden("report", "--from-dir", str(tenant), "--out", str(tmp_path / "r1"),
                        "--format", "json", db=db)
    assert stored.returncode == assessed_code(tenant), _said(stored)
    failing = {k for k, status in _findings(tmp_path / "clean").items() if status == "fail"}
    assert failing

    _fail_sources(tenant, GET_MAILBOX_FAILED)
    done = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "out"), "-q",
                      "--no-logs", db=db)
    said = _said(done)
    assert done.returncode == PARTIAL, said
    assert "inventory: Get-Mailbox was not collected (HTTP 503 Service Unavailable)" in said
    assert "known from Get-User" in said and "the run of" in said
    assert "0 ownerless mailboxes" not in said
    assert "partial result:" in said
    now = _findings(tmp_path / "out")
    lost = {k: now.get(k) for k in failing if now.get(k) not in ("fail", "error")}
    assert lost == {}

    again = mailwarden("report", "--from-dir", str(tenant), "--out", str(tmp_path / "r2"),
                       "--format", "json", db=db)
    assert again.returncode == PARTIAL, _said(again)  # its sources still failed
    drift = mailwarden("diff", "--json", db=db)
    assert drift.returncode == 0, _said(drift)
    changes: dict[str, Any] = json.loads(drift.stdout)
    assert changes["mailboxes_removed"] == []
    assert [c for c in changes["findings"] if c["kind"] == "gone"] == []
    assert {c["kind"] for c in changes["findings"]} <= {"unverified"}


def test_empty_mailbox_permissions_are_not_read_as_no_delegates(tmp_path: Path) -> None:
    """Exchange lists NT AUTHORITY\\SELF on every mailbox: a Get-MailboxPermission file
    with no row at all was not read whole, so the delegation checks say error (or fail,
    for what Send As alone shows), never pass."""
    tenant, db = tmp_path / "tenant", tmp_path / "history.db"
    write_tenant(tenant, "small", seed=0)
    (tenant / "exo" / "Get-MailboxPermission.json").write_text("[]", encoding="utf-8")
    done = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "out"), "-q",
                      "--no-logs", db=db)
    said = _said(done)
    assert done.returncode == PARTIAL, said
    assert "not read for 19 mailboxes: exo/Get-MailboxPermission" in said
    assert "NT AUTHORITY\\SELF" in said
    statuses = {status for (check, _), status in _findings(tmp_path / "out").items()
                if check in ("stale-delegate", "broad-delegation")}
    assert "error" in statuses and "pass" not in statuses


def _alerts(out: Path) -> set[tuple[str, str | None]]:
    document = json.loads((out / "alerts.json").read_text(encoding="utf-8"))
    return {(a["category"], a.get("target")) for a in document["alerts"]}


def test_get_mailbox_failed_still_detects_on_the_ownerless_accounts_it_knows(
    tmp_path: Path
) -> None:
    tenant, db = tmp_path / "tenant", tmp_path / "history.db"
    write_tenant(tenant, "small", seed=0)
    clean = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "clean"),
                       "-q", "--no-store", db=db)
    assert clean.returncode == assessed_code(tenant), _said(clean)
    _fail_sources(tenant, GET_MAILBOX_FAILED)
    done = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "out"), "-q",
                      "--no-store", db=db)
    said = _said(done)
    assert done.returncode == PARTIAL, said
    # The rules that need the ownerless accounts run on those Get-User names, and say so.
    assert "ran in part" in said and "ownerless-sign-in" in said
    assert "list of ownerless accounts is incomplete: Get-Mailbox was not read" in said
    before, after = _alerts(tmp_path / "clean"), _alerts(tmp_path / "out")
    signed_in = {a for a in before if a[0] == "ownerless-sign-in"}
    assert signed_in and signed_in <= after
