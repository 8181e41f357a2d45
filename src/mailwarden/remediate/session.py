"""Synchronous entries for the CLI: apply or roll back through the command's session.

The session (`m365.session.M365Session`) is the command's one event loop, token source and
client: the CLI collects the tenant and applies the plan through the same one, so a person
signs in once per command."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from mailwarden.m365.session import M365Session
from mailwarden.model.inventory import TenantInfo
from mailwarden.remediate.apply import RunReport, apply_plan
from mailwarden.remediate.errors import TenantMismatchError
from mailwarden.remediate.journal import Journal
from mailwarden.remediate.model import Plan
from mailwarden.remediate.rollback import rollback_run
from mailwarden.remediate.wire import Wire

_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)


def require_same_tenant(findings: TenantInfo | str, connected: str) -> None:
    """Refuse to change a tenant with findings read from another one."""
    tenant_id = findings if isinstance(findings, str) else findings.tenant_id
    domains = () if isinstance(findings, str) else findings.verified_domains
    wanted = connected.lower()
    if _GUID.match(connected):
        same = wanted == tenant_id.lower()
    else:
        same = not domains or wanted in {d.lower() for d in domains}
    if not same:
        raise TenantMismatchError(
            f"the findings are of tenant {tenant_id}, but --tenant names {connected}; "
            "connect to the tenant the findings came from, or scan this one first"
        )


def _run(session: M365Session, work: Callable[[Wire], Awaitable[RunReport]]) -> RunReport:
    tenant = session.settings.require_tenant()
    return session.run(lambda http: work(Wire(http, tenant)))


def run_apply(
    plan: Plan, session: M365Session, journal: Journal | None, *, dry_run: bool
) -> RunReport:
    """Apply (or dry-run) `plan` against the tenant the session reaches. A dry run needs
    no journal."""
    return _run(session, lambda wire: apply_plan(plan, wire, journal, dry_run=dry_run))


def run_rollback(
    run_id: str,
    session: M365Session,
    journal: Journal,
    *,
    action_ids: tuple[str, ...] = (),
) -> RunReport:
    """Roll back journalled run `run_id` (or some of its actions)."""
    require_same_tenant(journal.load(run_id).tenant_id, session.settings.require_tenant())
    return _run(session, lambda wire: rollback_run(run_id, wire, journal, action_ids=action_ids))
