"""What an administrator reads: tables that fit 80 and 200 columns without splitting an
address or a check id, and a plain layout, one record per line, when piped."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from mailwarden.assess import list_checks
from mailwarden.cli.alerts import _table as incidents_table
from mailwarden.cli.views import failures_table, inventory_table
from mailwarden.model.findings import Severity, Status
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from mailwarden.pipeline import detect_logs, rank_by_evidence, scan_directory
from mailwarden.synth import generate, write_synthetic
from tests.support.synthetic import assessed_code

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ADDRESS = re.compile(r"[\w.#'+-]+@[\w.-]*")
_BOX = set("│┃┏┓┗┛┡┩└┘━─┳┻╇┼├┤")
_CHECK_IDS = {info.id for info in list_checks()}


def _run(*args: str, width: int | None = None, terminal: bool = False,
         ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"COLUMNS", "TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR"}}
    if width is not None:
        env["COLUMNS"] = str(width)
    if terminal:  # rich takes TTY_COMPATIBLE=1 as a terminal on a pipe (rich's Console docs)
        env["TTY_COMPATIBLE"] = "1"
    done = subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode in ok, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("terminal") / "tenant"
    write_synthetic(generate(60, seed=3), out)  # as `mailwarden synth --size 60 --seed 3`
    return out


@pytest.fixture(scope="module")
def known_addresses(tenant: Path) -> set[str]:
    """Every address the tenant and its logs hold: anything printed must be one whole."""
    found: set[str] = set()
    for path in tenant.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".csv", ".jsonl"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            found |= {a.lower().rstrip(".") for a in _ADDRESS.findall(text)}
    return found


@pytest.fixture(scope="module")
def ranked_upns(tenant: Path) -> list[str]:
    rows = json.loads(_run("inventory", str(tenant), "--format", "json").stdout)
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
    return [row["upn"] for row in rows]


@pytest.fixture(scope="module")
def scans(tenant: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("scans")
    shown = {}
    for name, width, terminal in (("80", 80, True), ("200", 200, True), ("piped", None, False)):
        done = _run("scan", "--from-dir", str(tenant), "--out", str(out / name), "-q",
                    "--no-store", width=width, terminal=terminal,
                    ok=(assessed_code(tenant),))
        shown[name] = _ANSI.sub("", done.stdout)
    return shown


def _addresses_whole(output: str, known: set[str]) -> None:
    for line in output.splitlines():
        for token in _ADDRESS.findall(line):
            address = token.lower().rstrip(".,;:)'")
            assert address in known, f"{token!r} is cut in: {line!r}"


def _fits(output: str, width: int) -> None:
    for line in output.splitlines():
        assert len(line) <= width, f"{len(line)} > {width}: {line!r}"


@pytest.mark.parametrize("width", ["80", "200"])
def test_scan_fits_the_terminal_and_keeps_addresses_and_check_ids_whole(
        scans: dict[str, str], width: str, known_addresses: set[str],
        ranked_upns: list[str]) -> None:
    output = scans[width]
    _fits(output, int(width))
    _addresses_whole(output, known_addresses)
    lines = output.splitlines()
    for upn in ranked_upns[:3]:  # the riskiest, each whole on a line of its own
        assert any(upn in line for line in lines), upn
    failing = {word for line in lines for word in re.findall(r"[a-z0-9-]+", line)
               if word in _CHECK_IDS}
    assert {"sign-in-enabled", "legacy-auth-not-blocked"} <= failing


def test_scan_piped_is_plain_one_record_per_line(
        scans: dict[str, str], known_addresses: set[str], ranked_upns: list[str]) -> None:
    output = scans["piped"]
    assert not _BOX & set(output)
    _addresses_whole(output, known_addresses)
    rows = [[w.rstrip(";,") for w in line.split()] for line in output.splitlines()]
    # Each riskiest mailbox is one line: its rank, its risk and its address together.
    riskiest = [row for row in rows if len(row) > 2 and row[0].isdigit()
                and any(word in ranked_upns for word in row)]
    assert [next(w for w in row if w in ranked_upns) for row in riskiest][:3] == ranked_upns[:3]


@pytest.mark.parametrize(("width", "terminal"), [(80, True), (200, True), (None, False)])
def test_inventory_is_riskiest_first_and_whole_at_every_width(
        tenant: Path, ranked_upns: list[str], known_addresses: set[str],
        width: int | None, terminal: bool) -> None:
    output = _ANSI.sub("", _run("inventory", str(tenant), width=width,
                                terminal=terminal).stdout)
    _addresses_whole(output, known_addresses)
    if width is not None:
        _fits(output, width)
    else:
        assert not _BOX & set(output)
    order = [next(w for w in line.split() if w in ranked_upns)
             for line in output.splitlines() if set(line.split()) & set(ranked_upns)]
    assert order == ranked_upns
    assert ("left out at this width" in output) is (width == 80)
    if width == 200 or width is None:
        assert "protocols" in output and "custodian" in output


def test_inventory_csv_is_riskiest_first_with_a_header_and_writes_a_private_file(
        tenant: Path, ranked_upns: list[str], tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(
        _run("inventory", str(tenant), "--format", "csv").stdout)))
    assert [row["upn"] for row in rows] == ranked_upns
    assert [row["rank"] for row in rows] == [str(n) for n in range(1, len(rows) + 1)]
    assert {"kind", "risk_score", "custodian", "last_successful_sign_in"} <= set(rows[0])
    out = tmp_path / "inventory.csv"
    _run("inventory", str(tenant), "--format", "csv", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))) == rows
    refused = _run("inventory", str(tenant), "--format", "xml", ok=(2,))
    assert "table, csv or json" in refused.stderr


def test_history_and_diff_take_format_and_still_the_old_json_flag(
        tenant: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "history.db")
    for _ in range(2):
        _run("report", "--from-dir", str(tenant), "--out", str(tmp_path / "r"), "--db", db,
             "--format", "json", ok=(assessed_code(tenant),))
    for command in ("history", "diff"):
        new = _run(command, "--db", db, "--format", "json")
        old = _run(command, "--db", db, "--json")
        assert json.loads(new.stdout) == json.loads(old.stdout)
        assert "--json is deprecated" in old.stderr and not new.stderr.strip()
        assert "--json" not in _run(command, "--help", width=200).stdout
        _run(command, "--db", db, "--format", "csv", ok=(2,))
    table = _ANSI.sub("", _run("history", "--db", db, width=80, terminal=True).stdout)
    _fits(table, 80)
    assert re.search(r"│\s+2 │", table)
    piped = _run("diff", "--db", db).stdout
    assert piped.startswith("run 1 (") and "-> run 2 (" in piped.splitlines()[0]


@pytest.mark.parametrize("width", [80, 200])
def test_checks_say_the_severity_is_the_default_and_keep_ids_whole(width: int) -> None:
    output = _ANSI.sub("", _run("checks", width=width, terminal=True).stdout)
    _fits(output, width)
    flat = " ".join(output.split())
    assert "default severity" in flat or ("default" in output and "severity" in output)
    assert "a finding may be raised or lowered" in flat
    lines = output.splitlines()
    for check_id in _CHECK_IDS:
        assert any(re.search(rf"[│ ]{re.escape(check_id)}[│ ]", line) for line in lines), \
            check_id


def _render(renderable: object, width: int) -> str:
    console = Console(width=width, force_terminal=True, no_color=True, file=io.StringIO(),
                      record=True)
    console.print(renderable)
    return _ANSI.sub("", console.export_text())


def test_the_failing_checks_show_the_findings_own_severity(tenant: Path) -> None:
    result = scan_directory(tenant).result
    finding = next(f for f in result.findings
                   if f.status is Status.FAIL and f.check_id == "remote-powershell-enabled")
    default = next(i for i in result.checks if i.id == finding.check_id).severity
    assert default is Severity.LOW
    raised = replace(finding, severity=Severity.CRITICAL)
    result = replace(result, findings=tuple(raised if f is finding else f
                                            for f in result.findings))
    shown = _render(failures_table(result), 80)
    row = next(line for line in shown.splitlines() if "remote-powershell-enabled" in line)
    assert "critical" in row
    assert shown.index("remote-powershell-enabled") < shown.index("ews-enabled")
    assert "as the reports give it" in " ".join(shown.split())


def test_the_demo_inventory_starts_with_the_riskiest(tenant: Path,
                                                     ranked_upns: list[str]) -> None:
    scan = scan_directory(tenant)
    result = rank_by_evidence(scan, detect_logs(tenant, scan)).result
    shown = _render(inventory_table(result, limit=5), 80)
    listed = [w for line in shown.splitlines() for w in line.replace("│", " ").split()
              if w in ranked_upns]
    assert listed == ranked_upns[:5]
    assert "riskiest first (the first 5)" in " ".join(shown.split())


def _incident(number: int) -> TrackedIncident:
    moment = datetime(2026, 11, 2, 8, number, tzinfo=UTC)
    target = f"conference-room-{number}-long-name@adventureworks.onmicrosoft.com"
    return TrackedIncident(
        id=f"inc-{number:04d}abcdef", tenant_id="t", status=IncidentStatus.OPEN,
        category="password-spray", categories=("password-spray", "ownerless-sign-in"),
        families=(), severity="critical", targets=(target,), places=(target,), targeted=True,
        source_ips=("203.0.113.45",), actors=(), first_seen=moment, last_seen=moment,
        alerts={"a": {}}, marks=(), opened_at=moment, updated_at=moment,
        summary=f"Password spray from 203.0.113.45 reached {target} and signed in")


@pytest.mark.parametrize("width", [80, 200])
def test_incidents_keep_ids_and_addresses_whole(width: int) -> None:
    incidents = [_incident(n) for n in range(3)]
    shown = _render(incidents_table(incidents, closed=False), width)
    _fits(shown, width)
    for incident in incidents:
        assert any(incident.id in line for line in shown.splitlines())
        assert any(incident.targets[0] in line for line in shown.splitlines())
        assert any("203.0.113.45" in line for line in shown.splitlines())
