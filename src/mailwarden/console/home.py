"""The overview: per tenant in the history database, the posture score over its stored
runs, open incidents by severity, the latest run's ownerless mailboxes by risk band, how
fresh its posture and its logs are (a tenant past `ConsoleConfig.stale_posture` or
`stale_logs` is flagged STALE), and the exceptions expiring within 14 days.

The log pull's freshness is the newest stored run that analysed logs: the watcher stores a
run every cycle (`watch.cycle`), while its checkpoint lives in its state directory, which
the console does not read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from mailwarden.assess.accept import state_of
from mailwarden.console.chart import LineChart, line_chart
from mailwarden.console.context import Ctx
from mailwarden.console.links_to import mailboxes_url
from mailwarden.console.pages import Page
from mailwarden.console.roles import Role
from mailwarden.model.exceptions import EXPIRING_DAYS, ExceptionState, FindingException
from mailwarden.model.findings import Severity
from mailwarden.store.overview import (
    RunPoint,
    approved_exceptions,
    open_incidents,
    risk_bands,
    run_points,
)

#: With more tenants than this the overview shows one at a time, with a selector.
SELECTOR_FROM = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Expiring:
    exception: FindingException
    days_left: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantSection:
    tenant_id: str
    name: str
    latest: RunPoint
    runs: int
    chart: LineChart
    incidents: tuple[tuple[str, int], ...]  # (severity, open count), worst first
    bands: tuple[tuple[str, int], ...]  # (risk band, mailboxes), highest band first
    collected_at: datetime
    logs_at: datetime | None  # the newest run that analysed logs; None: never
    stale: tuple[str, ...]  # why the tenant is flagged; empty when fresh
    expiring: tuple[Expiring, ...]

    @property
    def open_incidents(self) -> int:
        return sum(count for _, count in self.incidents)

    @property
    def mailboxes_url(self) -> str:
        return mailboxes_url(self.tenant_id)


def _age(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


def staleness(*, now: datetime, collected_at: datetime, logs_at: datetime | None,
              posture_limit: timedelta, logs_limit: timedelta) -> tuple[str, ...]:
    """Why a tenant's data is stale: its posture, or its logs, older than their limits.
    Logs never analysed are not stale: there is no pull to be late."""
    reasons = []
    if now - collected_at > posture_limit:
        reasons.append(f"posture collected {_age(now - collected_at)} ago "
                       f"(limit {_age(posture_limit)})")
    if logs_at is not None and now - logs_at > logs_limit:
        reasons.append(f"logs last pulled {_age(now - logs_at)} ago (limit {_age(logs_limit)})")
    return tuple(reasons)


def expiring(exceptions: Sequence[FindingException], now: datetime) -> tuple[Expiring, ...]:
    """The exceptions expiring within EXPIRING_DAYS (`assess.accept.state_of`), soonest
    first."""
    soon = [Expiring(exception=e, days_left=e.days_left(now)) for e in exceptions
            if state_of(e, now) is ExceptionState.EXPIRING]
    return tuple(sorted(soon, key=lambda x: (x.days_left, x.exception.label)))


def sections(points: Mapping[str, Sequence[RunPoint]], incidents: Mapping[str, Mapping[str, int]],
             bands: Mapping[int, Mapping[str, int]],
             exceptions: Mapping[str, Sequence[FindingException]], *, now: datetime,
             posture_limit: timedelta, logs_limit: timedelta) -> tuple[TenantSection, ...]:
    """One section per tenant, by name."""
    found = []
    for tenant_id, runs in points.items():
        latest = runs[-1]
        collected = latest.collected_at or latest.generated_at
        logs_at = next((r.generated_at for r in reversed(runs) if r.alerts is not None), None)
        counts = incidents.get(tenant_id, {})
        found.append(TenantSection(
            tenant_id=tenant_id, name=latest.tenant_name or tenant_id, latest=latest,
            runs=len(runs),
            chart=line_chart("Posture score", [(r.generated_at, r.posture) for r in runs]),
            incidents=tuple((s.value, counts.get(s.value, 0)) for s in Severity
                            if counts.get(s.value, 0)),
            bands=tuple(reversed(tuple(bands.get(latest.id, {}).items()))),
            collected_at=collected, logs_at=logs_at,
            stale=staleness(now=now, collected_at=collected, logs_at=logs_at,
                            posture_limit=posture_limit, logs_limit=logs_limit),
            expiring=expiring(exceptions.get(tenant_id, ()), now)))
    return tuple(sorted(found, key=lambda s: (s.name.lower(), s.tenant_id)))


async def home(request: Request, ctx: Ctx) -> Response:
    history = ctx.console.history
    points = run_points(history)
    config = ctx.console.config
    every = sections(points, open_incidents(history),
                     risk_bands(history, [runs[-1].id for runs in points.values()]),
                     approved_exceptions(history), now=ctx.now,
                     posture_limit=config.stale_posture, logs_limit=config.stale_logs)
    chosen = every
    selected = request.query_params.get("tenant")
    if len(every) >= SELECTOR_FROM:
        chosen = tuple(s for s in every if s.tenant_id == selected) or every[:1]
    return ctx.render("home.html", title="Overview", sections=chosen, tenants=every,
                      selector=len(every) >= SELECTOR_FROM, expiring_days=EXPIRING_DAYS,
                      now=ctx.now)


PAGES = (Page(path="/", endpoint=home, name="home", need=Role.VIEWER),)
