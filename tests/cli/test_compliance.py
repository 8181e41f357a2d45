"""`compliance` as a process (`python -m mailwarden`), on the small synthetic tenant (seed 0):
its roll-up is a golden file, a findings.json rolls up the same way, and a tenant whose
source failed exits 4 with the controls behind it in error, never pass.

After an intended change, regenerate the golden files with MAILWARDEN_UPDATE_GOLDEN=1 and
review the diff."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mailwarden.synth import generate, write_synthetic
from tests.support.synthetic import assessed_code

GOLDEN = Path(__file__).parent / "golden"
PARTIAL, USAGE = 4, 2


def mailwarden(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "200", "MAILWARDEN_DB": str(db)})


@pytest.fixture(scope="module")
def small_tenant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compliance") / "tenant"
    write_synthetic(generate("small", seed=0), out)
    return out


def _golden(name: str, text: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("MAILWARDEN_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(("framework", "fmt", "name"), [
    ("cis-m365", "json", "compliance-cis-m365.json"),
    ("scuba", "md", "compliance-scuba.md"),
])
def test_the_small_tenants_roll_up_matches_the_golden_file(
    small_tenant: Path, tmp_path: Path, framework: str, fmt: str, name: str
) -> None:
    out = tmp_path / name
    done = mailwarden("compliance", "--from-dir", str(small_tenant), "--framework", framework,
                      "--format", fmt, "--out", str(out), db=tmp_path / "h.db")
    assert done.returncode == assessed_code(small_tenant), done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    _golden(name, out.read_text(encoding="utf-8"))


def test_the_table_lists_each_control_and_what_keeps_it_from_passing(
    small_tenant: Path, tmp_path: Path
) -> None:
    done = mailwarden("compliance", "--from-dir", str(small_tenant), db=tmp_path / "h.db")
    assert done.returncode == assessed_code(small_tenant), done.stderr
    assert "CIS Microsoft 365 Foundations Benchmark v6.0.0: 8 controls" in done.stdout
    assert "Ensure sign-in to shared mailboxes is blocked" in done.stdout
    assert "1.2.2 fail (checks: sign-in-enabled)" in done.stdout


def test_a_findings_file_rolls_up_as_the_tenant_does(small_tenant: Path, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    scanned = mailwarden("scan", "--from-dir", str(small_tenant), "--out", str(tmp_path),
                         "--no-logs", "--no-store", db=db)
    assert scanned.returncode in (0, PARTIAL), scanned.stderr
    done = mailwarden("compliance", "--findings", str(tmp_path / "findings.json"),
                      "--framework", "cis-m365", "--format", "json", db=db)
    assert done.returncode == scanned.returncode, done.stderr
    golden = json.loads((GOLDEN / "compliance-cis-m365.json").read_text(encoding="utf-8"))
    assert json.loads(done.stdout)["controls"] == golden["controls"]


def test_a_failed_source_makes_its_controls_error_and_exits_4(
    small_tenant: Path, tmp_path: Path
) -> None:
    tenant = tmp_path / "tenant"
    shutil.copytree(small_tenant, tenant)
    (tenant / "exo/Get-CASMailbox.json").unlink()
    (tenant / "errors.json").write_text(json.dumps(
        {"exo/Get-CASMailbox": {"error": "HTTP 503 Service Unavailable"}}), encoding="utf-8")
    done = mailwarden("compliance", "--from-dir", str(tenant), "--format", "csv",
                      db=tmp_path / "h.db")
    assert done.returncode == PARTIAL, done.stderr
    assert "partial result" in done.stderr
    status = {line.split(",")[1]: line.split(",")[3] for line in done.stdout.splitlines()[1:]}
    assert status["6.5.4"] == "error"  # SMTP AUTH unknown for every mailbox: never a pass


@pytest.mark.parametrize("args", [(), ("--framework", "iso27001")])
def test_bad_usage_exits_2(small_tenant: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    source = () if not args else ("--from-dir", str(small_tenant))
    done = mailwarden("compliance", *source, *args, db=tmp_path / "h.db")
    assert done.returncode == USAGE, done.stderr
    assert "Traceback" not in done.stderr
