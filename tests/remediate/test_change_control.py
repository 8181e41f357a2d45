"""Change control through the command line as processes with nothing injected: the plan's
totals and formats, and a journalled run that `show` lists and `rollback` undoes (first as a
dry run) with the tenant and connection read from the journal."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailwarden.synth import write_synthetic
from tests.remediate.remediate_helpers import small
from tests.support.served_emulator import ServedEmulator, mailwarden, served_emulator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tenant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("change-control") / "tenant"
    write_synthetic(small(), out)
    return out


def test_the_plan_opens_with_totals_then_one_line_per_action(
    tenant_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    done = mailwarden("remediate", "plan", "--from-dir", str(tenant_dir), "--force")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    totals = next(n for n, line in enumerate(lines) if line.startswith("totals"))
    header = next(n for n, line in enumerate(lines) if re.match(r"^\s*#\s+id\s+mailbox", line))
    assert totals < header
    # Piped: the totals table is plain, one aligned line per kind (action, actions, mailboxes).
    assert re.search(r"^block-sign-in\s+\d+\s+\d+\s*$", done.stdout, re.MULTILINE)
    rows = [line for line in lines[header + 1:] if re.match(r"^\s*\d+\s+[0-9a-f]{10}\s", line)]
    # The same plan as JSON (the tenant's audit log adds the dormant grants' removals).
    as_json = mailwarden("remediate", "plan", "--from-dir", str(tenant_dir), "--force",
                         "--format", "json")
    document = json.loads(as_json.stdout)
    assert len(rows) == len(document["actions"])  # one line each
    assert sorted(row.split()[1] for row in rows) == sorted(a["id"] for a in document["actions"])
    assert sum(t["actions"] for t in document["totals"]) == len(document["actions"])
    assert [a["order"] for a in document["actions"]] == list(
        range(1, len(document["actions"]) + 1))


def test_the_plan_as_csv_is_private_and_keeps_the_exact_calls(
    tenant_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan.csv"
    done = mailwarden("remediate", "plan", "--from-dir", str(tenant_dir), "--force",
                      "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    block = next(r for r in rows if r["kind"] == "block-sign-in")
    assert block["calls"].startswith("PATCH /v1.0/users/")
    assert json.loads(block["calls_json"])[0] == {
        "service": "graph", "method": "PATCH", "path": block["calls"].split()[1][5:],
        "body": {"accountEnabled": False},
    }
    refused = mailwarden("remediate", "plan", "--from-dir", str(tenant_dir), "--force",
                         "--out", str(tmp_path / "plan.txt"))
    assert refused.returncode == 2 and "--format" in refused.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedEmulator]:
    with served_emulator(tmp_path) as running:
        yield running


def _runs(journal: Path) -> list[dict[str, Any]]:
    shown = mailwarden("remediate", "show", "--journal-dir", str(journal), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    runs: list[dict[str, Any]] = json.loads(shown.stdout)["runs"]
    return runs


def test_rollback_reads_the_connection_from_the_journal(
    served: ServedEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    journal = tmp_path / "journal"
    applied = mailwarden("remediate", "apply", "--check", "sign-in-enabled", "--yes",
                         "--by", "alice", "--journal-dir", str(journal),
                         *served.connection("change-control"))
    assert applied.returncode == 0, applied.stderr
    run_id = re.search(r"journal: run (\S+)", applied.stdout).group(1)  # type: ignore[union-attr]
    (run,) = _runs(journal)
    assert run["run_id"] == run_id and run["by"] == "alice"
    assert run["tenant_id"] == served.tenant_id and run["tenant_name"] == "Adventure Works"
    outcomes = run["outcomes"]
    assert isinstance(outcomes, dict) and outcomes["applied"] == run["actions"] > 0
    assert run["rolled_back"] == "no"
    one = mailwarden("remediate", "show", run_id, "--journal-dir", str(journal))
    assert "block sign-in, revoke sessions" in one.stdout and "applied" in one.stdout

    # No connection options: the tenant, endpoints, client id and CA come from the journal;
    # the secret from the environment, as for any command.
    dry = mailwarden("remediate", "rollback", run_id, "--dry-run", "--journal-dir", str(journal))
    assert dry.returncode == 0, dry.stderr
    assert "would-restore" in dry.stdout and "dry run: nothing is changed" in dry.stderr
    assert "PATCH /v1.0/users/" in dry.stdout and '"accountEnabled": true' in dry.stdout
    assert _runs(journal)[0]["rolled_back"] == "no"  # the dry run journalled nothing

    back = mailwarden("remediate", "rollback", run_id, "--yes", "--journal-dir", str(journal))
    assert back.returncode == 0, back.stderr
    assert "rolled-back" in back.stdout
    assert _runs(journal)[0]["rolled_back"] == "yes"
