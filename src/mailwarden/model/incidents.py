"""Incidents: the alerts of one attack, grouped, and what people did about them.

`Incident` is what grouping (`mailwarden.detect.incidents`) makes of one run's alerts.
`TrackedIncident` is an incident as the watcher keeps it across runs (in the history
database, `mailwarden.store.incidents`): its lifecycle, what was notified, and who
acknowledged it when. Plain values; nothing here reads or writes anything.

Lifecycle: `open` (raised, nobody told yet) -> `notified` (a notice was stored for
delivery) -> `acknowledged` (someone said they have it; not notified again unless it
gets worse than when they acknowledged it) -> `resolved` (by a person, or automatically
after a quiet period without new activity). A resolved incident is never reopened: new
activity that would have joined it starts a new incident that names it in `follows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from mailwarden.model.findings import Severity


class IncidentStatus(StrEnum):
    OPEN = "open"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def documented(self) -> str:
        """The status as alerts.json spells it (SPEC section 8: open, acknowledged,
        resolved): a notified incident is still open."""
        return "open" if self is IncidentStatus.NOTIFIED else self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """The alerts of one attack in one run: one source or actor, one target mailbox (or
    the accounts one source tried), related categories, close in time."""

    id: str
    category: str  # the category of its worst alert
    categories: tuple[str, ...]
    families: tuple[str, ...]
    severity: Severity  # the highest of its alerts'
    targets: tuple[str, ...]  # the mailboxes and accounts it is about
    source_ips: tuple[str, ...]
    actors: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    alert_ids: tuple[str, ...]
    #: What makes it worse than an earlier notice when it appears: a proven password, a
    #: category or mailbox raised at the incident's severity (see detect.incidents).
    marks: tuple[str, ...] = ()
    summary: str = ""
    status: IncidentStatus = IncidentStatus.OPEN


@dataclass(frozen=True, slots=True, kw_only=True)
class Seen:
    """What an incident was at a moment people were told of it or acknowledged it."""

    severity: str
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackedIncident:
    """An incident across runs, with its lifecycle."""

    id: str
    tenant_id: str
    status: IncidentStatus
    category: str
    categories: tuple[str, ...]
    families: tuple[str, ...]
    severity: str
    targets: tuple[str, ...]
    #: Where it happened, for matching later alerts: the targets of its alerts, and
    #: whether every alert had a single target (a spray has none, only accounts tried).
    places: tuple[str, ...]
    targeted: bool
    source_ips: tuple[str, ...]
    actors: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    #: Alert id -> the alert as last seen (category, rule_id, severity, target, targets,
    #: source_ips, first_seen, last_seen, summary).
    alerts: Mapping[str, Mapping[str, Any]]
    marks: tuple[str, ...]
    summary: str
    opened_at: datetime
    updated_at: datetime
    notified_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    note: str | None = None
    acknowledged_as: Seen | None = None
    resolved_at: datetime | None = None
    resolved_reason: str | None = None
    follows: str | None = None  # the resolved incident this one continues
    reopened: bool = False  # acknowledged, then worse
    #: Triage in the console (`mailwarden.detect.triage`): whom it is assigned to, until
    #: when it is snoozed (hidden from the open queue), and the custodian's answer to "was
    #: this you?" ("confirmed" or "denied") and when it was given. Only people set these;
    #: the watcher keeps them as they are.
    assignee: str | None = None
    snoozed_until: datetime | None = None
    answer: str | None = None
    answered_at: datetime | None = None

    @property
    def alert_ids(self) -> tuple[str, ...]:
        return tuple(self.alerts)

    @property
    def live(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED
