"""Group alerts into incidents: the alerts of one attack become one incident.

Two alerts belong to the same incident when all of these hold:

- **who**: they share a source IP or an actor (the person or admin the log names, other
  than the target itself); two alerts that name neither share a category;
- **where**: they are about the same target mailbox; an alert about a source rather than
  a mailbox (a spray: no target, the accounts it tried) joins an alert whose target is
  among those accounts, or another such alert that tried some of the same accounts;
- **what**: their categories are of the same family or of related families
  (`FAMILIES`, `RELATED`: guessing a password leads to access, access to abuse of the
  mailbox, a change to an account to access or abuse);
- **when**: the gap between them (from the end of one to the start of the other) is at
  most the proximity window, `DEFAULT_PROXIMITY` (3 days, so an integration that signs
  in every working day stays one incident over a weekend) unless configured otherwise.

The relation is closed transitively: an incident is a connected group. Its severity is
its worst alert's, its evidence every alert's, and its id is derived from the grouping
key (family, where, who) of its first alert and that alert's first time, so detection
over the same logs gives the same ids.

Marks say what a later notice must add to be worth sending: an escalation in an alert's
facts (a proven password, a success), and each category and mailbox raised by an alert at
least as severe as the incident was when the alert joined (a lesser facet of an incident
already notified joins its evidence without a new message). Alerts join in the order they
began, so the marks of a group do not depend on how it was found.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailwarden.detect.results import Alert
from mailwarden.model.findings import Severity
from mailwarden.model.incidents import Incident
from mailwarden.times import iso_with_offset

#: Alerts further apart than this are separate incidents.
DEFAULT_PROXIMITY = timedelta(days=3)

#: Each category's family (SPEC section 7 categories).
FAMILIES: Mapping[str, str] = {
    "password-spray": "credential-guessing",
    "brute-force": "credential-guessing",
    "legacy-protocol-auth": "credential-guessing",
    "ownerless-sign-in": "mailbox-access",
    "leaver-access": "mailbox-access",
    "non-owner-access": "mailbox-access",
    "mass-send": "mailbox-abuse",
    "malicious-inbox-rule": "mailbox-abuse",
    "external-forwarding-set": "mailbox-abuse",
    "mailbox-permission-change": "account-change",
    "password-reset": "account-change",
    "sign-in-unblocked": "account-change",
    "audit-tampering": "account-change",
}
#: Families whose alerts may be one attack (a family is always related to itself).
RELATED: frozenset[frozenset[str]] = frozenset({
    frozenset({"credential-guessing", "mailbox-access"}),
    frozenset({"mailbox-access", "mailbox-abuse"}),
    frozenset({"account-change", "mailbox-access"}),
    frozenset({"account-change", "mailbox-abuse"}),
})
_NEVER = "other"


def family_of(category: str) -> str:
    return FAMILIES.get(category, _NEVER)


def related(a: str, b: str) -> bool:
    return a == b or frozenset({a, b}) in RELATED


def escalation_marks(facts: Mapping[str, Any]) -> tuple[str, ...]:
    """What, in an alert's facts, shows an attack got further than a failed attempt."""
    marks = []
    if facts.get("proven"):
        marks.append("password-proven")
    if facts.get("succeeded") is True:
        marks.append("succeeded")
    if facts.get("escalated"):
        marks.append("escalated")
    return tuple(marks)


@dataclass(frozen=True, slots=True, kw_only=True)
class Clue:
    """What grouping needs of one alert."""

    alert_id: str
    category: str
    family: str
    severity: Severity
    target: str | None
    place: frozenset[str]  # {target}, or the accounts a source alert tried
    who: frozenset[str]  # "ip:..." and "actor:..."
    first: datetime | None
    last: datetime | None
    mailboxes: tuple[str, ...]  # what the incident is about, for people
    source_ips: tuple[str, ...]
    actors: tuple[str, ...]
    escalations: tuple[str, ...]

    @property
    def targeted(self) -> bool:
        return self.target is not None


def _actors(alert: Alert) -> tuple[str, ...]:
    found: set[str] = set()
    for key in ("actor", "by", "person"):
        value = alert.facts.get(key)
        if isinstance(value, str) and "@" in value:
            found.add(value.lower())
    for row in alert.evidence:
        value = row.get("actor")
        if isinstance(value, str) and value:
            found.add(value.lower())
    found.discard(alert.target or "")
    return tuple(sorted(found))


def clue_of(alert: Alert) -> Clue:
    actors = _actors(alert)
    ownerless = tuple(str(t).lower() for t in alert.facts.get("ownerless_targets") or ())
    mailboxes = (alert.target,) if alert.target else ownerless or alert.targets
    place = frozenset({alert.target}) if alert.target else frozenset(alert.targets)
    return Clue(
        alert_id=alert.id, category=alert.category, family=family_of(alert.category),
        severity=Severity(alert.severity), target=alert.target, place=place,
        who=frozenset({*(f"ip:{ip}" for ip in alert.source_ips),
                       *(f"actor:{a}" for a in actors)}),
        first=alert.first_seen or alert.last_seen, last=alert.last_seen or alert.first_seen,
        mailboxes=tuple(sorted(set(mailboxes))), source_ips=alert.source_ips, actors=actors,
        escalations=escalation_marks(alert.facts))


def close_in_time(first_a: datetime | None, last_a: datetime | None, first_b: datetime | None,
                  last_b: datetime | None, proximity: timedelta) -> bool:
    if first_a is None or last_a is None or first_b is None or last_b is None:
        return first_a is None and first_b is None  # two undated alerts: same time
    return max(first_a, first_b) - min(last_a, last_b) <= proximity


def same_place(a_targeted: bool, a_place: frozenset[str], b_targeted: bool,
               b_place: frozenset[str]) -> bool:
    if a_targeted and b_targeted:
        return bool(a_place & b_place)
    return bool(a_place & b_place) or (not a_place and not b_place)


def linked(a: Clue, b: Clue, proximity: timedelta) -> bool:
    """Whether two alerts are of one attack (see the module docstring)."""
    if not related(a.family, b.family):
        return False
    if a.who or b.who:
        if not a.who & b.who:
            return False
    elif a.category != b.category:
        return False
    return (same_place(a.targeted, a.place, b.targeted, b.place)
            and close_in_time(a.first, a.last, b.first, b.last, proximity))


def _order(clue: Clue) -> tuple[str, str]:
    return (iso_with_offset(clue.first) if clue.first else "", clue.alert_id)


def connected_groups(clues: Sequence[Clue], proximity: timedelta) -> list[list[Clue]]:
    parent = list(range(len(clues)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[str, list[int]] = defaultdict(list)
    for index, clue in enumerate(clues):
        for key in clue.who or {f"category:{clue.category}"}:
            buckets[key].append(index)
    for members in buckets.values():
        members.sort(key=lambda i: _order(clues[i]))
        active: list[int] = []
        for i in members:
            start = clues[i].first
            # Alerts that ended longer ago than the window can join nothing later.
            active = [j for j in active if start is None or _open_at(clues[j], start,
                                                                     proximity)]
            for j in active:
                if root(i) != root(j) and linked(clues[i], clues[j], proximity):
                    parent[root(i)] = root(j)
            active.append(i)
    grouped: dict[int, list[Clue]] = defaultdict(list)
    for index, clue in enumerate(clues):
        grouped[root(index)].append(clue)
    return [sorted(group, key=_order) for group in grouped.values()]


def _open_at(clue: Clue, start: datetime, proximity: timedelta) -> bool:
    last = clue.last
    return last is None or last + proximity >= start


def incident_id(first: Clue) -> str:
    """Stable: the grouping key of the incident's first alert and its first time."""
    where = first.target or "targets:" + ",".join(sorted(first.place))
    when = iso_with_offset(first.first) if first.first else ""
    material = "\x1f".join(("incident", first.family, where, ",".join(sorted(first.who)), when))
    return "inc-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def joined(marks: Iterable[str], severity: Severity | None, clue: Clue
           ) -> tuple[tuple[str, ...], Severity]:
    """An incident's marks and severity after `clue` joins it (None: a new incident)."""
    new = set(marks) | set(clue.escalations)
    if severity is None or clue.severity.rank >= severity.rank:
        new.add(f"category:{clue.category}")
        new.update(f"mailbox:{m}" for m in clue.mailboxes)
    worst = clue.severity if severity is None or clue.severity.rank > severity.rank else severity
    return tuple(sorted(new)), worst


def _summary(alerts: Sequence[Alert], worst: Alert) -> str:
    others = len(alerts) - 1
    if not others:
        return worst.summary
    return f"{worst.summary} (and {others} related alert{'s' if others > 1 else ''})"


def build_incident(group: Sequence[Clue], alerts: Mapping[str, Alert]) -> Incident:
    marks: tuple[str, ...] = ()
    severity: Severity | None = None
    for clue in group:
        marks, severity = joined(marks, severity, clue)
    assert severity is not None
    members = [alerts[c.alert_id] for c in group]
    worst = next(a for a in members if Severity(a.severity) is severity)
    firsts = [c.first for c in group if c.first]
    lasts = [c.last for c in group if c.last]
    return Incident(
        id=incident_id(group[0]), category=worst.category,
        categories=tuple(dict.fromkeys(c.category for c in group)),
        families=tuple(dict.fromkeys(c.family for c in group)), severity=severity,
        targets=tuple(sorted({m for c in group for m in c.mailboxes})),
        source_ips=tuple(sorted({ip for c in group for ip in c.source_ips})),
        actors=tuple(sorted({a for c in group for a in c.actors})),
        first_seen=min(firsts) if firsts else None, last_seen=max(lasts) if lasts else None,
        alert_ids=tuple(c.alert_id for c in group), marks=marks,
        summary=_summary(members, worst))


def group_incidents(alerts: Iterable[Alert], *, proximity: timedelta = DEFAULT_PROXIMITY
                    ) -> tuple[Incident, ...]:
    """The incidents of these alerts, worst first, then earliest first."""
    by_id = {alert.id: alert for alert in alerts}
    clues = [clue_of(alert) for alert in by_id.values()]
    incidents = [build_incident(group, by_id) for group in connected_groups(clues, proximity)]
    return tuple(sorted(incidents, key=lambda i: (
        -i.severity.rank, iso_with_offset(i.first_seen) if i.first_seen else "", i.id)))
