"""The collection's deadline with one source stuck: the emulator on loopback holds every
Get-InboxRule call for a minute; `collect --deadline 5s` records that source (and the other
per-mailbox sources, which land together) as "deadline reached", keeps every other source
it read, and exits 4, in both collect modes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.emulator import EmulatorConfig, create_app, serve_in_thread
from mailwarden.emulator.config import FaultKind, TargetedFault
from mailwarden.synth import generate
from mailwarden.tenant.recorded import ERRORS_FILE

runner = CliRunner()


@pytest.mark.parametrize("mode", [[], ["--sequential"]], ids=["fast", "sequential"])
def test_a_source_still_waiting_at_the_deadline_fails_alone(
    mode: list[str], tmp_path: Path
) -> None:
    tenant = generate(60, seed=1)
    tenant_id = str(tenant.recorded.data["tenant"]["tenantId"])
    stuck = TargetedFault(pattern="exchange:Get-InboxRule", kind=FaultKind.TIMEOUT,
                          times=1_000_000)
    config = EmulatorConfig(targeted_faults=(stuck,), timeout_seconds=60.0)
    out = tmp_path / "tenant"
    with serve_in_thread(create_app(tenant.recorded, config=config)) as served:
        base = served.base_url
        started = time.monotonic()
        result = runner.invoke(command_app(), [
            "collect", "--out", str(out), "--tenant", tenant_id, "--client-id", "app",
            "--login-url", base, "--graph-url", base, "--exo-url", base,
            "--ca-bundle", str(served.ca_file), "--deadline", "5s", "--quiet", *mode],
            env={"MAILWARDEN_CLIENT_SECRET": "emulator-secret"})
        elapsed = time.monotonic() - started
    assert result.exit_code == 4, result.output
    assert elapsed < 40
    errors = json.loads((out / ERRORS_FILE).read_text(encoding="utf-8"))
    assert errors["exo/Get-InboxRule"] == {"error": "deadline reached"}
    assert not (out / "exo/Get-InboxRule.json").exists()
    for source in ("tenant", "graph/users", "graph/groups", "exo/Get-Mailbox", "exo/Get-User",
                   "exo/Get-CASMailbox", "graph/roleAssignments"):
        assert (out / f"{source}.json").is_file(), source
        assert source not in errors, source


def test_the_deadline_keeps_the_mailboxes_read_and_fails_only_the_rest(tmp_path: Path) -> None:
    """Every Exchange `$batch` request after the first is held for a minute: at the
    deadline the per-mailbox sources keep the mailboxes the first batch read, and record
    each of the others as failed ("deadline reached") rather than losing both sources."""
    tenant = generate(60, seed=1)
    tenant_id = str(tenant.recorded.data["tenant"]["tenantId"])
    held = TargetedFault(pattern=r"exchange:\$batch", nth=2, kind=FaultKind.TIMEOUT,
                         times=1_000_000)
    config = EmulatorConfig(targeted_faults=(held,), timeout_seconds=60.0)
    out = tmp_path / "tenant"
    with serve_in_thread(create_app(tenant.recorded, config=config)) as served:
        base = served.base_url
        result = runner.invoke(command_app(), [
            "collect", "--out", str(out), "--tenant", tenant_id, "--client-id", "app",
            "--login-url", base, "--graph-url", base, "--exo-url", base,
            "--ca-bundle", str(served.ca_file), "--deadline", "5s", "--quiet"],
            env={"MAILWARDEN_CLIENT_SECRET": "emulator-secret"})
    assert result.exit_code == 4, result.output
    assert "mailboxes of the per-mailbox calls unfinished" in result.output
    errors = json.loads((out / ERRORS_FILE).read_text(encoding="utf-8"))
    for source in ("exo/Get-MailboxPermission", "exo/Get-InboxRule"):
        failed = errors[source]["mailboxes"]
        assert failed and set(failed.values()) == {"deadline reached"}, errors[source]
        rows = json.loads((out / f"{source}.json").read_text(encoding="utf-8"))
        assert rows, source
    # The other per-mailbox sources are cut short too, unless every call of theirs (a room
    # has one more) came back before the deadline.
    assert {"exo/Get-MailboxPermission", "exo/Get-InboxRule"} <= set(errors) <= {
        "exo/Get-MailboxPermission", "exo/Get-InboxRule", "exo/Get-MailboxStatistics",
        "exo/Get-CalendarProcessing"}
