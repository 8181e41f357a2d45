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
from mailwarden.remediate.journal import Journal, RunContext
from mailwarden.remediate.model import Plan
from mailwarden.remediate.rollback import rollback_run
from mailwarden.remediate.wire import Wire
from mailwarden.settings import Settings

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


#: The settings a run's journal keeps, so that its rollback reaches the same tenant the
#: same way; never a credential.
CONNECTION_SETTINGS = ("tenant", "client_id", "cloud", "login_url", "graph_url", "exo_url",
                       "ca_bundle")


def connection_of(settings: Settings) -> dict[str, str]:
    values = {name: getattr(settings, name) for name in CONNECTION_SETTINGS}
    return {name: str(value) for name, value in values.items() if value is not None}


def run_apply(
    plan: Plan, session: M365Session, journal: Journal | None, *, dry_run: bool,
    by: str | None = None,
) -> RunReport:
    """Apply (or dry-run) `plan` against the tenant the session reaches. A dry run needs
    no journal. The journal keeps who applied it (`by`) and how the session connected."""
    context = RunContext(by=by, tenant_name=plan.tenant_name,
                         connection=connection_of(session.settings))
    return _run(session, lambda wire: apply_plan(plan, wire, journal, dry_run=dry_run,
                                                 context=context))


def run_rollback(
    run_id: str,
    session: M365Session,
    journal: Journal,
    *,
    action_ids: tuple[str, ...] = (),
    dry_run: bool = False,
) -> RunReport:
    """Roll back journalled run `run_id` (or some of its actions); a dry run only reads."""
    require_same_tenant(journal.load(run_id).tenant_id, session.settings.require_tenant())
    return _run(session, lambda wire: rollback_run(run_id, wire, journal, action_ids=action_ids,
                                                   dry_run=dry_run))
