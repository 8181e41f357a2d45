"""`mailwarden emulator --exchange-role` and `mailwarden collect` as processes, nothing
injected: an app holding only View-Only Organization Management collects what it may, and
is told which Exchange role the rest needs."""

from __future__ import annotations

import json
from pathlib import Path

from mailwarden.synth import generate
from tests.support.served_emulator import ServedEmulator, emulator_process, mailwarden


def test_collect_under_a_view_only_role_names_the_role_it_lacks(tmp_path: Path) -> None:
    """Get-InboxRule "doesn't work for members of View-Only Organization Management role
    group in Exchange Online" (office-docs-powershell Get-InboxRule.md); Exchange answers
    HTTP 401 "User is not allowed to call <cmdlet>" (office-docs-powershell#7970)."""
    tenant_id = str(generate("small", seed=3).recorded.data["tenant"]["tenantId"])
    ca_file = tmp_path / "ca.pem"
    source = ["--synthetic", "small", "--seed", "3",
              "--exchange-role", "view-only-organization-management"]
    with emulator_process(source, ca_file) as base_url:
        served = ServedEmulator(base_url=base_url, ca_file=ca_file, tenant_id=tenant_id)
        out = tmp_path / "collected"
        done = mailwarden("collect", "--out", str(out), "--quiet", *served.connection())
        scanned = mailwarden("scan", "--out", str(tmp_path / "scan"), "--quiet",
                             *served.connection())
    # Sources failed: a partial result (SPEC section 8), not success.
    assert done.returncode == 4, done.stderr
    assert scanned.returncode == 4, scanned.stderr
    assert (tmp_path / "scan" / "findings.json").exists()
    errors = json.loads((out / "errors.json").read_text())
    assert set(errors) == {"exo/Get-InboxRule", "exo/Get-RecipientPermission"}
    assert "User is not allowed to call Get-InboxRule" in errors["exo/Get-InboxRule"]["error"]
    assert "Exchange Recipient Administrator" in errors["exo/Get-InboxRule"]["error"]
    assert "not collected: exo/Get-InboxRule" in " ".join(done.stderr.split())
    assert (out / "exo" / "Get-MailboxPermission.json").exists()


def test_an_unknown_role_is_refused_before_serving(tmp_path: Path) -> None:
    done = mailwarden("emulator", "--synthetic", "small", "--exchange-role", "wizard",
                      "--port", "0")
    assert done.returncode != 0
    assert "unknown Exchange role 'wizard'" in " ".join(done.stderr.split())
