"""An incident's life across runs, as pure functions: the watcher (with the history
database) and `eval` (replaying alerts in memory) share them.

`observe` takes the incidents known so far and one run's alerts, and returns them
updated: an alert already in an incident updates it there; new alerts that the run groups
with known ones join that incident; new alerts that match a live incident (same who,
where, related family, within the proximity window; how a rolling window that cut an
alert's first records, and so changed its id, still finds its incident) join it; the
others start incidents of their own. A resolved incident is never reopened: an alert of
its own stays with it silently, a new alert that would have joined it starts a new
incident that names it in `follows` (so a person who resolved an attack hears of it again
when it comes back; with the default quiet period, longer than the proximity window, an
incident resolved for being quiet is simply followed by a new one).

An acknowledged incident that gets worse than when it was acknowledged (a higher
severity, or a new mark: a proven password, a category or mailbox raised at its
severity) is open again (`reopened`). Incidents quiet for `Policy.quiet` on the logs'
clock (no alert activity up to the newest record read, `as_of`) are resolved
automatically; resolved incidents are forgotten after `Policy.keep_resolved`.

`to_notify` lists what notification should consider (every live incident that is not
acknowledged); the outbox then sends only what is new or worse than what it sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from mailwarden.detect.incidents import (
    DEFAULT_PROXIMITY,
    Clue,
    close_in_time,
    clue_of,
    connected_groups,
    incident_id,
    joined,
    linked,
    related,
    same_place,
)
from mailwarden.detect.results import Alert
from mailwarden.model.findings import Severity
from mailwarden.model.incidents import IncidentStatus, Seen, TrackedIncident
from mailwarden.times import iso

#: An incident with no new alert activity for this long is resolved.
DEFAULT_QUIET = timedelta(days=7)
#: Resolved incidents are forgotten this long after they were resolved.
KEEP_RESOLVED = timedelta(days=90)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    proximity: timedelta = DEFAULT_PROXIMITY
    quiet: timedelta = DEFAULT_QUIET
    keep_resolved: timedelta = KEEP_RESOLVED


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    incidents: Mapping[str, TrackedIncident]  # every incident still kept, by id
    changed: frozenset[str]  # ids whose record changed (to write back)
    forgotten: frozenset[str]  # ids to delete
    of_alert: Mapping[str, str]  # this run's alert id -> its incident id


def worse(incident: TrackedIncident, seen: Seen) -> bool:
    if Severity.rank_of(incident.severity) > Severity.rank_of(seen.severity):
        return True
    return bool(set(incident.marks) - set(seen.marks))


def _alert_record(alert: Alert) -> dict[str, Any]:
    return {"category": alert.category, "rule_id": alert.rule_id,
            "severity": str(alert.severity), "target": alert.target,
            "targets": list(alert.targets), "source_ips": list(alert.source_ips),
            "first_seen": iso(alert.first_seen) if alert.first_seen else None,
            "last_seen": iso(alert.last_seen) if alert.last_seen else None,
            "summary": alert.summary}


def _as_clue(incident: TrackedIncident) -> Clue:
    """An incident as one clue (its union), for matching alerts against it."""
    return Clue(alert_id=incident.id, category=incident.category,
                family=incident.families[0] if incident.families else "other",
                severity=Severity(incident.severity), target=None, place=frozenset(),
                who=frozenset({*(f"ip:{i}" for i in incident.source_ips),
                               *(f"actor:{a}" for a in incident.actors)}),
                first=incident.first_seen, last=incident.last_seen, mailboxes=(),
                source_ips=(), actors=(), escalations=())


def matches(incident: TrackedIncident, clue: Clue, proximity: timedelta) -> bool:
    """Whether an alert belongs to this known incident (see detect.incidents)."""
    if not any(related(f, clue.family) for f in incident.families):
        return False
    who = _as_clue(incident).who
    if (who or clue.who) and not who & clue.who:
        return False
    if not who and not clue.who and clue.category not in incident.categories:
        return False
    return (same_place(incident.targeted, frozenset(incident.places), clue.targeted,
                       clue.place)
            and close_in_time(incident.first_seen, incident.last_seen, clue.first,
                              clue.last, proximity))


def _add(incident: TrackedIncident, clue: Clue, alert: Alert, now: datetime
         ) -> TrackedIncident:
    marks, severity = joined(incident.marks, Severity(incident.severity), clue)
    alerts = {**incident.alerts, clue.alert_id: _alert_record(alert)}
    worst = max(alerts.values(), key=lambda a: Severity.rank_of(a["severity"]))
    firsts = [t for t in (incident.first_seen, clue.first) if t is not None]
    lasts = [t for t in (incident.last_seen, clue.last) if t is not None]
    others = len(alerts) - 1
    updated = replace(
        incident, severity=severity.value, marks=marks, alerts=alerts,
        category=str(worst["category"]),
        categories=tuple(dict.fromkeys((*incident.categories, clue.category))),
        families=tuple(dict.fromkeys((*incident.families, clue.family))),
        targets=tuple(sorted({*incident.targets, *clue.mailboxes})),
        places=tuple(sorted({*incident.places, *clue.place})),
        targeted=incident.targeted and clue.targeted,
        source_ips=tuple(sorted({*incident.source_ips, *clue.source_ips})),
        actors=tuple(sorted({*incident.actors, *clue.actors})),
        first_seen=min(firsts) if firsts else None, last_seen=max(lasts) if lasts else None,
        summary=str(worst["summary"]) + (
            f" (and {others} related alert{'s' if others > 1 else ''})" if others else ""),
        updated_at=now)
    if (updated.status is IncidentStatus.ACKNOWLEDGED and updated.acknowledged_as is not None
            and worse(updated, updated.acknowledged_as)):
        updated = replace(updated, status=IncidentStatus.OPEN, reopened=True)
    return updated


def _start(clue: Clue, alert: Alert, *, tenant_id: str, ident: str, follows: str | None,
           now: datetime) -> TrackedIncident:
    blank = TrackedIncident(
        id=ident, tenant_id=tenant_id, status=IncidentStatus.OPEN, category=clue.category,
        categories=(), families=(), severity=Severity.INFO.value, targets=(), places=(),
        targeted=True, source_ips=(), actors=(), first_seen=None, last_seen=None, alerts={},
        marks=(), summary="", opened_at=now, updated_at=now, follows=follows)
    marks, severity = joined((), None, clue)
    return replace(_add(blank, clue, alert, now), marks=marks, severity=severity.value)


def _changed(before: Mapping[str, Any] | None, alert: Alert) -> bool:
    return before is None or dict(before) != _alert_record(alert)


def observe(known: Mapping[str, TrackedIncident], alerts: Sequence[Alert], *, tenant_id: str,
            now: datetime, as_of: datetime | None, policy: Policy = DEFAULT_POLICY) -> Observed:
    """Fold one run's alerts into the known incidents (see the module docstring)."""
    incidents = dict(known)
    changed: set[str] = set()
    owner = {a: ident for ident, inc in incidents.items() for a in inc.alerts}
    by_id = {alert.id: alert for alert in alerts}
    clues = [clue_of(alert) for alert in by_id.values()]
    for group in connected_groups(clues, policy.proximity):
        homes = [incidents[owner[c.alert_id]] for c in group if c.alert_id in owner]
        live = sorted({h.id: h for h in homes if h.live}.values(), key=_start_key)
        fresh = [c for c in group if c.alert_id not in owner]
        for clue in group:  # alerts already in a live incident: update them there
            home = incidents.get(owner.get(clue.alert_id, ""))
            if home is not None and home.live and _changed(home.alerts.get(clue.alert_id),
                                                           by_id[clue.alert_id]):
                incidents[home.id] = _add(home, clue, by_id[clue.alert_id], now)
                changed.add(home.id)
        if not fresh:
            continue
        target = live[0] if live else None
        for clue in fresh:
            if target is None:
                target = next((inc for inc in sorted(incidents.values(), key=_start_key)
                               if inc.live and matches(inc, clue, policy.proximity)), None)
            if target is None:
                follows = next((h.id for h in homes if not h.live), None) or next(
                    (inc.id for inc in incidents.values() if not inc.live
                     and matches(inc, clue, policy.proximity)), None)
                ident = _free_id(incident_id(clue), incidents)
                target = _start(clue, by_id[clue.alert_id], tenant_id=tenant_id, ident=ident,
                                follows=follows, now=now)
            else:
                target = _add(incidents[target.id], clue, by_id[clue.alert_id], now)
            incidents[target.id] = target
            owner[clue.alert_id] = target.id
            changed.add(target.id)
    changed |= _resolve_quiet(incidents, now=now, as_of=as_of, quiet=policy.quiet)
    forgotten = {ident for ident, inc in incidents.items() if inc.resolved_at is not None
                 and inc.resolved_at + policy.keep_resolved < now}
    for ident in forgotten:
        del incidents[ident]
    return Observed(incidents=incidents, changed=frozenset(changed - forgotten),
                    forgotten=frozenset(forgotten),
                    of_alert={a: owner[a] for a in by_id if owner.get(a) in incidents})


def _start_key(incident: TrackedIncident) -> tuple[str, str]:
    return (iso(incident.first_seen) if incident.first_seen else "", incident.id)


def _free_id(ident: str, incidents: Mapping[str, TrackedIncident]) -> str:
    """The computed id, or (when a resolved incident holds it) the id with a suffix."""
    candidate, n = ident, 1
    while candidate in incidents:
        n += 1
        candidate = f"{ident}-{n}"
    return candidate


def _resolve_quiet(incidents: dict[str, TrackedIncident], *, now: datetime,
                   as_of: datetime | None, quiet: timedelta) -> set[str]:
    if as_of is None:
        return set()
    resolved = set()
    for ident, inc in incidents.items():
        if inc.live and inc.last_seen is not None and as_of - inc.last_seen > quiet:
            incidents[ident] = replace(inc, status=IncidentStatus.RESOLVED, resolved_at=now,
                                       resolved_reason=f"quiet for {_days(quiet)}",
                                       reopened=False)
            resolved.add(ident)
    return resolved


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return f"{days:g} day{'s' if days != 1 else ''}" if days >= 1 else str(span)


def to_notify(incidents: Iterable[TrackedIncident]) -> tuple[TrackedIncident, ...]:
    """Live incidents nobody acknowledged (or that got worse since), worst first."""
    wanted = [inc for inc in incidents
              if inc.status in (IncidentStatus.OPEN, IncidentStatus.NOTIFIED)]
    return tuple(sorted(wanted, key=lambda i: (-Severity.rank_of(i.severity),
                                               *_start_key(i))))


def mark_notified(incident: TrackedIncident, now: datetime) -> TrackedIncident:
    """A notice for it is stored for delivery."""
    if incident.status is not IncidentStatus.OPEN:
        return incident
    return replace(incident, status=IncidentStatus.NOTIFIED, notified_at=now)


def acknowledge(incident: TrackedIncident, *, now: datetime, by: str, note: str | None
                ) -> TrackedIncident:
    if not incident.live:
        return incident
    return replace(incident, status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now,
                   acknowledged_by=by, note=note, reopened=False, updated_at=now,
                   acknowledged_as=Seen(severity=incident.severity, marks=incident.marks))


def resolve(incident: TrackedIncident, *, now: datetime, by: str, note: str | None
            ) -> TrackedIncident:
    if not incident.live:
        return incident
    return replace(incident, status=IncidentStatus.RESOLVED, resolved_at=now,
                   resolved_reason=f"resolved by {by}" + (f": {note}" if note else ""),
                   reopened=False, updated_at=now)


__all__ = ["DEFAULT_POLICY", "DEFAULT_QUIET", "KEEP_RESOLVED", "Observed", "Policy", "acknowledge",
           "linked", "mark_notified", "matches", "observe", "resolve", "to_notify", "worse"]
