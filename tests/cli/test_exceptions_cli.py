"""Accepted exceptions through `python -m mailwarden` as a process: a scan and a report with
an exceptions file (accepted in every format, expired ones failing again, expiring ones
listed), a bad file (every bad entry by line, exit 2), and the stored exceptions
(`mailwarden exceptions list|add|remove|import`) applied to the next scan."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailwarden.cli import command_app
from mailwarden.errors import InputError
from mailwarden.model.exceptions import FindingException
from mailwarden.store.exceptions import ExceptionStore
from tests.support.cli_runner import invoke_ok, runner
from tests.support.synthetic import assessed_code

BAD_INPUT = 2
PARTIAL = 4


def mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exceptions-cli") / "tenant"
    invoke_ok("synth", "--size", "60", "--seed", "5", "--out", str(out))
    return out


def _planted(tenant_dir: Path) -> tuple[str, str]:
    """A mailbox planted with sign-in enabled, and another planted with IMAP enabled."""
    planted = json.loads((tenant_dir / "planted.json").read_text(encoding="utf-8"))["planted"]
    signs = [p["upn"] for p in planted if p["check_id"] == "sign-in-enabled"]
    imap = next(p["upn"] for p in planted
                if p["check_id"] == "imap-enabled" and p["upn"] != signs[0])
    return signs[0], imap


def _day(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def _entry(check: str, mailbox: str | None, expires: str, reason: str) -> str:
    where = f"    mailbox: {mailbox}\n" if mailbox else ""
    return (f"  - check: {check}\n{where}    reason: {reason}\n"
            f"    owner: secops@alpineskihouse.com\n    expires: {expires}\n")


def _by_key(document: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(f["check_id"], f["resource"]["upn"]): f for f in document["findings"]}


def test_scan_and_report_with_an_exceptions_file(tenant_dir: Path, tmp_path: Path) -> None:
    signed_in, imap = _planted(tenant_dir)
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        "exceptions:\n"
        + _entry("sign-in-enabled", signed_in, _day(200), "Break-glass account")
        + _entry("weak-smart-lockout", None, _day(-3), "Kiosks")  # expired 3 days ago
        + _entry("imap-enabled", imap, _day(5), "Scanner to mail")  # expiring
        + _entry("pop-enabled", "nobody-*@alpineskihouse.com", _day(90), "Never matches"),
        encoding="utf-8")
    db = str(tmp_path / "history.db")
    scanned = mailwarden("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "s"),
                         "--exceptions", str(exceptions), "--db", db)
    assert scanned.returncode == assessed_code(tenant_dir), scanned.stderr
    assert ", 2 accepted" in scanned.stdout
    assert ("exceptions: 3 active exceptions accepted 2 failing findings; 1 expiring within "
            "14 days, 1 expired, 1 matching nothing") in scanned.stdout
    assert (f"expired {_day(-3)}: weak-smart-lockout on the tenant "
            f"(secops@alpineskihouse.com; {exceptions}:7): 1 finding fail again") in scanned.stdout
    assert f"expires {_day(5)}: imap-enabled on {imap}" in scanned.stdout
    assert "matches nothing: pop-enabled on nobody-*@alpineskihouse.com" in scanned.stdout
    findings = json.loads((tmp_path / "s/findings.json").read_text(encoding="utf-8"))
    by_key = _by_key(findings)
    assert by_key[("sign-in-enabled", signed_in)]["status"] == "accepted"
    assert by_key[("sign-in-enabled", signed_in)]["exception"]["reason"] == "Break-glass account"
    assert by_key[("imap-enabled", imap)]["status"] == "accepted"
    assert by_key[("weak-smart-lockout", None)]["status"] == "fail"
    assert by_key[("weak-smart-lockout", None)]["exception"]["expired"] is True

    out = tmp_path / "r"
    reported = mailwarden("report", "--from-dir", str(tenant_dir), "--out", str(out),
                          "--format", "all", "--exceptions", str(exceptions), "--db", db)
    assert reported.returncode == assessed_code(tenant_dir), reported.stderr
    sarif = json.loads((out / "findings.sarif").read_text(encoding="utf-8"))
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "sign-in-enabled"
                  and r["locations"][0]["logicalLocations"][0]["name"] == signed_in)
    assert result["suppressions"][0]["status"] == "accepted"
    assert result["suppressions"][0]["justification"] == "Break-glass account"
    ocsf = json.loads((out / "ocsf.json").read_text(encoding="utf-8"))
    event = next(e for e in ocsf if e["class_uid"] == 2003
                 and e["compliance"]["control"] == "sign-in-enabled"
                 and e["resources"][0]["name"] == signed_in)
    assert (event["status"], event["compliance"]["status"]) == ("Suppressed", "Fail")
    with (out / "findings.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if r["check_id"] == "imap-enabled" and r["upn"] == imap)
    assert (row["status"], row["exception_expires"]) == ("accepted", _day(5))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="exceptions">' in html and "Break-glass account" in html
    assert "Expiring within 14 days" in (out / "summary.md").read_text(encoding="utf-8")
    drift = json.loads(invoke_ok("diff", "--db", db, "--format", "json"))
    assert drift["findings"] == []  # the same exceptions in both runs
    # A tenant named by its domain, not its id, is pointed out.
    added = invoke_ok("exceptions", "add", "--tenant", "alpineskihouse.com", "--check",
                      "pop-enabled", "--mailbox", imap, "--reason", "r", "--owner", "o",
                      "--expires", _day(9), "--db", db)
    tenant_id = findings["tenant"]["id"]
    assert ("note: no stored run is of tenant alpineskihouse.com; the exceptions apply to runs "
            f"of that tenant id (stored runs are of {tenant_id})") in " ".join(added.split())


def test_a_bad_exceptions_file_names_every_bad_entry(tenant_dir: Path, tmp_path: Path) -> None:
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        "exceptions:\n"
        + _entry("imap-enabeld", "a@alpineskihouse.com", _day(10), "typo")
        + "  - check: pop-enabled\n    mailbox: b@alpineskihouse.com\n"
        + _entry("smtp-auth-enabled", "c@alpineskihouse.com", "next year", "r"),
        encoding="utf-8")
    done = mailwarden("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "o"),
                      "--no-logs", "--no-store", "--exceptions", str(exceptions))
    assert done.returncode == BAD_INPUT
    assert "Traceback" not in done.stderr
    text = " ".join(done.stderr.split())  # the terminal wraps long lines
    assert f"{exceptions}: 5 problems, no exception was applied" in text
    assert f"{exceptions}:2: unknown check 'imap-enabeld'; valid checks: " in text
    assert f"{exceptions}:7: missing reason" in text and f"{exceptions}:7: missing expires" in text
    assert f"{exceptions}:13: expires 'next year' is not an ISO date" in text
    assert not (tmp_path / "o/findings.json").exists()
    missing = runner.invoke(command_app(), [
        "report", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "r"), "--no-store",
        "--exceptions", str(tmp_path / "none.yaml")])
    assert isinstance(missing.exception, InputError)
    assert "exceptions file not found" in str(missing.exception)


def test_stored_exceptions_round_trip_and_apply(tenant_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    signed_in, imap = _planted(tenant_dir)
    tenant = json.loads((tenant_dir / "tenant.json").read_text(encoding="utf-8"))
    tenant_id = str(tenant.get("id") or tenant.get("tenantId") or tenant["tenant_id"])
    db = tmp_path / "history.db"
    listed = mailwarden("exceptions", "list", "--db", str(db))
    assert listed.returncode == 0 and "no history database" in listed.stdout
    assert not db.exists()  # reading never creates it
    example = mailwarden("exceptions", "example")
    assert example.returncode == 0 and example.stdout.startswith("# mailwarden exceptions file")

    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions:\n" + _entry("sign-in-enabled", signed_in, _day(30),
                                                    "Break-glass account"), encoding="utf-8")
    imported = mailwarden("exceptions", "import", str(exceptions), "--tenant", tenant_id,
                          "--db", str(db), "--by", "ops.person")
    assert imported.returncode == 0, imported.stderr
    assert f"imported 1 exception from {exceptions}" in imported.stdout
    invoke_ok("exceptions", "add", "--tenant", tenant_id, "--check", "imap-enabled",
              "--mailbox", imap, "--reason", "Scanner to mail", "--owner",
              "facilities@alpineskihouse.com", "--expires", _day(60), "--ticket", "CHG-7",
              "--db", str(db), "--by", "ops.person")
    past = mailwarden("exceptions", "add", "--tenant", tenant_id, "--check", "pop-enabled",
                      "--mailbox", imap, "--reason", "r", "--owner", "o", "--expires",
                      _day(-1), "--db", str(db))
    assert past.returncode == BAD_INPUT and "is in the past" in past.stderr
    document = json.loads(invoke_ok("exceptions", "list", "--db", str(db), "--format", "json"))
    assert document["schema"] == "mailwarden.exceptions/1"
    stored = {e["check"]: e for e in document["exceptions"]}
    assert stored["imap-enabled"]["ticket"] == "CHG-7"
    assert stored["sign-in-enabled"]["created_by"] == "ops.person"
    assert {e["tenant_id"] for e in document["exceptions"]} == {tenant_id.lower()}

    invoke_ok("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "s"),
              "--no-logs", "--no-store", "--db", str(db), code=PARTIAL)
    by_key = _by_key(json.loads((tmp_path / "s/findings.json").read_text(encoding="utf-8")))
    assert by_key[("sign-in-enabled", signed_in)]["exception"]["source"] == "store"
    assert by_key[("imap-enabled", imap)]["status"] == "accepted"

    # One requested in the console is listed with its approval, and applies to no run.
    with ExceptionStore.open(str(db)) as store:
        store.request(tenant_id.lower(), FindingException(
            check="pop-enabled", mailbox=imap, reason="asked", owner="o",
            expires=date.fromisoformat(_day(20)), created_by="Ann"),
            by="console:ann", at=datetime.now(UTC))
        assert [e.check for e in store.load(tenant_id.lower())] == ["sign-in-enabled",
                                                                    "imap-enabled"]
    document = json.loads(invoke_ok("exceptions", "list", "--db", str(db), "--format", "json"))
    approvals = {e["check"]: e["approval"] for e in document["exceptions"]}
    assert approvals == {"sign-in-enabled": "approved", "imap-enabled": "approved",
                         "pop-enabled": "requested"}

    removed = invoke_ok("exceptions", "remove", str(stored["imap-enabled"]["id"]), "--db",
                        str(db))
    assert f"imap-enabled on {imap}" in removed
    gone = mailwarden("exceptions", "remove", "999", "--db", str(db))
    assert gone.returncode == BAD_INPUT and "no stored exception 999" in gone.stderr
    # The settings' file (here from the environment) adds to the store's.
    env_file = tmp_path / "env.yaml"
    env_file.write_text("exceptions:\n" + _entry("imap-enabled", imap, _day(3), "From env"),
                        encoding="utf-8")
    monkeypatch.setenv("MAILWARDEN_EXCEPTIONS", str(env_file))
    invoke_ok("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "s2"),
              "--no-logs", "--no-store", "--db", str(db), code=PARTIAL)
    by_key = _by_key(json.loads((tmp_path / "s2/findings.json").read_text(encoding="utf-8")))
    assert by_key[("imap-enabled", imap)]["exception"]["reason"] == "From env"
    assert by_key[("sign-in-enabled", signed_in)]["status"] == "accepted"
