"""The risk order through the real command line on the synthetic tenant with its logs:
`scan` prints it and writes it to findings.json, `report` writes it to the HTML report and
findings.json, and all of them agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailwarden.synth import generate, write_synthetic
from tests.support.risk_orders import html_riskiest, html_table, json_order, terminal_order
from tests.support.synthetic import assessed_code


def mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250"}  # wide enough that no address is folded
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=env)


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's tenant (small, seed 0) with its labelled logs."""
    out = tmp_path_factory.mktemp("risk-order") / "tenant"
    write_synthetic(generate("small", seed=0), out)
    return out


def test_scan_and_report_show_one_risk_order(tenant_dir: Path, tmp_path: Path) -> None:
    scanned = mailwarden("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path / "scan"),
                         "--quiet")
    assert scanned.returncode == assessed_code(tenant_dir), scanned.stderr
    reported = mailwarden("report", "--from-dir", str(tenant_dir), "--out",
                          str(tmp_path / "report"), "--format", "html,json", "--no-store")
    assert reported.returncode == assessed_code(tenant_dir), reported.stderr

    terminal = terminal_order(scanned.stdout)
    scan_json = json_order(tmp_path / "scan" / "findings.json")
    report_json = json_order(tmp_path / "report" / "findings.json")
    report = tmp_path / "report" / "report.html"
    assert len(terminal) == 10
    assert [rank for rank, _ in scan_json] == list(range(1, len(scan_json) + 1))
    assert scan_json == report_json
    assert terminal == scan_json[:10] == html_riskiest(report)
    assert html_table(report) == [upn for _, upn in report_json]
    # The mailbox the logs show abused (a leaver's sign-in, 120 messages sent, external
    # forwarding set) comes first, ahead of mailboxes that are only exposed at 99.
    assert terminal[0] == (1, "builds@adventure-works.com")
    assert "active" in scanned.stdout.split("builds@adventure-works.com")[0].splitlines()[-1]


def test_scan_without_logs_ranks_by_exposure(tenant_dir: Path, tmp_path: Path) -> None:
    scanned = mailwarden("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path),
                         "--no-logs", "--quiet")
    assert scanned.returncode == assessed_code(tenant_dir), scanned.stderr
    terminal = terminal_order(scanned.stdout)
    assert terminal == json_order(tmp_path / "findings.json")[:10]
    assert terminal[0][1] != "builds@adventure-works.com"
