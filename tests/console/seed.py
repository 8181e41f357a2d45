"""A history database with something on every console page, written as the product writes
it: a synthetic tenant (optionally with hostile strings) is written to disk with its logs,
read back, scanned, its logs analysed, the run stored; the alerts are folded into incidents
as the watcher does; an exception, a change request (of the tenant's real plan) and, where
the reviews store exists, an access review are stored through their stores.

`seed_history(db_url, work)` returns the ids the pages need (`Seeded.values` fills a path's
parameters). Building one takes a few seconds: share it per module.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mailwarden.detect.lifecycle import observe
from mailwarden.model.exceptions import ExceptionSource, FindingException
from mailwarden.pipeline import (
    audit_usage,
    detect_logs,
    rank_by_evidence,
    report_and_store,
    scan_snapshot,
)
from mailwarden.remediate.plan import PlanOptions, build_plan
from mailwarden.store.changes import ChangeStore
from mailwarden.store.exceptions import ExceptionStore
from mailwarden.store.history import History
from mailwarden.store.incidents import IncidentStore
from mailwarden.synth import generate
from mailwarden.synth.api import write_synthetic
from mailwarden.tenant.recorded import read_recorded_tenant
from mailwarden.tenant.snapshot import snapshot_from_recorded

#: Strings a tenant may hold that must stay text on every page.
HOSTILE_MARKUP = '"><img src=x onerror=alert(1)>'
HOSTILE_SCRIPT = "<script>alert('mw')</script>"
HOSTILE_FORMULA = '=HYPERLINK("http://evil.example","x")'
HOSTILE_ESCAPE = "\x1b[31mred\x07"
HOSTILE = f"{HOSTILE_MARKUP} {HOSTILE_SCRIPT} {HOSTILE_FORMULA} {HOSTILE_ESCAPE}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Seeded:
    db_url: str
    tenant_id: str
    run_id: int
    incident_id: str
    mailbox: str
    exception_id: int
    change_id: str
    values: dict[str, str] = field(default_factory=dict)  # path parameter -> a real value


def _replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    # json.dumps gives the escaped form that a JSON document carries.
    path.write_text(text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1]),
                    encoding="utf-8")


def _make_hostile(directory: Path) -> None:
    """Tenant name, every display name and the inbox rules' names carry HOSTILE."""
    tenant_file = directory / "tenant.json"
    tenant = json.loads(tenant_file.read_text(encoding="utf-8"))
    tenant["displayName"] = f"Contoso {HOSTILE}"
    tenant_file.write_text(json.dumps(tenant), encoding="utf-8")
    users = directory / "graph" / "users.json"
    people = json.loads(users.read_text(encoding="utf-8"))
    for person in people:
        person["displayName"] = f"{person['displayName']} {HOSTILE}"
    users.write_text(json.dumps(people), encoding="utf-8")
    for path in (directory / "exo" / "Get-InboxRule.json", directory / "logs" / "ual.json"):
        if path.exists():
            for rule in ("Copy to team lead", "Invoices to folder", "Invoices to accountant"):
                _replace_in(path, rule, f"{rule} {HOSTILE}")


def _start_review(history: History, tenant_id: str, now: datetime) -> str | None:
    """An access review of every ownerless mailbox, where the console has them (the
    reviews store is added beside the console); None where it has not."""
    try:
        reviews = importlib.import_module("mailwarden.store.reviews")
    except ModuleNotFoundError:
        return None
    review = reviews.ReviewStore(history).start(
        tenant_id=tenant_id, mailbox=None, due=now.date() + timedelta(days=14), by="seed",
        at=now)
    return str(review.id)


def seed_history(db_url: str, work: Path, *, hostile: bool = False,
                 now: datetime | None = None) -> Seeded:
    moment = now or datetime.now(UTC)
    directory = work / "tenant"
    write_synthetic(generate("small", seed=0), directory)
    if hostile:
        _make_hostile(directory)
    recorded = read_recorded_tenant(directory)
    scan = scan_snapshot(snapshot_from_recorded(recorded),
                         custodians_file=directory / "custodians.csv", db_url=db_url,
                         usage=audit_usage(directory))
    detection = detect_logs(directory, scan)
    assert detection is not None and detection.alerts, "the synthetic tenant raises alerts"
    scan = rank_by_evidence(scan, detection)
    _, run_id = report_and_store(scan, work / "out", detection=detection, formats=(),
                                 db_url=db_url)
    assert run_id is not None
    tenant_id = scan.snapshot.tenant.tenant_id
    with IncidentStore.open(db_url) as store:
        observed = observe({}, detection.alerts, tenant_id=tenant_id, now=moment,
                           as_of=max(a.last_seen for a in detection.alerts
                                     if a.last_seen is not None))
        store.save(tenant_id, list(observed.incidents.values()))
    incident_id = sorted(observed.incidents)[0]
    mailbox = scan.result.inventory[0].upn if scan.result.inventory else "nobody@contoso.com"
    reason = f"kept open for the move {HOSTILE}" if hostile else "kept open for the move"
    with ExceptionStore.open(db_url) as exceptions:
        exception = exceptions.add(tenant_id, FindingException(
            check="imap-enabled", mailbox=mailbox.lower(), reason=reason,
            owner=f"it-ops {HOSTILE}" if hostile else "it-ops",
            expires=date.today() + timedelta(days=30), source=ExceptionSource.STORE,
            created_at=moment, created_by="seed"))
    plan = build_plan(scan.result, scan.snapshot, PlanOptions(force=True), now=moment)
    assert plan.actions, "the synthetic tenant has something to fix"
    with History.open(db_url) as history:
        change = ChangeStore(history).submit(
            tenant_id=tenant_id, origin="console", origin_id=None, reason=reason,
            actions=[plan.actions[0].as_dict()], requested_by="test:requester",
            requested_by_name="requester", at=moment)
        review_id = _start_review(history, tenant_id, moment)
    assert exception.id is not None
    values = {"tenant_id": tenant_id, "tenant": tenant_id, "run_id": str(run_id),
              "incident_id": incident_id, "mailbox": mailbox, "upn": mailbox,
              "exception_id": str(exception.id), "change_id": change.id,
              "request_id": change.id}
    if review_id is not None:
        values["review_id"] = review_id
    return Seeded(db_url=db_url, tenant_id=tenant_id, run_id=run_id, incident_id=incident_id,
                  mailbox=mailbox, exception_id=exception.id, change_id=change.id,
                  values=values)
