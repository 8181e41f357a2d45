"""The remediation work the console does off the server's event loop: a fresh read of the
tenant and its plan, and applying or rolling back a change request through the journalled
apply of `remediate.session`, journalled in the console's own history database.

Each function is synchronous and blocking: the endpoints run them in a worker thread
(`starlette.concurrency.run_in_threadpool`), so the server keeps answering meanwhile. Each
opens its own `M365Session` (its own event loop, token source and client) with the
settings the console was started with (`--config`, as the CLI's commands read them; the
credential comes from the environment, never from the file). The console signs in as the
application: a device code needs a person at a terminal, which a web server has not.

A change request is applied once: `ChangeStore.begin_apply` (approved -> applying) is won by
one caller only, before any of this runs; whatever happens here ends the request applied or
failed, never left applying.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailwarden.console.config import ConsoleConfig
from mailwarden.errors import ConfigError, MailwardenError
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import collect_live_tenant, scan_snapshot
from mailwarden.remediate.apply import OutcomeStatus, RunReport
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.remediate.kinds import KINDS
from mailwarden.remediate.model import Action, Plan
from mailwarden.remediate.plan import PlanOptions, build_plan
from mailwarden.remediate.session import require_same_tenant, run_apply, run_rollback
from mailwarden.settings import AuthMethod, Settings, load_settings
from mailwarden.store.changes import ChangeRequest, ChangeStore
from mailwarden.tenant.snapshot import snapshot_from_recorded

_LOG = logging.getLogger(__name__)

#: Rollback outcomes that leave the object as it was before the change (or never changed).
_RESTORED = frozenset({OutcomeStatus.ROLLED_BACK, OutcomeStatus.ALREADY_RESTORED,
                       OutcomeStatus.NOTHING_TO_UNDO, OutcomeStatus.NOT_REVERSIBLE})


def connection_settings(config: ConsoleConfig) -> Settings | None:
    """The settings the console reaches its tenant with; None when it was started without
    `--config`. Settings that cannot sign in from a web server are a ConfigError."""
    if config.settings_file is None:
        return None
    if not config.settings_file.is_file():
        raise ConfigError(f"{config.settings_file}: settings file not found")
    settings = load_settings(toml_path=config.settings_file)
    settings.require_tenant()
    settings.require_client_id()
    if settings.auth is AuthMethod.DEVICE_CODE:
        raise ConfigError("the console signs in as the application: set a certificate "
                          "(certificate_path) or the client secret in the environment, not "
                          "the device code")
    return settings


def is_connected_tenant(settings: Settings, tenant: str) -> bool:
    return settings.tenant is not None and tenant.lower() == settings.tenant.lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantPlan:
    plan: Plan
    not_collected: tuple[str, ...]  # "source: message" of each source that failed
    read_at: datetime


def fresh_plan(settings: Settings, *, db_url: str | None, now: datetime) -> TenantPlan:
    """Read the tenant now and plan its remediation, as `remediate plan` does: the
    history's approved exceptions apply, the break-glass accounts come from the settings."""
    with M365Session(settings) as session:
        recorded = collect_live_tenant(session)
    scan = scan_snapshot(snapshot_from_recorded(recorded), db_url=db_url, at=now)
    plan = build_plan(scan.result, scan.snapshot,
                      PlanOptions(break_glass=settings.break_glass), now=now)
    failed = tuple(f"{source}: {message}" for source, message in sorted(recorded.errors.items()))
    return TenantPlan(plan=plan, not_collected=failed, read_at=now)


def totals(actions: tuple[Action, ...]) -> list[tuple[str, int]]:
    """Actions per kind, in the order kinds are applied (as `remediate plan` shows)."""
    counts = Counter(a.kind for a in actions)
    return [(k.kind.value, counts[k.kind]) for k in KINDS if counts[k.kind]]


def selected(plan: Plan, ids: set[str], kinds: set[str]) -> tuple[Action, ...]:
    """The plan's actions named by id, or of a kind chosen whole, in plan order. An id the
    fresh plan no longer holds is an InputError (the tenant changed since the page was
    shown)."""
    plan.select(tuple(sorted(ids)))  # raises UnknownActionError for an id not in the plan
    return tuple(a for a in plan.actions if a.id in ids or a.kind.value in kinds)


def _outcomes(report: RunReport) -> dict[str, dict[str, Any]]:
    return {o.action.id: {"status": o.status.value, "error": o.error} for o in report.outcomes}


Finished = Callable[[ChangeRequest], None]


def apply_request(changes: ChangeStore, request: ChangeRequest, *, settings: Settings,
                  db_url: str | None, by: str, clock: Callable[[], datetime],
                  finished: Finished) -> ChangeRequest:
    """Apply a request already moved to applying; ends it applied (every action applied or
    already done) or failed, with each action's outcome and the journalled run id."""
    run_id: str | None = None
    try:
        plan = Plan(tenant_id=request.tenant_id, tenant_name=None, default_domain=None,
                    collected_at=None,
                    actions=tuple(Action.from_dict(a) for a in request.actions))
        require_same_tenant(request.tenant_id, settings.require_tenant())
        with M365Session(settings) as session, DatabaseJournal(db_url) as journal:
            report = run_apply(plan, session, journal, dry_run=False, by=by)
        run_id = report.run_id
        outcome: dict[str, Any] = {"actions": _outcomes(report), "error": None}
        failed = bool(report.failures)
    except MailwardenError as exc:
        outcome, failed = {"actions": {}, "error": str(exc)}, True
    except Exception as exc:  # isolate: a request must never stay "applying"
        _LOG.exception("applying change request %s failed", request.id)
        outcome, failed = {"actions": {}, "error": f"internal error: {type(exc).__name__}"}, True
    done = changes.finish_apply(request.id, run_id=run_id, outcome=outcome, failed=failed,
                                at=clock())
    finished(done)
    return done


def rollback_request(changes: ChangeStore, request: ChangeRequest, *, settings: Settings,
                     db_url: str | None, by: str, clock: Callable[[], datetime],
                     finished: Finished) -> ChangeRequest:
    """Roll back a request already moved to rolling-back from its journalled run; ends it
    rolled-back when every action is as it was, else back where it was, to try again."""
    try:
        with DatabaseJournal(db_url, create=False) as journal, M365Session(settings) as session:
            report = run_rollback(request.remediation_run_id or "", session, journal)
        outcome: dict[str, Any] = {"actions": _outcomes(report), "error": None}
        done = all(o.status in _RESTORED for o in report.outcomes)
    except MailwardenError as exc:
        outcome, done = {"actions": {}, "error": str(exc)}, False
    except Exception as exc:  # isolate: never left "rolling-back"
        _LOG.exception("rolling back change request %s failed", request.id)
        outcome, done = {"actions": {}, "error": f"internal error: {type(exc).__name__}"}, False
    after = changes.finish_rollback(request.id, outcome=outcome, done=done, by=by, at=clock())
    finished(after)
    return after
