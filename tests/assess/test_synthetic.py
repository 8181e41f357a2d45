"""Against the synthetic tenants: every planted misconfiguration is found, no clean
mailbox fails anything, and nothing is reported that was not planted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailwarden.assess import assess, load_custodians
from mailwarden.model.findings import ScanResult, Status
from mailwarden.pipeline import audit_usage
from mailwarden.synth import generate, write_synthetic
from mailwarden.tenant.snapshot import load_snapshot


def scan(tmp_path: Path, size: str, seed: int) -> tuple[ScanResult, dict[str, object]]:
    directory = tmp_path / f"{size}-{seed}"
    write_synthetic(generate(size, seed=seed), directory)
    result = assess(
        load_snapshot(directory), custodians=load_custodians(directory / "custodians.csv"),
        usage=audit_usage(directory),
    )
    planted = json.loads((directory / "planted.json").read_text(encoding="utf-8"))
    return result, planted


def verdicts(result: ScanResult, planted: dict[str, object]) -> None:
    rows = planted["planted"]
    assert isinstance(rows, list)
    # What the audit log decides (dormant-delegate) is planted with the logs.
    dormant = planted["dormant"]
    assert isinstance(dormant, dict)
    want = {(row["check_id"], row["upn"]) for row in [*rows, *dormant["planted"]]}
    got = {(f.check_id, f.resource.upn) for f in result.findings if f.status is Status.FAIL}
    missed = sorted(want - got, key=str)
    assert not missed, f"planted but not found: {missed[:10]}"
    clean = set(planted["clean"])  # type: ignore[arg-type]
    assert clean, "the tenant has hardened mailboxes"
    dirty = sorted((c, u) for c, u in got if u in clean and (c, u) not in want)
    assert not dirty, f"clean mailboxes failing: {dirty[:10]}"
    extra = sorted(got - want, key=str)
    assert not extra, f"found but not planted: {extra[:10]}"
    # The only errors are the checks the data cannot decide, each planted as "unknown"
    # (a sign-in attempt older than Graph's record of successful sign-ins).
    unknown = planted["unknown"]
    assert isinstance(unknown, list)
    errors = {(f.check_id, f.resource.upn) for f in result.findings if f.status is Status.ERROR}
    assert errors == {(row["check_id"], row["upn"]) for row in [*unknown, *dormant["unknown"]]}, \
        sorted(errors, key=str)
    assert not result.problems, result.problems[:3]
    applications(result, planted)


def applications(result: ScanResult, planted: dict[str, object]) -> None:
    """Each planted application exactly: its status and the ownerless mailboxes in its
    reach; an unscoped one's path on every mailbox it reaches."""
    apps = planted["applications"]
    assert isinstance(apps, list) and apps
    want = {row["app_id"]: (row["status"], row["mailboxes"]) for row in apps}
    found = [f for f in result.findings if f.check_id == "app-mail-access-unscoped"]
    got = {f.resource.app_id: (f.status.value, f.evidence["mailboxes"]) for f in found}
    assert got == want
    rows = planted["planted"]
    assert isinstance(rows, list)
    failing = {row["app_id"] for row in rows if row["check_id"] == "app-mail-access-unscoped"}
    assert failing == {app_id for app_id, (status, _) in want.items() if status == "fail"}
    paths = {a.upn: {p.steps[0] for p in a.attack_paths} for a in result.assessments}
    for f in found:
        if f.failed:
            step = f"application {f.resource.display_name} ({f.resource.app_id}) can read or " \
                   "send as this mailbox"
            assert all(step in paths[upn] for upn in f.evidence["mailboxes"]), step


@pytest.mark.parametrize("seed", [7, 11])
def test_small_tenant(tmp_path: Path, seed: int) -> None:
    verdicts(*scan(tmp_path, "small", seed))


@pytest.mark.slow
def test_medium_tenant(tmp_path: Path) -> None:
    verdicts(*scan(tmp_path, "medium", 3))


def test_a_failed_source_turns_its_checks_into_errors(tmp_path: Path) -> None:
    directory = tmp_path / "small"
    write_synthetic(generate("small", seed=5), directory)
    (directory / "exo" / "Get-CASMailbox.json").unlink()
    result = assess(load_snapshot(directory))
    imap = [f for f in result.findings if f.check_id == "imap-enabled"]
    assert imap and all(f.status is Status.ERROR for f in imap)
    assert any(p.source == "exo/Get-CASMailbox" for p in result.problems)
