"""`scan --tenant`: collect first, then assess, through the real client path on loopback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.emulator import serve_in_thread
from mailwarden.synth import generate


def test_live_scan_collects_into_out_and_assesses(tmp_path: Path) -> None:
    synthetic = generate("small", seed=2)
    tenant_id = str(synthetic.recorded.data["tenant"]["tenantId"])
    with serve_in_thread(synthetic.recorded) as served:
        result = CliRunner().invoke(
            command_app(),
            ["scan", "--tenant", tenant_id, "--client-id", "live-scan-test",
             "--login-url", served.base_url, "--graph-url", served.base_url,
             "--exo-url", served.base_url, "--ca-bundle", str(served.ca_file),
             "--out", str(tmp_path), "--quiet"],
            env={"MAILWARDEN_CLIENT_SECRET": "emulator-secret"},
            catch_exceptions=False,
        )
    # The checks the tenant plants as undecidable are `error`: a partial result.
    assert result.exit_code == (4 if synthetic.planted.unknown else 0), result.output
    assert (tmp_path / "tenant" / "exo" / "Get-Mailbox.json").exists()
    document = json.loads((tmp_path / "findings.json").read_text())
    statuses = {f["status"] for f in document["findings"]}
    assert "fail" in statuses
    # Errors only where the data cannot decide, each planted as such.
    errors = {(f["check_id"], f["resource"]["upn"]) for f in document["findings"]
              if f["status"] == "error" and f["check_id"] != "dormant-delegate"}
    assert errors == {(f.check_id, f.upn) for f in synthetic.planted.unknown}
    # A live scan reads no audit log: no grant is judged dormant, and a grant not seen
    # used is error, never pass.
    dormant = [f for f in document["findings"] if f["check_id"] == "dormant-delegate"]
    assert dormant and not [f for f in dormant if f["status"] == "fail"]
    assert all("no Unified Audit Log was read" in f["message"] for f in dormant
               if f["status"] == "error")
    assert all(not f["evidence"]["grants"] for f in dormant if f["status"] == "pass")
    assert "emulator-secret" not in result.output
