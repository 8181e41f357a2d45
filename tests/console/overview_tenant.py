"""A small synthetic tenant scanned as a user's commands do, twice: with its logs, and
after IMAP was turned off on one mailbox (the second scan reads no logs), for the overview
and mailbox page tests. Stored through `store_run`; incidents through the watcher's
lifecycle and `IncidentStore`; exceptions through `ExceptionStore`."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailwarden.detect.lifecycle import observe
from mailwarden.detect.results import DetectionResult
from mailwarden.model.exceptions import FindingException
from mailwarden.model.incidents import TrackedIncident
from mailwarden.model.run import Run
from mailwarden.pipeline import (
    audit_usage,
    detect_logs,
    find_custodians,
    scan_directory,
    scan_snapshot,
)
from mailwarden.report import make_run
from mailwarden.store import History, store_run
from mailwarden.store.exceptions import ExceptionStore
from mailwarden.store.incidents import IncidentStore
from mailwarden.synth import generate, write_synthetic
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded

#: The runs: with logs at T1 and T1 + 12 h, without at T2 (IMAP off on one mailbox).
T1 = datetime(2026, 11, 1, 6, tzinfo=UTC)
T2 = datetime(2026, 11, 2, 6, tzinfo=UTC)
NOW = T2 + timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scanned:
    first: Run  # with detection
    second: Run  # IMAP off on `imap_upn`, no logs
    detection: DetectionResult
    imap_upn: str

    @property
    def runs(self) -> tuple[Run, ...]:
        return (self.first, replace(self.first, generated_at=T1 + timedelta(hours=12)),
                self.second)


def _imap_off(recorded: RecordedTenant, upn: str) -> RecordedTenant:
    data: dict[str, Any] = copy.deepcopy(dict(recorded.data))
    for row in data["exo/Get-CASMailbox"]:
        if row["PrimarySmtpAddress"].lower() == upn:
            row["ImapEnabled"] = False
    return RecordedTenant(data=data, errors=recorded.errors)


def scan_twice(directory: Path) -> Scanned:
    """Scanned as `mailwarden scan` does, reading exceptions from an empty history of its
    own (the tests' module-wide fixture outlives the per-test default history)."""
    tenant = generate("small", seed=0)
    write_synthetic(tenant, directory / "tenant")
    db_url = f"sqlite:///{directory / 'scan-history.db'}"
    directory = directory / "tenant"
    scan = scan_directory(directory, at=T1, db_url=db_url)
    detection = detect_logs(directory, scan)
    assert detection is not None
    first = make_run(scan.result, generated_at=T1, snapshot=scan.snapshot, detection=detection)
    imap_upn = next(e.upn for e in first.result.inventory if e.protocols.get("IMAP"))
    snapshot = snapshot_from_recorded(_imap_off(tenant.recorded, imap_upn))
    again = scan_snapshot(snapshot, custodians_file=find_custodians(directory, None), at=T2,
                          usage=audit_usage(directory), db_url=db_url)
    second = make_run(again.result, generated_at=T2, snapshot=snapshot)
    return Scanned(first=first, second=second, detection=detection, imap_upn=imap_upn)


def store(db_url: str, scanned: Scanned) -> tuple[TrackedIncident, ...]:
    """Store the three runs, the first run's incidents (as the watcher folds them) and two
    exceptions: one expiring in 5 days, one in 60; returns the incidents."""
    for run in scanned.runs:
        store_run(run, db_url)
    tenant_id = scanned.first.tenant.tenant_id
    observed = observe({}, scanned.detection.alerts, tenant_id=tenant_id, now=T1, as_of=None)
    with History.open(db_url) as history:
        IncidentStore(history).save(tenant_id, observed.incidents.values())
        exceptions = ExceptionStore(history)
        for days, check in ((5, "imap-enabled"), (60, "pop-enabled")):
            exceptions.add(tenant_id, FindingException(
                check=check, mailbox=scanned.imap_upn, reason="migration in progress",
                owner="owner@contoso.com", expires=(NOW + timedelta(days=days)).date(),
                created_at=T1, created_by="tests"))
    return tuple(observed.incidents.values())
