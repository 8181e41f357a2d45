"""Tenant strings are text, never markup or terminal controls: a rule named "[/]" must not
crash a command, "[locked]" must show as written, and an ESC or BEL in a display name or a
rule name must not reach the terminal or the PowerShell export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli_runner import invoke_ok

CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")
RED = "\x1b[31m"


def _rename(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    # json.dumps gives the escaped form that a JSON document carries.
    path.write_text(text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1]),
                    encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_tenant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "tenant"
    invoke_ok("synth", "--size", "small", "--seed", "0", "--out", str(out))
    for path in (out / "exo" / "Get-InboxRule.json", out / "logs" / "ual.json"):
        _rename(path, "Copy to team lead", "[/]")
        _rename(path, "Invoices to folder", f"[locked] x{RED}red\x07\u202e")
        _rename(path, "Invoices to accountant", f"[/] [locked] fwd{RED}\x07")
    _rename(out / "tenant.json", "Adventure Works", f"Adventure [bold]Works{RED}\x07\x9b")
    users = out / "graph" / "users.json"
    people = json.loads(users.read_text(encoding="utf-8"))
    for person in people:
        person["displayName"] = f"{person['displayName']} [locked]{RED}\x07"
    users.write_text(json.dumps(people), encoding="utf-8")
    return out


def _mailwarden(*args: str | Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "mailwarden", *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", env=environment,
                          timeout=300, check=False)


def _assert_shown(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    assert result.returncode in (0, 4), result.stderr  # 4: a check could not tell
    for control in CONTROLS:
        assert control not in result.stdout, repr(result.stdout)
        assert control not in result.stderr, repr(result.stderr)
    return result.stdout + result.stderr


def test_scan_shows_markup_in_tenant_data_as_text(hostile_tenant: Path, tmp_path: Path) -> None:
    output = _assert_shown(_mailwarden("scan", "--from-dir", hostile_tenant, "--out", tmp_path,
                                       "-q"))
    assert "Adventure [bold]Works" in output


def test_detect_shows_rule_names_as_written(hostile_tenant: Path, tmp_path: Path) -> None:
    output = _assert_shown(_mailwarden("detect", "--tenant-dir", hostile_tenant, "--out",
                                       tmp_path, "--top", "500", "-q"))
    alerts = (tmp_path / "alerts.json").read_text(encoding="utf-8")
    assert "[/] [locked] fwd" in alerts  # the rule name is in the data, as collected
    assert "[locked]" in output


def test_remediate_plan_shows_brackets_verbatim(hostile_tenant: Path) -> None:
    output = _assert_shown(_mailwarden("remediate", "plan", "--from-dir", hostile_tenant,
                                       "--force"))
    assert "[locked]" in output


def test_remediate_export_keeps_controls_out_of_the_script(hostile_tenant: Path,
                                                           tmp_path: Path) -> None:
    script = tmp_path / "plan.ps1"
    _assert_shown(_mailwarden("remediate", "export", "--from-dir", hostile_tenant, "--force",
                              "--out", script))
    text = script.read_text(encoding="utf-8")
    assert "[locked]" in text
    for control in CONTROLS:
        assert control not in text, repr(text)


def test_error_line_shows_a_message_with_markup_as_text(tmp_path: Path) -> None:
    empty = tmp_path / f"[bold] [locked]{RED}\x07"
    empty.mkdir()
    result = _mailwarden("detect", "--tenant-dir", empty, "--out", tmp_path / "out", "-q")
    assert result.returncode not in (0, 70), result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "[bold] [locked]" in result.stderr
    for control in CONTROLS:
        assert control not in result.stderr, repr(result.stderr)
