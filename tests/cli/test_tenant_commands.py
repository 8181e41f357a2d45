"""The offline commands, driven through the real command line."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from mailwarden.assess import list_checks
from mailwarden.cli import command_app
from mailwarden.cli.views import checks_table
from tests.support.cli_runner import invoke_ok, runner
from tests.support.synthetic import assessed_code


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "tenant"
    invoke_ok("synth", "--size", "small", "--seed", "3", "--out", str(out))
    return out


def test_synth_writes_a_private_recorded_tenant(tenant_dir: Path) -> None:
    for name in ("tenant.json", "graph/users.json", "exo/Get-Mailbox.json", "planted.json"):
        mode = stat.S_IMODE((tenant_dir / name).stat().st_mode)
        assert mode == 0o600, name


def test_scan_writes_findings_matching_planted(tenant_dir: Path, tmp_path: Path) -> None:
    output = invoke_ok("scan", "--from-dir", str(tenant_dir), "--out", str(tmp_path),
                       code=assessed_code(tenant_dir))
    assert "Riskiest" in output
    path = tmp_path / "findings.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["schema"] == "mailwarden.findings/1"
    failed = {(f["check_id"], f["resource"].get("upn")) for f in document["findings"]
              if f["status"] == "fail"}
    document = json.loads((tenant_dir / "planted.json").read_text())
    # dormant-delegate is decided by the audit log under logs/: planted with it.
    planted = [*document["planted"], *document["dormant"]["planted"]]
    assert failed == {(p["check_id"], p["upn"]) for p in planted}


def test_scan_of_a_tenant_missing_a_source_reports_error(tenant_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in tenant_dir.rglob("*.json"):
        target = broken / path.relative_to(tenant_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.name != "Get-CASMailbox.json":
            target.write_bytes(path.read_bytes())
    done = runner.invoke(command_app(), ["scan", "--from-dir", str(broken), "--out",
                                         str(tmp_path / "out")], catch_exceptions=False)
    assert done.exit_code == 4, done.output  # a partial result
    document = json.loads((tmp_path / "out" / "findings.json").read_text())
    imap = [f["status"] for f in document["findings"] if f["check_id"] == "imap-enabled"]
    assert imap and set(imap) == {"error"}


def test_inventory_lists_every_ownerless_mailbox(tenant_dir: Path) -> None:
    rows = json.loads(invoke_ok("inventory", str(tenant_dir), "--format", "json"))
    kinds = {row["kind"] for row in rows}
    assert {"shared", "room", "equipment", "unlicensed-user"} <= kinds
    assert all(row["upn"] == row["upn"].lower() for row in rows)
    assert "ownerless mailboxes" in invoke_ok("inventory", str(tenant_dir))


def test_checks_lists_the_catalogue_as_json() -> None:
    document = json.loads(invoke_ok("checks", "--format", "json"))
    assert [c["id"] for c in document] == [c.id for c in list_checks()]
    assert all(c["controls"] and c["remediation"]["powershell"] for c in document)
    sign_in = next(c for c in document if c["id"] == "sign-in-enabled")
    assert sign_in["control_details"] == [{
        "ref": "CIS M365 6.0.0 1.2.2", "framework": "cis-m365", "id": "1.2.2",
        "title": "Ensure sign-in to shared mailboxes is blocked",
        "source": "https://www.cisecurity.org/benchmark/microsoft_365", "kinds": ["shared"],
        "coverage": None}]


def test_checks_name_the_inputs_of_each_check() -> None:
    """SPEC section 9: the catalogue says what each check reads, so a reader knows which
    missing source or property turns which checks into errors."""
    document = json.loads(invoke_ok("checks", "--format", "json"))
    for entry, info in zip(document, list_checks(), strict=True):
        assert entry["needs"] == list(info.needs) and entry["needs"], info.id
        assert entry["uses"] == list(info.uses), info.id
        assert entry["fields"] == list(info.fields), info.id
    by_id = {entry["id"]: entry for entry in document}
    assert "graph/users:signInActivity" in by_id["direct-sign-in-observed"]["fields"]
    assert "reads" in invoke_ok("checks")
    console = Console(width=240, record=True, file=io.StringIO(), force_terminal=True)
    console.print(checks_table(list_checks()))
    table = console.export_text()
    assert "graph/userRegistrationDetails" in table and "+exo/Get-TransportConfig" in table
    assert "signInActivity?" in table


def test_errors_are_one_line_with_an_exit_code(tmp_path: Path) -> None:
    result = runner.invoke(
        command_app(), ["scan", "--from-dir", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert "no such directory" in str(result.exception)


def test_main_prints_one_readable_line_and_the_exit_code(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "mailwarden", "scan", "--from-dir", str(tmp_path / "nope"),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in done.stderr


def test_checks_as_a_process_names_what_each_check_reads() -> None:
    """`mailwarden checks --format json` as README.md runs it, with nothing injected."""
    done = subprocess.run([sys.executable, "-m", "mailwarden", "checks", "--format", "json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    by_id = {entry["id"]: entry for entry in json.loads(done.stdout)}
    assert "graph/roleEligibilitySchedules" in by_id["privileged-account"]["uses"]
    assert "exo/Get-MailContact" in by_id["external-forwarding"]["uses"]
    assert "graph/users.signInActivity" in by_id["direct-sign-in-observed"]["needs"]
