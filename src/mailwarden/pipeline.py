"""Wires one run: where a tenant comes from, what is assessed, what is written.

The CLI calls these; they know every layer so the layers need not know each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from mailwarden.assess import AssessOptions, CustodianMap, assess, load_custodians
from mailwarden.assess.evidence import evidence_from_alerts
from mailwarden.assess.exceptions_file import load_exceptions
from mailwarden.assess.risk import with_evidence
from mailwarden.collect.live import collect_tenant
from mailwarden.collect.logs import (
    LogBatch,
    LogCheckpoint,
    append_log_batch,
    collect_logs,
    load_checkpoint,
    save_checkpoint,
)
from mailwarden.detect.document import alert_dict, render_alerts_json
from mailwarden.detect.results import DetectionResult
from mailwarden.detect.tenant import context_from_scan, detect_directory, log_files
from mailwarden.detect.usage import delegate_usage
from mailwarden.errors import DeadlineReachedError, InputError, NoHistoryError, StoreError
from mailwarden.files import write_private_text
from mailwarden.m365.session import M365Session
from mailwarden.model.exceptions import FindingException
from mailwarden.model.findings import KnownMailbox, MailboxKind, PriorInventory, ScanResult
from mailwarden.model.inventory import Snapshot
from mailwarden.model.usage import DelegateUsage
from mailwarden.progress import Progress
from mailwarden.report import DEFAULT_FORMATS, ReportFormat, make_run, with_changes, write_reports
from mailwarden.report.findings_json import render_findings_json
from mailwarden.store import changes_since_previous, last_run_mailboxes, store_run
from mailwarden.store.exceptions import ExceptionStore
from mailwarden.tenant.recorded import (
    ALL_SOURCES,
    ERRORS_FILE,
    RecordedTenant,
    write_recorded_tenant,
)
from mailwarden.tenant.snapshot import load_snapshot, snapshot_from_recorded
from mailwarden.times import iso

#: The sources that list the ownerless mailboxes and say which user mailboxes are unlicensed.
INVENTORY_SOURCES = frozenset({"exo/Get-Mailbox", "graph/users"})
#: Custodian files looked for beside a recorded tenant when none is named.
CUSTODIAN_FILES = ("custodians.csv", "custodians.yaml", "custodians.yml")
#: Where `collect-logs` keeps its checkpoint unless told otherwise (cli.logs).
LOG_CHECKPOINT = Path("logs") / ".checkpoint.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    snapshot: Snapshot
    result: ScanResult
    custodians_file: Path | None
    #: Why the run history could not be read for the mailboxes this run could not list.
    history_problem: str | None = None
    #: The run's time: exceptions expire by it, and its reports and stored run carry it.
    at: datetime | None = None


def require_tenant_dir(directory: Path) -> Path:
    if not directory.is_dir():
        raise InputError(
            f"{directory}: no such directory; give a recorded tenant directory "
            "(from `mailwarden collect` or `mailwarden synth`)"
        )
    if not (directory / "tenant.json").exists() and not (directory / "exo").is_dir():
        raise InputError(
            f"{directory}: not a recorded tenant (no tenant.json and no exo/ folder); "
            "give the directory that `mailwarden collect --out` wrote"
        )
    return directory


def find_custodians(directory: Path, explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.exists():
            raise InputError(f"{explicit}: custodians file not found")
        return explicit
    return next((directory / n for n in CUSTODIAN_FILES if (directory / n).exists()), None)


def prior_inventory(
    snapshot: Snapshot, db_url: str | None
) -> tuple[PriorInventory | None, str | None]:
    """The ownerless mailboxes of the tenant's last stored run, read only when this run
    cannot list or classify them itself (Get-Mailbox or graph/users failed); with why the
    history could not be read, if it could not."""
    if all(map(snapshot.available, INVENTORY_SOURCES)):
        return None, None
    if not snapshot.available("tenant"):
        return None, None  # no tenant id to find its runs by
    try:
        found = last_run_mailboxes(snapshot.tenant.tenant_id, db_url)
    except StoreError as exc:
        return None, str(exc)
    if found is None:
        return None, None
    ref, boxes = found
    kinds = {kind.value: kind for kind in MailboxKind if kind.ownerless}
    return PriorInventory(
        label=f"the run of {iso(ref.generated_at, timespec='seconds')} (run {ref.id})",
        mailboxes=tuple(
            KnownMailbox(upn=box.upn, kind=kinds[box.kind], display_name=box.display_name)
            for box in boxes if box.kind in kinds
        ),
    ), None


def run_exceptions(
    snapshot: Snapshot, exceptions_file: Path | None, db_url: str | None
) -> tuple[FindingException, ...] | None:
    """The exceptions a run applies: the file's (in file order), then those the history
    database keeps for the scanned tenant (oldest first). None when there are none at all
    and no file was named. Reading the store creates no database."""
    found = load_exceptions(exceptions_file) if exceptions_file is not None else ()
    stored: tuple[FindingException, ...] = ()
    if snapshot.available("tenant") and snapshot.tenant.tenant_id:
        try:
            with ExceptionStore.open(db_url, create=False) as store:
                stored = store.load(snapshot.tenant.tenant_id.lower())
        except NoHistoryError:
            stored = ()
    if exceptions_file is None and not stored:
        return None
    return (*found, *stored)


def audit_usage(directory: Path) -> DelegateUsage | None:
    """Delegates' last use of each mailbox from the Unified Audit Log under
    `directory/logs/`; None when the tenant has no logs. The `collect-logs` checkpoint, when
    it has read the audit log, says from when the read began (the window it covers)."""
    files = log_files(directory)
    if not files:
        return None
    try:
        checkpoint = load_checkpoint(directory / LOG_CHECKPOINT)
    except InputError:
        checkpoint = None  # unreadable: the records' own times say what the log covers
    since = checkpoint.start if checkpoint is not None and "ual" in checkpoint.marks else None
    return delegate_usage(files, requested_from=since)


def scan_snapshot(
    snapshot: Snapshot,
    *,
    custodians_file: Path | None = None,
    options: AssessOptions | None = None,
    db_url: str | None = None,
    exceptions_file: Path | None = None,
    at: datetime | None = None,
    usage: DelegateUsage | None = None,
) -> Scan:
    """Assess a snapshot. When Get-Mailbox or graph/users failed, the tenant's last stored
    run in the history (`db_url`, else the default) adds the mailboxes they would have named.
    Exceptions (`exceptions_file`, and the store's for the tenant) are judged at `at`, the
    run's time (default: now)."""
    custodians: CustodianMap | None = (
        load_custodians(custodians_file) if custodians_file is not None else None
    )
    at = at or datetime.now(UTC)
    exceptions = run_exceptions(snapshot, exceptions_file, db_url)
    prior, history_problem = prior_inventory(snapshot, db_url)
    result = assess(snapshot, custodians=custodians, options=options, prior=prior,
                    exceptions=exceptions, at=at, usage=usage)
    return Scan(snapshot=snapshot, result=result, custodians_file=custodians_file,
                history_problem=history_problem, at=at)


def scan_directory(
    directory: Path,
    *,
    custodians_file: Path | None = None,
    options: AssessOptions | None = None,
    db_url: str | None = None,
    exceptions_file: Path | None = None,
    at: datetime | None = None,
    read_logs: bool = True,
    written: RecordedTenant | None = None,
) -> Scan:
    """Load a recorded tenant and assess it (custodians from beside it unless named), with
    delegates' use of the mailboxes from its Unified Audit Log (`audit_usage`) unless
    `read_logs` is false (then `dormant-delegate` cannot be judged). `written`: the tenant
    the caller has just written to `directory` (`write_tenant_directory`), assessed as it
    is rather than read back."""
    require_tenant_dir(directory)
    snapshot = load_snapshot(directory) if written is None else snapshot_from_recorded(written)
    return scan_snapshot(
        snapshot, custodians_file=find_custodians(directory, custodians_file), options=options,
        db_url=db_url, exceptions_file=exceptions_file, at=at,
        usage=audit_usage(directory) if read_logs else None,
    )


def collect_live_tenant(
    session: M365Session, *, progress: Progress | None = None
) -> RecordedTenant:
    """Read the tenant the session reaches through Graph and Exchange Online."""
    settings = session.settings
    return session.run(lambda http: collect_tenant(http, settings, progress=progress))


def collect_to_directory(
    session: M365Session, out: Path, *, progress: Progress | None = None
) -> RecordedTenant:
    """Collect a live tenant and write it as a recorded tenant directory.

    A collection that reaches its deadline writes what it read, then raises
    DeadlineReachedError (its `partial` is the tenant written)."""
    try:
        recorded = collect_live_tenant(session, progress=progress)
    except DeadlineReachedError as exc:
        if isinstance(exc.partial, RecordedTenant):
            write_tenant_directory(out, exc.partial)
        raise
    write_tenant_directory(out, recorded)
    return recorded


def write_tenant_directory(out: Path, recorded: RecordedTenant) -> None:
    """Write a recorded tenant, removing what an earlier run left for sources this run did
    not read: a stale file would otherwise be read as this run's data."""
    for source in ALL_SOURCES:
        stale = out / f"{source}.json"
        if source not in recorded.data and stale.exists():
            stale.unlink()
    if not (recorded.errors or recorded.mailbox_errors) and (out / ERRORS_FILE).exists():
        (out / ERRORS_FILE).unlink()
    write_recorded_tenant(out, recorded)



def write_findings(result: ScanResult, out: Path, *, generated_at: datetime | None = None) -> Path:
    """Write `out/findings.json` (0600) and return its path."""
    path = out / "findings.json"
    write_private_text(path, render_findings_json(result, generated_at or datetime.now(UTC)))
    return path


def detect_logs(
    directory: Path, scan: Scan, *, progress: Progress | None = None
) -> DetectionResult | None:
    """Detection over `directory/logs/` with the scan's context; None when there are no logs."""
    if not log_files(directory):
        return None
    context = context_from_scan(scan.snapshot, scan.result)
    return detect_directory(directory, context, progress=progress)


def rank_by_evidence(scan: Scan, detection: DetectionResult | None) -> Scan:
    """The scan with the detection's alerts as each mailbox's active evidence, its mailboxes
    in risk order; unchanged without detection."""
    if detection is None:
        return scan
    evidence = evidence_from_alerts(alert_dict(alert) for alert in detection.alerts)
    return replace(scan, result=with_evidence(scan.result, evidence))


def write_alerts(detection: DetectionResult, out: Path, *, generated_at: datetime) -> Path:
    path = out / "alerts.json"
    write_private_text(path, render_alerts_json(detection, generated_at))
    return path


def report_and_store(
    scan: Scan,
    out: Path,
    *,
    detection: DetectionResult | None,
    formats: Sequence[ReportFormat] = DEFAULT_FORMATS,
    db_url: str | None = None,
    store: bool = True,
    generated_at: datetime | None = None,
) -> tuple[list[Path], int | None]:
    """Write the reports (with the changes since the tenant's previous stored run) and keep
    the run in the history; returns the files written and the stored run's id."""
    run = make_run(
        scan.result,
        generated_at=generated_at or scan.at or datetime.now(UTC),
        snapshot=scan.snapshot,
        detection=detection,
    )
    if store:
        run = with_changes(run, changes_since_previous(run, db_url))
    paths = write_reports(run, out, formats)
    return paths, store_run(run, db_url) if store else None


def store_scan(
    scan: Scan,
    *,
    detection: DetectionResult | None,
    db_url: str | None = None,
    generated_at: datetime | None = None,
) -> int:
    """Keep a scan's run (with the changes since the tenant's previous stored run) in the
    history, as `report_and_store` does without writing reports; returns the run's id."""
    run = make_run(
        scan.result,
        generated_at=generated_at or scan.at or datetime.now(UTC),
        snapshot=scan.snapshot,
        detection=detection,
    )
    run = with_changes(run, changes_since_previous(run, db_url))
    return store_run(run, db_url)


def collect_logs_to_directory(
    session: M365Session,
    out: Path,
    *,
    checkpoint_file: Path,
    start: datetime,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> LogBatch:
    """Read the log records since the checkpoint (or `start` on a first run), append them to
    `out/logs/`, then move the checkpoint past them."""
    settings = session.settings
    checkpoint = load_checkpoint(checkpoint_file) or LogCheckpoint.starting(start)
    batch = session.run(
        lambda http: collect_logs(
            http, settings, checkpoint=checkpoint, until=until, progress=progress
        )
    )
    append_log_batch(out, batch)
    save_checkpoint(checkpoint_file, batch.checkpoint)  # the records are on disk: move past them
    return batch
