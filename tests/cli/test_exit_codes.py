"""Exit codes as SPEC section 8 gives them, through `python -m mailwarden` as a process:
a file nothing was read from is a partial result (4), named on the terminal with why."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.synthetic import write_tenant

SAMPLE_CSV = (Path(__file__).resolve().parents[3] / "shared" / "samples"
              / "sentinel-training-lab" / "sign-in_adelete.csv")
PARTIAL = 4


def mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "200"})


def _rows() -> list[dict[str, object]]:
    return [{"createdDateTime": "2026-01-01T00:00:00Z", "userPrincipalName": "a@contoso.com",
             "ipAddress": "192.0.2.1", "status": {"errorCode": 0}}] * 20


def _utf16(path: Path) -> None:
    path.write_bytes(json.dumps(_rows()).encode("utf-16-le"))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff\x13garbage\x99" * 50)


def _truncated_gzip(path: Path) -> None:
    packed = gzip.compress(json.dumps(_rows() * 20).encode())
    path.write_bytes(packed[: len(packed) // 2])


def _unclosed_quote(path: Path) -> None:
    text = SAMPLE_CSV.read_bytes()
    first_row = text.index(b"\n") + 1
    quote = text.index(b'"', first_row)
    path.write_bytes(text[: quote + 40])  # cut inside the first quoted value


@pytest.mark.parametrize(("name", "write", "why"), [
    ("utf16.json", _utf16, "looks like UTF-16 without a byte-order mark"),
    ("empty.json", _empty, "the file is empty"),
    ("garbage.json", _garbage, "not a recognised"),
    ("cut.json.gz", _truncated_gzip, "cannot read the file"),
    ("cut.csv", _unclosed_quote, "no row could be read"),
])
def test_detect_exits_4_and_names_a_file_it_could_not_read(
    tmp_path: Path, name: str, write: object, why: str
) -> None:
    if name == "cut.csv" and not SAMPLE_CSV.is_file():
        pytest.skip(f"{SAMPLE_CSV} is not here")
    path = tmp_path / name
    write(path)  # type: ignore[operator]
    done = mailwarden("detect", "--out", str(tmp_path / "out"), "--signins", str(path), "-q")
    assert done.returncode == PARTIAL, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert "log file not read:" in said and f"{name}:" in said
    assert why in said
    assert (tmp_path / "out" / "alerts.json").exists()


def test_detect_note_is_printed_whole(tmp_path: Path) -> None:
    path = tmp_path / "cut.json.gz"
    _truncated_gzip(path)
    done = mailwarden("detect", "--out", str(tmp_path / "out"), "--signins", str(path), "-q")
    table = "".join(ch for ch in done.stdout if ch not in "│┃ \n")
    assert "gzipfilesmustnotbetruncated" in table


def test_scan_says_an_unreadable_ual_and_the_rules_it_stops(tmp_path: Path) -> None:
    tenant = tmp_path / "tenant"
    write_tenant(tenant, "small", seed=1)
    (tenant / "logs" / "ual.json").write_text("not json at all {", encoding="utf-8")
    done = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == PARTIAL, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert "log file not read:" in said and "ual.json" in said
    assert "not run" in said and "malicious-inbox-rule" in said
    assert (tmp_path / "out" / "findings.json").exists()


def test_every_file_read_exits_0(tmp_path: Path) -> None:
    tenant = tmp_path / "tenant"
    write_tenant(tenant, "small", seed=1)
    _judged_whole(tenant)  # else one check is `error`: a partial result too
    done = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == 0, done.stdout + done.stderr


# --fail-on, partial results and their precedence (docs/exit-codes.md), as processes.

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tenant = tmp_path_factory.mktemp("synthetic") / "tenant"
    return write_tenant(tenant, "small", seed=1)


def _copy(synthetic: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(synthetic, tmp_path / "tenant"))


def _edit(tenant: Path, source: str, change: Any) -> None:
    path = tenant / f"{source}.json"
    path.write_text(json.dumps(change(json.loads(path.read_text(encoding="utf-8")))),
                    encoding="utf-8")


def _judged_whole(tenant: Path) -> None:
    """Make what the synthetic tenant leaves `error` judgeable: its planted shared mailbox
    last signed in before Graph's record of successful sign-ins starts, and the grants
    whose use the audit log cannot show (auditing off, delegate actions not audited, an
    audit bypass): every mailbox is audited as dormant-delegate needs, nobody bypasses."""
    users = json.loads((tenant / "graph" / "users.json").read_text(encoding="utf-8"))
    for user in users:
        activity = user.get("signInActivity") or {}
        if str(activity.get("lastSignInDateTime", "")).startswith("2023-0"):
            activity["lastSignInDateTime"] = "2026-01-05T08:30:00Z"
    (tenant / "graph" / "users.json").write_text(json.dumps(users), encoding="utf-8")
    needed = {"MailItemsAccessed", "SendAs", "SendOnBehalf"}
    _edit(tenant, "exo/Get-Mailbox", lambda rows: [
        {**r, "AuditEnabled": True,
         "AuditDelegate": sorted(set(r.get("AuditDelegate") or ()) | needed)} for r in rows])
    _edit(tenant, "exo/Get-MailboxAuditBypassAssociation",
          lambda rows: [{**r, "AuditBypassEnabled": False} for r in rows])
    _edit(tenant, "exo/Get-OrganizationConfig", lambda o: {**o, "AuditDisabled": False})


def _fail_source(tenant: Path, source: str) -> None:
    (tenant / f"{source}.json").unlink()
    (tenant / "errors.json").write_text(
        json.dumps({source: {"error": "HTTP 503 after 6 attempts"}}), encoding="utf-8")


def test_scan_fail_on_exits_1_when_a_finding_fails_at_or_above_it(
    synthetic: Path, tmp_path: Path
) -> None:
    tenant = _copy(synthetic, tmp_path)
    _judged_whole(tenant)
    clean = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "a"), "-q",
                       "--no-store")
    assert clean.returncode == 0, clean.stderr
    done = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "b"), "-q",
                      "--no-store", "--fail-on", "HIGH")
    assert done.returncode == 1, done.stderr
    findings = json.loads((tmp_path / "b" / "findings.json").read_text(encoding="utf-8"))
    over = [f for f in findings["findings"]
            if f["status"] == "fail" and f["severity"] in {"critical", "high"}]
    said = " ".join(done.stderr.split())
    assert f"fail-on high: {len(over)} findings fail at or above high" in said


def test_error_findings_alone_are_a_partial_result(synthetic: Path, tmp_path: Path) -> None:
    tenant = _copy(synthetic, tmp_path)
    _judged_whole(tenant)
    _edit(tenant, "exo/Get-OrganizationConfig", lambda o: {**o, "AuditDisabled": True})
    # Organisation auditing off: no grant's use can be told (error), though no source failed.
    done = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "o"), "-q",
                      "--no-store")
    assert done.returncode == PARTIAL, done.stderr
    said = " ".join(done.stderr.split())
    assert "checks could not judge what they read" in said and "error, not pass" in said


def test_report_exits_4_with_a_failed_source_and_1_beats_it(
    synthetic: Path, tmp_path: Path
) -> None:
    tenant = _copy(synthetic, tmp_path)
    _judged_whole(tenant)
    _fail_source(tenant, "exo/Get-CASMailbox")
    partial = mailwarden("report", "--from-dir", str(tenant), "--out", str(tmp_path / "r"),
                         "--format", "json,sarif", "--no-store")
    assert partial.returncode == PARTIAL, partial.stderr
    said = " ".join(partial.stderr.split())
    assert "sources not read: exo/Get-CASMailbox" in said and "partial result:" in said
    assert (tmp_path / "r" / "findings.sarif").is_file()
    both = mailwarden("report", "--from-dir", str(tenant), "--out", str(tmp_path / "s"),
                      "--format", "json", "--no-store", "--fail-on", "high")
    assert both.returncode == 1, both.stderr
    said = " ".join(both.stderr.split())
    assert "partial result:" in said and "fail-on high:" in said


@pytest.mark.parametrize("command", ["scan", "report"])
def test_a_bad_fail_on_is_a_usage_error_before_anything_is_written(
    tmp_path: Path, command: str
) -> None:
    done = mailwarden(command, "--from-dir", str(tmp_path), "--out", str(tmp_path / "o"),
                      "--fail-on", "info")
    assert done.returncode == 2
    assert "--fail-on 'info': use critical, high, medium or low" in done.stderr
    assert not (tmp_path / "o").exists()
