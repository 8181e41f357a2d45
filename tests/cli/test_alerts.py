"""`mailwarden alerts` as a process: the watcher's incidents listed with filters and as
JSON, acknowledged one or many at once with a note, who and when recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.detect.lifecycle import observe
from mailwarden.errors import MailwardenError
from mailwarden.store.incidents import IncidentStore
from tests.detect.test_incidents import HR, IT, alert

NOW = datetime(2026, 10, 21, tzinfo=UTC)


def mailwarden(*args: str, user: str = "ops.person") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOGNAME": user, "USER": user, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=120, check=False, env=env)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A watcher's history: three incidents, two on hr@, one on it@."""
    observed = observe({}, [
        alert("a", "ownerless-sign-in", HR, severity="critical"),
        alert("b", "mass-send", HR, start=timedelta(hours=1)),
        alert("c", "password-reset", IT, ip="198.51.100.1", start=-timedelta(days=5)),
        alert("d", "malicious-inbox-rule", HR, ip="192.0.2.44", severity="medium",
              start=timedelta(hours=3)),
    ], tenant_id="tenant-1", now=NOW, as_of=NOW)
    path = str(tmp_path / "state" / "history.db")
    with IncidentStore.open(path) as store:
        store.save("tenant-1", observed.incidents.values())
    return path


def listed(database: str, *args: str) -> list[dict[str, Any]]:
    result = mailwarden("alerts", "--db", database, "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == "mailwarden.incidents/1"
    return list(document["incidents"])


def test_filters_and_json(database: str) -> None:
    every = listed(database)
    assert [i["categories"] for i in every] == [
        ["ownerless-sign-in", "mass-send"], ["password-reset"], ["malicious-inbox-rule"]]
    assert every[0]["alert_ids"] == ["a", "b"] and every[0]["status"] == "open"
    assert [i["category"] for i in listed(database, "--mailbox", IT.upper())] == [
        "password-reset"]
    assert [i["category"] for i in listed(database, "--category", "mass-send")] == [
        "ownerless-sign-in"]
    assert len(listed(database, "--severity", "high")) == 2
    assert [i["category"] for i in listed(database, "--since", "2026-10-20T00:00:00Z")] == [
        "ownerless-sign-in", "malicious-inbox-rule"]
    assert listed(database, "--incident", every[1]["id"][:9]) == [every[1]]

    table = mailwarden("alerts", "--db", database)
    assert table.returncode == 0 and "3 open incidents" in table.stdout
    assert HR in table.stdout and "2 related" not in table.stdout


def test_acknowledging_many_with_a_note_records_who_and_when(database: str) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    acked = mailwarden("alerts", "ack", "--db", database, "--mailbox", HR,
                       "--note", "phishing test by the red team")
    assert acked.returncode == 0, acked.stderr
    assert "2 incidents acknowledged by ops.person" in acked.stdout
    assert [i["category"] for i in listed(database)] == ["password-reset"]
    closed = [i for i in listed(database, "--all") if i["status"] == "acknowledged"]
    assert len(closed) == 2
    for incident in closed:
        assert incident["acknowledged_by"] == "ops.person"
        assert incident["note"] == "phishing test by the red team"
        when = datetime.fromisoformat(incident["acknowledged_at"])
        assert before <= when <= datetime.now(UTC)

    one = listed(database)[0]["id"]
    named = mailwarden("alerts", "ack", one[:10], "--db", database, "--by", "Ana Lee")
    assert named.returncode == 0 and f"acknowledged {one}" in named.stdout
    assert listed(database) == []
    resolved = mailwarden("alerts", "resolve", one, "--db", database, "--note", "fixed")
    assert resolved.returncode == 0, resolved.stderr
    (done,) = [i for i in listed(database, "--all") if i["id"] == one]
    assert done["status"] == "resolved"
    assert done["resolved_reason"] == "resolved by ops.person: fixed"


@pytest.mark.parametrize(("args", "message"), [
    (["alerts", "ack"], "name the incidents to acknowledge"),
    (["alerts", "ack", "inc-zzz"], "no incident 'inc-zzz'"),
    (["alerts", "--severity", "dire"], "--severity 'dire'"),
    (["alerts", "--category", "phish"], "--category 'phish' is not a category"),
    (["alerts", "--since", "last week"], "--since 'last week' is neither a time"),
    (["alerts", "--format", "xml"], "--format 'xml'"),
])
def test_bad_usage_exits_2_with_one_line(database: str, args: list[str],
                                          message: str) -> None:
    result = CliRunner().invoke(command_app(), [*args, "--db", database])
    # In process the typed error is left to `main`, which turns it into exit code 2.
    assert isinstance(result.exception, MailwardenError), result.output
    assert result.exception.exit_code == 2 and message in str(result.exception)


def test_bad_usage_as_a_process(database: str, tmp_path: Path) -> None:
    missing = tmp_path / "none" / "history.db"
    result = mailwarden("alerts", "ack", "ab12", "--db", str(missing))
    assert result.returncode == 2
    assert f"no history database at {missing}" in " ".join(result.stderr.split())
    assert not missing.parent.exists()  # acknowledging creates nothing either
    result = mailwarden("alerts", "ack", "--db", database)
    assert result.returncode == 2 and "name the incidents to acknowledge" in result.stderr
