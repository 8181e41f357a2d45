"""What people do with a kept incident besides acknowledging and resolving it
(`lifecycle.acknowledge`, `lifecycle.resolve`): assign it, snooze it, and the custodian's
answer to "was this you?". Pure functions; the console calls them through
`IncidentStore.update`, and the store keeps what they set when the watcher writes the same
incident (`store.incidents._keep_people`).

- Assigning names who works on it (a person's name or address); it changes nothing else.
- Snoozing hides a live incident from the open queue until a future moment; it is still
  notified as any other (a snooze is a queue's view, not a silence).
- The custodian's answer: the first one stands. "confirmed" (it was them) is a note for
  the responders and closes nothing by itself. "denied" (it was not them) raises the
  severity one step (at most critical) and ends a snooze; an acknowledged incident that is
  then worse than when it was acknowledged is open again (the lifecycle's own rule), and a
  resolved one is reopened: the one case a resolved incident comes back, because the
  person answerable for the mailbox says its resolution was wrong, not because new
  activity looked like it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from mailwarden.detect.lifecycle import worse
from mailwarden.errors import InputError
from mailwarden.model.findings import Severity
from mailwarden.model.incidents import IncidentStatus, TrackedIncident

CONFIRMED = "confirmed"
DENIED = "denied"
ANSWERS = (CONFIRMED, DENIED)
#: Severities from the least to the worst, for raising one step.
_LADDER = tuple(sorted(Severity, key=lambda s: s.rank))


class QueueStatus(StrEnum):
    """Where an incident stands in the console's queue."""

    OPEN = "open"  # open or notified, and not snoozed
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"  # live, snoozed until a moment still ahead


def snoozed(incident: TrackedIncident, now: datetime) -> bool:
    return (incident.live and incident.snoozed_until is not None
            and incident.snoozed_until > now)


def queue_status(incident: TrackedIncident, now: datetime) -> QueueStatus:
    if not incident.live:
        return QueueStatus.RESOLVED
    if snoozed(incident, now):
        return QueueStatus.SNOOZED
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return QueueStatus.ACKNOWLEDGED
    return QueueStatus.OPEN


def assign(incident: TrackedIncident, *, to: str | None, now: datetime) -> TrackedIncident:
    """Assigned to `to` (None or blank: to nobody)."""
    who = (to or "").strip() or None
    if who == incident.assignee:
        return incident
    return replace(incident, assignee=who, updated_at=now)


def snooze(incident: TrackedIncident, *, until: datetime, now: datetime) -> TrackedIncident:
    """Hidden from the open queue until `until`, which must be ahead of `now`; a resolved
    incident stays as it is."""
    if until <= now:
        raise InputError("snooze until a moment in the future (a later date)")
    if not incident.live:
        return incident
    return replace(incident, snoozed_until=until, updated_at=now)


def raised(severity: str) -> str:
    """One step worse, at most critical."""
    rank = Severity.rank_of(severity)
    return _LADDER[min(rank + 1, len(_LADDER) - 1)].value


def answer(incident: TrackedIncident, *, given: str, now: datetime) -> TrackedIncident:
    """The custodian's answer (`CONFIRMED` or `DENIED`); a second answer changes nothing."""
    if given not in ANSWERS:
        raise InputError(f"answer {given!r}: give {CONFIRMED} or {DENIED}")
    if incident.answer is not None:
        return incident
    answered = replace(incident, answer=given, answered_at=now, updated_at=now)
    if given == CONFIRMED:
        return answered
    denied = replace(answered, severity=raised(incident.severity), snoozed_until=None)
    if not incident.live:
        return replace(denied, status=IncidentStatus.OPEN, resolved_at=None,
                       resolved_reason=None, reopened=True)
    seen = denied.acknowledged_as
    if denied.status is IncidentStatus.ACKNOWLEDGED and seen is not None and worse(denied, seen):
        return replace(denied, status=IncidentStatus.OPEN, reopened=True)
    return denied


__all__ = ["ANSWERS", "CONFIRMED", "DENIED", "QueueStatus", "answer", "assign",
           "queue_status", "raised", "snooze", "snoozed"]
