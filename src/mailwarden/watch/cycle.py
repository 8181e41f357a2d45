"""One watch cycle: pull, keep, assess, detect, store, notify, and only then move the
checkpoint.

The order is what makes a cycle restart-safe. New records are appended to the window
idempotently (by record id) before anything else, the run is stored, the notices are
stored in the outbox, then sent; the checkpoint moves last. A cycle killed anywhere
repeats on restart from the old checkpoint: the records it re-reads are already in the
window and not written twice, the alerts it raises again are already in the outbox and
not stored twice, and the deliveries still pending are sent once. (A crash after a
channel accepted a message but before the outbox marked it sent can repeat that one
message: see `mailwarden.notify.outbox`.) A repeated cycle stores its run again: the
history then holds two runs a few minutes apart, which drift between them shows as such.

The checkpoint moves once every delivery was stored and tried. A delivery its channel
refused stays pending in the outbox and is tried again first thing in the next cycle;
holding the checkpoint back for it would only read the same records again.

A cycle holds the state folder (`mailwarden.statelock`): a second watcher on the same
folder is refused with `StateInUseError` before it reads or writes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailwarden.detect import DetectOptions, context_from_scan, detect_files
from mailwarden.detect.document import alert_dict
from mailwarden.detect.results import DetectionResult
from mailwarden.notify import (
    Routing,
    failing_keys,
    notices_for,
    plan_notifications,
    send_pending,
)
from mailwarden.notify.dispatch import SendFunction
from mailwarden.notify.outbox import FileOutbox
from mailwarden.pipeline import Scan, find_custodians, scan_directory
from mailwarden.report import make_run, with_changes
from mailwarden.statelock import hold_folder
from mailwarden.store import changes_since_previous, store_run
from mailwarden.times import iso, parse_time, read_time
from mailwarden.watch.registry import AlertRegistry
from mailwarden.watch.report import CycleReport
from mailwarden.watch.source import Pull, TenantSource
from mailwarden.watch.state import WatchState, load_state, save_state
from mailwarden.watch.window import DEFAULT_HISTORY, LogWindow

TENANT_DIR = "tenant"
OUTBOX_FILE = "notify-state.json"
#: An alert unknown so far that starts this close to the window's (cut) start, and has
#: no record newer than the previous cycle's, is the tail of an alert already raised
#: whose first records were dropped (its id, which names its window, changed).
EDGE = timedelta(days=2)
#: What to do when another process holds the state folder.
STATE_DIR_HINT = "use another --state-dir"

#: Called with the name of each phase as it completes (tests kill the cycle there).
PhaseHook = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchConfig:
    state_dir: Path
    routing: Routing
    posture_every: timedelta = timedelta(hours=24)
    history: timedelta = DEFAULT_HISTORY
    custodians_file: Path | None = None
    db_url: str | None = None  # None: the history every command uses (MAILWARDEN_DB, ...)
    detect_options: DetectOptions | None = None

    @property
    def tenant_dir(self) -> Path:
        return self.state_dir / TENANT_DIR

    @property
    def database(self) -> str | None:
        """The history database (`--db`); None is the one `report`, `scan`, `history` and
        `diff` use: MAILWARDEN_DB, else the per-user default (`mailwarden.store`)."""
        return self.db_url


def _posture_due(config: WatchConfig, state: WatchState, now: datetime) -> bool:
    if not (config.tenant_dir / "tenant.json").exists() or state.posture_at is None:
        return True
    return now - state.posture_at >= config.posture_every


def custodians_of(scan: Scan) -> dict[str, str]:
    return {a.upn.lower(): a.custodian.person.lower()
            for a in scan.result.assessments if a.custodian is not None}


def _edge_suppressed(alerts: Sequence[Mapping[str, Any]], *, window: LogWindow,
                     truncated: bool, batch: Pull, known: Callable[[str], bool]
                     ) -> tuple[list[Mapping[str, Any]], int]:
    """Drop unknown alerts that are only a cut-off view of older records (see EDGE)."""
    files = window.files()
    if not truncated or not files:
        return list(alerts), 0
    oldest = min(f.name.split(".")[1] for f in files)
    edge = read_time(oldest) + EDGE
    first_new = min(r.time for r in batch.records) if batch.records else None
    kept, dropped = [], 0
    for alert in alerts:
        first_seen = parse_time(alert.get("first_seen"))
        last_seen = parse_time(alert.get("last_seen"))
        old_start = first_seen is None or first_seen < edge
        nothing_new = first_new is None or last_seen is None or last_seen < first_new
        if old_start and nothing_new and not known(str(alert["id"])):
            dropped += 1
        else:
            kept.append(alert)
    return kept, dropped


def _detect(config: WatchConfig, window: LogWindow, scan: Scan) -> DetectionResult | None:
    with window.combined() as files:
        if not files:
            return None
        context = context_from_scan(scan.snapshot, scan.result)
        return detect_files(files, context, options=config.detect_options)


def run_cycle(config: WatchConfig, source: TenantSource, send: SendFunction, *,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC),
              on_phase: PhaseHook | None = None) -> CycleReport:
    """Run one cycle; raises what the source raises (throttling, sign-in) with nothing
    committed, so the next cycle repeats it, and StateInUseError when another process
    holds the state folder."""
    with hold_folder(config.state_dir, hint=STATE_DIR_HINT):
        return _cycle(config, source, send, clock=clock, on_phase=on_phase)


def _cycle(config: WatchConfig, source: TenantSource, send: SendFunction, *,
           clock: Callable[[], datetime], on_phase: PhaseHook | None) -> CycleReport:
    phase = on_phase or (lambda name: None)
    started = clock()
    state = load_state(config.state_dir)
    window = LogWindow(config.tenant_dir / "logs")

    pull = source.pull()
    phase("pulled")
    pruned = window.prune(config.history)
    if pruned:
        state = replace(state, window_truncated=True)
    written = window.append(pull.records)
    phase("appended")

    refreshed = _posture_due(config, state, started)
    if refreshed:
        source.collect_posture(config.tenant_dir)
        state = state.with_posture(started)
        save_state(config.state_dir, state)
    scan = scan_directory(config.tenant_dir, custodians_file=config.custodians_file
                          or find_custodians(config.tenant_dir, None))
    detection = _detect(config, window, scan)
    phase("detected")

    outbox = FileOutbox(config.state_dir / OUTBOX_FILE)
    registry = AlertRegistry(config.state_dir)
    remembered = outbox.remembered()
    alerts = [alert_dict(a) for a in detection.alerts] if detection else []
    candidates, edge_dropped = _edge_suppressed(
        alerts, window=window, truncated=state.window_truncated, batch=pull,
        known=lambda ident: registry.knows(ident) or f"alert:{ident}" in remembered)
    notifiable = registry.observe(candidates, started)
    registry.save()

    run = make_run(scan.result, generated_at=started, snapshot=scan.snapshot,
                   detection=detection)
    run = with_changes(run, changes_since_previous(run, config.database))
    run_id = store_run(run, config.database)
    phase("stored-run")

    findings = scan.result.findings
    notices = notices_for(notifiable, findings, previous_failing=outbox.failing_findings(),
                          since=iso(started))
    plan = plan_notifications(notices, config.routing, custodians_of(scan), remembered)
    outbox.store(plan.deliveries, plan.remember, failing_findings=failing_keys(findings))
    phase("stored-notices")
    reports = send_pending(outbox, config.routing, send, clock=clock)
    phase("sent")

    source.commit(pull)
    save_state(config.state_dir, replace(state, cycles=state.cycles + 1))
    phase("committed")
    return CycleReport.build(
        started=started, finished=clock(), source=source.description, pull=pull,
        written=written, window_records=window.record_count(), dropped_days=len(pruned.days),
        posture_refreshed=refreshed, detection=detection, alerts=len(alerts),
        edge_suppressed=edge_dropped, acknowledged=len(candidates) - len(notifiable),
        plan=plan, reports=reports, failing=len(failing_keys(findings)), run_id=run_id)
