"""Synchronous entries for the CLI: open the run's one connection, apply or roll back, close."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from mailwarden.collect.live import open_m365
from mailwarden.m365.auth import DeviceCodePrompt, TokenSource, token_source_from_settings
from mailwarden.model.inventory import TenantInfo
from mailwarden.remediate.apply import RunReport, apply_plan
from mailwarden.remediate.errors import TenantMismatchError
from mailwarden.remediate.journal import Journal
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


def _run(
    settings: Settings,
    work: Callable[[Wire], Awaitable[RunReport]],
    *,
    tokens: TokenSource | None,
    on_device_code: DeviceCodePrompt | None,
) -> RunReport:
    source = tokens or token_source_from_settings(settings, on_device_code=on_device_code)

    async def main() -> RunReport:
        async with open_m365(settings, source) as http:
            return await work(Wire(http, settings.require_tenant()))

    return asyncio.run(main())


def run_apply(
    plan: Plan,
    settings: Settings,
    journal: Journal | None,
    *,
    dry_run: bool,
    tokens: TokenSource | None = None,
    on_device_code: DeviceCodePrompt | None = None,
) -> RunReport:
    """Apply (or dry-run) `plan` against the tenant `settings` reaches. A dry run needs
    no journal."""
    return _run(
        settings,
        lambda wire: apply_plan(plan, wire, journal, dry_run=dry_run),
        tokens=tokens,
        on_device_code=on_device_code,
    )


def run_rollback(
    run_id: str,
    settings: Settings,
    journal: Journal,
    *,
    action_ids: tuple[str, ...] = (),
    tokens: TokenSource | None = None,
    on_device_code: DeviceCodePrompt | None = None,
) -> RunReport:
    """Roll back journalled run `run_id` (or some of its actions)."""
    require_same_tenant(journal.load(run_id).tenant_id, settings.require_tenant())
    return _run(
        settings,
        lambda wire: rollback_run(run_id, wire, journal, action_ids=action_ids),
        tokens=tokens,
        on_device_code=on_device_code,
    )
