"""One watch cycle: pull, keep, assess, detect, store, notify, and only then move the
checkpoint.

The order is what makes a cycle restart-safe. New records are appended to the window
idempotently (by record id) before anything else, the alerts are folded into the
incidents of the history database (`detect.lifecycle`, `store.incidents`), the run is
stored, a notice per incident not acknowledged is handed to the outbox (which keeps only
the new and the worse), the incidents it now holds are marked notified, the notices are
sent; the checkpoint moves last. A cycle killed anywhere repeats on restart from the old
checkpoint: the records it re-reads are already in the window and not written twice, the
alerts it sees again are already in their incidents, the notices it hands over again are
already in the outbox and not stored twice, and the deliveries still pending are sent
once. (A crash after a
channel accepted a message but before the outbox marked it sent can repeat that one
message: see `mailwarden.notify.outbox`.) A repeated cycle stores its run again: the
history then holds two runs a few minutes apart, which drift between them shows as such.

A cycle stores its run only when it differs from the last run this watcher stored in that
database (`run_fingerprint`: the findings and the alerts over the window); a quiet cycle
names that run instead, so the history grows with what changed, not with every cycle.

What is handed to the outbox is `to_send`'s: critical notices one by one, the rest of a
cycle in one digest per recipient and channel (`mailwarden.notify.digest`), and on the
folder's first cycle what `--first-cycle` says (a baseline summary by default). A first
cycle killed before its checkpoint moved runs again as a first cycle.

The checkpoint moves once every delivery was stored and tried. A delivery its channel
refused stays pending in the outbox and is tried again first thing in the next cycle;
holding the checkpoint back for it would only read the same records again.

A cycle holds the state folder (`mailwarden.statelock`): a second watcher on the same
folder is refused with `StateInUseError` before it reads or writes anything.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from mailwarden.detect import DetectOptions, context_from_scan, detect_files
from mailwarden.detect.document import alert_dicts, incident_dict
from mailwarden.detect.lifecycle import (
    DEFAULT_POLICY,
    Observed,
    Policy,
    mark_notified,
    observe,
    to_notify,
)
from mailwarden.detect.results import DetectionResult
from mailwarden.model.findings import ScanResult, Severity
from mailwarden.model.incidents import Incident, IncidentStatus, TrackedIncident
from mailwarden.notify import (
    Routing,
    failing_keys,
    notices_for,
    plan_notifications,
    send_pending,
)
from mailwarden.notify.answer import with_answer_links
from mailwarden.notify.digest import critical, digest_deliveries, goes_alone
from mailwarden.notify.dispatch import Plan, SendFunction
from mailwarden.notify.outbox import Delivery, FileOutbox
from mailwarden.pipeline import Scan, find_custodians, scan_directory
from mailwarden.report import make_run, with_changes
from mailwarden.report.findings_json import render_findings_json
from mailwarden.statelock import hold_folder
from mailwarden.store import changes_since_previous, store_run
from mailwarden.store.incidents import IncidentStore
from mailwarden.store.location import described, resolve_db_url
from mailwarden.times import iso, read_time
from mailwarden.watch.report import CycleReport
from mailwarden.watch.source import Pull, TenantSource
from mailwarden.watch.state import StoredRun, WatchState, load_state, save_state
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
#: (tenant id, incident id, custodian) -> the URL of the custodian's "was this you?" page,
#: or None (`WatchConfig.answer_links`).
AnswerLinks = Callable[[str, str, str], str | None]


class FirstCycle(StrEnum):
    """What the first cycle on a state folder sends. Whatever it sends, it stores every
    incident and remembers every notice, so later cycles tell only of what is new or worse.

    SUMMARY: the baseline, one message per custodian (their mailboxes' open incidents and
    failing checks), one to the security team (everything open now) per email channel, and
    one per chat or webhook channel; syslog channels get their events as on any cycle.
    ALL: the first cycle sends like any later one (critical at once, the rest in digests).
    QUIET: nothing is sent; the baseline is only stored."""

    SUMMARY = "summary"
    ALL = "all"
    QUIET = "quiet"


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchConfig:
    state_dir: Path
    routing: Routing
    posture_every: timedelta = timedelta(hours=24)
    history: timedelta = DEFAULT_HISTORY
    custodians_file: Path | None = None
    #: Accepted exceptions (YAML), re-read every cycle; the store's for the tenant apply too.
    exceptions_file: Path | None = None
    db_url: str | None = None  # None: the history every command uses (MAILWARDEN_DB, ...)
    detect_options: DetectOptions | None = None
    #: How alerts group into incidents and when a quiet incident is resolved.
    policy: Policy = DEFAULT_POLICY
    first_cycle: FirstCycle = FirstCycle.SUMMARY
    #: None: a digest every cycle; an hour (0-23, UTC): the day's digest goes in the first
    #: cycle at or after it, and until then non-critical notices are held in the outbox.
    digest_hour: int | None = None
    #: (tenant id, incident id, custodian) -> the URL of the custodian's "was this you?"
    #: page, put in the emails custodians get about an incident (`notify.answer`); None:
    #: messages carry no link (no console URL is configured).
    answer_links: AnswerLinks | None = None
    #: The posture counts as fresh only when collected at or after this time (a fleet's
    #: posture job: its schedule slot); None: `posture_every` decides.
    posture_since: datetime | None = None
    #: The fleet job running this cycle: the run it stores is stored once, however often
    #: the job runs (a message redelivered after its worker died).
    run_key: str | None = None
    #: False: no new log records are read (a fleet's posture job: its logs job reads
    #: them); detection runs over the window as it is, and the checkpoint stays.
    pull_logs: bool = True

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
    if config.posture_since is not None:
        return state.posture_at < config.posture_since
    return now - state.posture_at >= config.posture_every


def as_incident(tracked: TrackedIncident) -> Incident:
    """A kept incident as a run's document shows it."""
    return Incident(
        id=tracked.id, category=tracked.category, categories=tracked.categories,
        families=tracked.families, severity=Severity(tracked.severity),
        targets=tracked.targets, source_ips=tracked.source_ips, actors=tracked.actors,
        first_seen=tracked.first_seen, last_seen=tracked.last_seen,
        alert_ids=tracked.alert_ids, marks=tracked.marks, summary=tracked.summary,
        status=tracked.status)


def notice_document(tracked: TrackedIncident) -> dict[str, Any]:
    """What an incident's notice carries: the incident as alerts.json shows it."""
    return incident_dict(as_incident(tracked))


def custodians_of(scan: Scan) -> dict[str, str]:
    return {a.upn.lower(): a.custodian.person.lower()
            for a in scan.result.assessments if a.custodian is not None}


def _edge_suppressed(observed: Observed, known: Mapping[str, TrackedIncident], *,
                     window: LogWindow, truncated: bool, batch: Pull,
                     remembered: Collection[str]) -> tuple[Observed, int]:
    """Drop new incidents that are only a cut-off view of older records (see EDGE): they
    are neither kept nor notified."""
    files = window.files()
    if not truncated or not files:
        return observed, 0
    oldest = min(f.name.split(".")[1] for f in files)
    edge = read_time(oldest) + EDGE
    first_new = min(r.time for r in batch.records) if batch.records else None
    dropped = set()
    for ident, incident in observed.incidents.items():
        if ident in known or f"incident:{ident}" in remembered:
            continue
        old_start = incident.first_seen is None or incident.first_seen < edge
        nothing_new = (first_new is None or incident.last_seen is None
                       or incident.last_seen < first_new)
        if old_start and nothing_new:
            dropped.add(ident)
    if not dropped:
        return observed, 0
    return replace(
        observed, incidents={k: v for k, v in observed.incidents.items() if k not in dropped},
        changed=observed.changed - dropped,
        of_alert={a: i for a, i in observed.of_alert.items() if i not in dropped},
    ), len(dropped)


def _as_of(batch: Pull, detection: DetectionResult | None, now: datetime) -> datetime | None:
    """The logs' clock: the newest record this cycle read (never past now)."""
    times = [r.time for r in batch.records]
    if detection is not None:
        times += [a.last_seen for a in detection.alerts if a.last_seen is not None]
    return min(max(times), now) if times else None


def _track(config: WatchConfig, tenant_id: str, detection: DetectionResult | None, *,
           window: LogWindow, truncated: bool, batch: Pull, remembered: Collection[str],
           now: datetime) -> tuple[Observed, int]:
    """Fold the cycle's alerts into the stored incidents and store them."""
    with IncidentStore.open(config.database) as store:
        known = store.load(tenant_id)
        observed = observe(known, detection.alerts if detection else (), tenant_id=tenant_id,
                           now=now, as_of=_as_of(batch, detection, now), policy=config.policy)
        observed, dropped = _edge_suppressed(observed, known, window=window,
                                             truncated=truncated, batch=batch,
                                             remembered=remembered)
        store.save(tenant_id, [observed.incidents[i] for i in observed.changed],
                   forgotten=observed.forgotten)
    return observed, dropped


def _with_incidents(detection: DetectionResult, observed: Observed) -> DetectionResult:
    """The run's detection with its alerts' incidents as the watcher keeps them."""
    held = dict.fromkeys(observed.of_alert[a.id] for a in detection.alerts
                         if a.id in observed.of_alert)
    return replace(detection, incidents=tuple(
        as_incident(observed.incidents[ident]) for ident in held))


def _mark_notified(config: WatchConfig, tenant_id: str, observed: Observed,
                   remembered: Collection[str], now: datetime) -> None:
    """Incidents whose notice the outbox now holds are `notified`."""
    marked = [mark_notified(inc, now) for inc in observed.incidents.values()
              if inc.status is IncidentStatus.OPEN and f"incident:{inc.id}" in remembered]
    if marked:
        with IncidentStore.open(config.database) as store:
            store.save(tenant_id, marked)


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """What a cycle does with its plan's deliveries (`schedule`)."""

    store: tuple[Delivery, ...] = ()  # to send now
    hold: tuple[Delivery, ...] = ()  # to keep for the day's digest
    release: tuple[str, ...] = ()  # held deliveries now in a digest
    digest_day: str | None = None  # set when the day's digest is made


def schedule(plan: Plan, routing: Routing, *, first: FirstCycle | None,
             digest_hour: int | None = None, held: Sequence[Delivery] = (),
             digest_day: str | None = None, now: datetime) -> Schedule:
    """On a first cycle what `first` says. Later, critical notices (and syslog events) one
    by one, the rest in one digest per recipient and channel: every cycle, or with
    `digest_hour` held until the first cycle at or after that hour (UTC) on a day with no
    digest yet, and then sent with everything held before."""
    deliveries = plan.deliveries
    if first is FirstCycle.QUIET:
        return Schedule()
    if first is FirstCycle.SUMMARY:
        return Schedule(store=digest_deliveries(deliveries, routing, immediate=lambda n: False,
                                                baseline=True))
    if digest_hour is None:
        return Schedule(store=digest_deliveries(deliveries, routing, immediate=critical))
    alone = tuple(d for d in deliveries if goes_alone(d, routing))
    rest = tuple(d for d in deliveries if not goes_alone(d, routing))
    today = now.astimezone(UTC).date().isoformat()
    if now.astimezone(UTC).hour < digest_hour or digest_day == today:
        return Schedule(store=alone, hold=rest)
    digests = digest_deliveries((*held, *rest), routing, immediate=lambda n: False)
    return Schedule(store=alone + digests, release=tuple(d.id for d in held),
                    digest_day=today)


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

    pull = source.pull() if config.pull_logs else Pull(records=(), checkpoint=None)
    phase("pulled")
    written = window.append(pull.records)
    # After appending: a first pull can bring more than --history (a recorded tenant's
    # whole logs), and the window holds no more than that from the first cycle on.
    pruned = window.prune(config.history)
    if pruned:
        state = replace(state, window_truncated=True)
    phase("appended")

    refreshed = _posture_due(config, state, started)
    collected = None
    if refreshed:
        collected = source.collect_posture(config.tenant_dir)
        state = state.with_posture(started)
        save_state(config.state_dir, state)
    scan = scan_directory(config.tenant_dir, custodians_file=config.custodians_file
                          or find_custodians(config.tenant_dir, None),
                          db_url=config.database, exceptions_file=config.exceptions_file,
                          at=started, written=collected)
    detection = _detect(config, window, scan)
    phase("detected")

    outbox = FileOutbox(config.state_dir / OUTBOX_FILE)
    remembered = outbox.remembered()
    tenant_id = scan.result.tenant.tenant_id
    observed, edge_dropped = _track(config, tenant_id, detection, window=window,
                                    truncated=state.window_truncated, batch=pull,
                                    remembered=remembered, now=started)
    if detection is not None:
        detection = _with_incidents(detection, observed)
    notifiable = to_notify(observed.incidents.values())
    alerts = alert_dicts(detection) if detection else []

    fingerprint = run_fingerprint(scan.result, alerts)
    database = described(resolve_db_url(config.database))
    kept = state.last_run
    run_stored = not (kept is not None and kept.fingerprint == fingerprint
                      and kept.database == database)
    if run_stored:
        run = make_run(scan.result, generated_at=started, snapshot=scan.snapshot,
                       detection=detection)
        run = with_changes(run, changes_since_previous(run, config.database))
        run_id = store_run(run, config.database, job_key=config.run_key)
        state = replace(state, last_run=StoredRun(run_id=run_id, fingerprint=fingerprint,
                                                  database=database))
    else:
        assert kept is not None
        run_id = kept.run_id
    phase("stored-run")

    findings = scan.result.findings
    wanted = {incident.id for incident in notifiable}
    notices = notices_for([a for a in alerts if a.get("incident_id") in wanted], findings,
                          previous_failing=outbox.failing_findings(), since=iso(started),
                          incidents=[notice_document(i) for i in notifiable])
    plan = plan_notifications(notices, config.routing, custodians_of(scan), remembered)
    first = config.first_cycle if state.cycles == 0 else None
    planned = schedule(plan, config.routing, first=first, digest_hour=config.digest_hour,
                       held=outbox.held(), digest_day=outbox.digest_day(), now=started)
    deliveries = planned.store
    outbox.store(deliveries, plan.remember, failing_findings=failing_keys(findings),
                 hold=planned.hold, release=planned.release, digest_day=planned.digest_day)
    _mark_notified(config, tenant_id, observed, outbox.remembered(), started)
    phase("stored-notices")
    if config.answer_links is not None:
        send = with_answer_links(send, functools.partial(config.answer_links, tenant_id))
    reports = send_pending(outbox, config.routing, send, clock=clock)
    phase("sent")

    if config.pull_logs:
        source.commit(pull)
    save_state(config.state_dir, replace(state, cycles=state.cycles + 1))
    phase("committed")
    return CycleReport.build(
        started=started, finished=clock(), source=source.description, pull=pull,
        written=written, window_records=window.record_count(), dropped_days=len(pruned.days),
        posture_refreshed=refreshed, detection=detection, alerts=len(alerts),
        edge_suppressed=edge_dropped, incidents=len(notifiable),
        acknowledged=sum(1 for i in observed.incidents.values()
                         if i.status is IncidentStatus.ACKNOWLEDGED),
        plan=plan, reports=reports, failing=len(failing_keys(findings)), run_id=run_id,
        run_stored=run_stored, first_cycle=first, deliveries=len(deliveries),
        held=len(planned.hold))


#: The time every fingerprint renders the findings at, so that only their content counts.
_FINGERPRINT_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def run_fingerprint(result: ScanResult, alerts: Sequence[Mapping[str, Any]]) -> str:
    """What a cycle's run holds, hashed: the findings (as findings.json renders them, which
    includes when the posture was collected) and the alerts over the window (but where
    the cycle's joined copy of the window was). Equal
    fingerprints mean storing the run again would only copy the last one."""
    digest = hashlib.sha256(render_findings_json(result, _FINGERPRINT_TIME).encode())
    ordered = sorted(alerts, key=lambda alert: str(alert.get("id")))  # a set, not a list
    digest.update(json.dumps(_without_key(ordered, "source_file"), sort_keys=True,
                             default=str).encode())
    return digest.hexdigest()


def _without_key(value: Any, key: str) -> Any:
    """`value` with every `key` left out: the evidence's `source_file` names the folder each
    cycle joins the window into, which is new every cycle."""
    if isinstance(value, Mapping):
        return {k: _without_key(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list | tuple):
        return [_without_key(v, key) for v in value]
    return value
