"""dormant-delegate through the commands, as subprocesses with nothing injected: `scan`
judges grants from the recorded tenant's Unified Audit Log over --dormant-days, and
`report` shows each grant's last use in the access map (HTML, Markdown, JSON evidence)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mailwarden.synth import generate, write_synthetic

CHECK = "dormant-delegate"


PARTIAL = 4


def mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=300, check=False, env={**os.environ})


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dormant-cli") / "tenant"
    write_synthetic(generate("small", seed=0), out)
    return out


def statuses(findings: Path) -> dict[str, str]:
    document: dict[str, Any] = json.loads(findings.read_text(encoding="utf-8"))
    return {f["resource"]["upn"]: f["status"] for f in document["findings"]
            if f["check_id"] == CHECK}


def test_scan_judges_grants_over_the_window_and_never_passes_without_the_log(
        tenant_dir: Path, tmp_path: Path) -> None:
    planted = json.loads((tenant_dir / "planted.json").read_text(encoding="utf-8"))["dormant"]
    done = mailwarden("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "a"),
                      "--quiet", "--no-store")
    # Undecidable grants are error, and a run with any is partial (4).
    assert done.returncode == PARTIAL, done.stderr
    got = statuses(tmp_path / "a" / "findings.json")
    assert {u for u, s in got.items() if s == "fail"} == {r["upn"] for r in planted["planted"]}
    assert {u for u, s in got.items() if s == "error"} == {r["upn"] for r in planted["unknown"]}
    # A window longer than the log: nothing is dormant, what was not seen used is error.
    longer = mailwarden("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "b"),
                        "--quiet", "--no-store", "--dormant-days", "400")
    assert longer.returncode == PARTIAL, longer.stderr
    wide = statuses(tmp_path / "b" / "findings.json")
    assert "fail" not in wide.values() and "error" in wide.values()


def test_a_window_of_zero_days_is_refused(tenant_dir: Path, tmp_path: Path) -> None:
    done = mailwarden("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path),
                      "--dormant-days", "0", "--no-store")
    assert done.returncode == 2 and "dormant-days" in done.stderr


def test_report_shows_last_use_per_delegate(tenant_dir: Path, tmp_path: Path) -> None:
    done = mailwarden("report", "--from-dir", str(tenant_dir), "--out", str(tmp_path),
                      "--format", "html,md,json", "--no-store")
    assert done.returncode == PARTIAL, done.stderr
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Last use (Unified Audit Log, last 90 days)" in html
    assert "last used 20" in html and "not used in 90 days" in html
    assert "unknown: AuditDelegate does not include" in html \
        or "unknown: auditing is off" in html
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "## Delegates' last use" in summary and "not used in 90 days" in summary
    document = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    grants = [g for f in document["findings"] if f["check_id"] == CHECK
              for g in f["evidence"]["grants"]]
    assert {g["state"] for g in grants} == {"used", "dormant", "unknown"}
    assert all(g["last_used"] for g in grants if g["state"] == "used")
