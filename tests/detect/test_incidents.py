"""Grouping alerts into incidents: who, where, what and when; severity, evidence, ids."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailwarden.detect import Alert
from mailwarden.detect.incidents import (
    DEFAULT_PROXIMITY,
    FAMILIES,
    RELATED,
    group_incidents,
)
from mailwarden.detect.rules import CATEGORIES
from mailwarden.model.findings import Severity

T = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
IP = "203.0.113.9"
HR, IT = "hr@x.example", "it@x.example"


def alert(ident: str, category: str, target: str | None, *, ip: str = IP,
          severity: str = "high", start: timedelta = timedelta(0),
          span: timedelta = timedelta(minutes=5), targets: tuple[str, ...] = (),
          facts: dict[str, Any] | None = None) -> Alert:
    return Alert(id=ident, category=category, rule_id=category, severity=Severity(severity),
                 target=target, targets=targets or ((target,) if target else ()),
                 source_ips=(ip,) if ip else (), first_seen=T + start,
                 last_seen=T + start + span, event_count=1, summary=f"{ident} summary",
                 facts=facts or {})


def ids(incidents: Any) -> list[set[str]]:
    return sorted((set(i.alert_ids) for i in incidents), key=sorted)


def test_every_category_has_a_family_and_relations_name_known_families() -> None:
    assert set(FAMILIES) == set(CATEGORIES)
    assert {f for pair in RELATED for f in pair} <= set(FAMILIES.values())


def test_a_spray_and_its_attempts_on_mailboxes_it_tried_are_one_incident() -> None:
    spray = alert("spray", "password-spray", None, severity="critical",
                  targets=(HR, IT, "ann@x.example"), span=timedelta(minutes=10))
    on_hr = alert("imap-hr", "legacy-protocol-auth", HR, severity="medium",
                  start=timedelta(minutes=8))
    on_it = alert("imap-it", "legacy-protocol-auth", IT, severity="medium",
                  start=timedelta(minutes=9))
    (incident,) = group_incidents([on_hr, spray, on_it])
    assert set(incident.alert_ids) == {"spray", "imap-hr", "imap-it"}
    assert incident.severity is Severity.CRITICAL and incident.category == "password-spray"
    assert incident.targets == ("ann@x.example", HR, IT)
    assert incident.first_seen == T and incident.last_seen == T + timedelta(minutes=14)
    assert incident.summary == "spray summary (and 2 related alerts)"


def test_the_same_source_on_two_mailboxes_is_two_incidents() -> None:
    found = group_incidents([alert("a", "ownerless-sign-in", HR),
                             alert("b", "ownerless-sign-in", IT)])
    assert ids(found) == [{"a"}, {"b"}]


def test_another_source_or_actor_is_another_incident() -> None:
    found = group_incidents([alert("a", "ownerless-sign-in", HR),
                             alert("b", "ownerless-sign-in", HR, ip="198.51.100.1")])
    assert ids(found) == [{"a"}, {"b"}]
    # Two changes by one admin (no IP in common) on one mailbox are one incident.
    admin = {"actor": "adm@x.example"}
    found = group_incidents([
        alert("c", "audit-tampering", HR, ip="", facts=admin),
        alert("d", "mailbox-permission-change", HR, ip="", facts=admin,
              start=timedelta(hours=5))])
    assert ids(found) == [{"c", "d"}]


def test_unrelated_families_stay_apart_related_ones_join() -> None:
    guess = alert("guess", "brute-force", HR)
    change = alert("reset", "password-reset", HR, start=timedelta(minutes=1))
    assert ids(group_incidents([guess, change])) == [{"guess"}, {"reset"}]
    # Guessing, then getting in, then abusing the mailbox: one attack.
    chain = [guess, alert("in", "ownerless-sign-in", HR, start=timedelta(minutes=20)),
             alert("send", "mass-send", HR, start=timedelta(minutes=40))]
    assert ids(group_incidents(chain)) == [{"guess", "in", "send"}]


def test_time_proximity_is_the_gap_between_alerts_and_configurable() -> None:
    first = alert("day1", "ownerless-sign-in", HR)
    near = alert("day3", "ownerless-sign-in", HR, start=DEFAULT_PROXIMITY)
    far = alert("day9", "ownerless-sign-in", HR,
                start=2 * DEFAULT_PROXIMITY + timedelta(minutes=11))
    assert ids(group_incidents([first, near, far])) == [{"day1", "day3"}, {"day9"}]
    assert ids(group_incidents([first, near], proximity=timedelta(hours=1))) == [
        {"day1"}, {"day3"}]


def test_ids_are_stable_and_do_not_depend_on_order() -> None:
    alerts = [alert("a", "ownerless-sign-in", HR), alert("b", "legacy-protocol-auth", HR),
              alert("c", "ownerless-sign-in", IT), alert("d", "mass-send", HR)]
    once = group_incidents(alerts)
    shuffled = alerts[:]
    random.Random(3).shuffle(shuffled)
    assert group_incidents(shuffled) == once
    assert all(i.id.startswith("inc-") for i in once)
    # The id comes from the first alert's key and time, not from the alert ids.
    renamed = [Alert(**{**{f: getattr(a, f) for f in a.__slots__}, "id": a.id + "x"})
               for a in alerts]
    assert [i.id for i in group_incidents(renamed)] == [i.id for i in once]


def test_marks_name_what_a_later_notice_must_add() -> None:
    spray = alert("spray", "password-spray", None, severity="critical", targets=(HR,),
                  facts={"proven": True})
    lesser = alert("imap", "legacy-protocol-auth", HR, severity="medium",
                   start=timedelta(minutes=1))
    (incident,) = group_incidents([spray, lesser])
    # The medium facet of a critical incident adds no mark of its own.
    assert incident.marks == ("category:password-spray", f"mailbox:{HR}", "password-proven")


@pytest.mark.parametrize("proximity", [timedelta(minutes=1), DEFAULT_PROXIMITY])
def test_every_alert_is_in_exactly_one_incident(proximity: timedelta) -> None:
    rng = random.Random(7)
    alerts = [alert(f"a{n}", rng.choice(CATEGORIES), rng.choice((HR, IT, None)),
                    ip=rng.choice((IP, "198.51.100.1")),
                    start=timedelta(hours=rng.randrange(0, 300)),
                    severity=rng.choice(("low", "high", "critical")),
                    targets=(HR, IT)) for n in range(80)]
    held = [a for i in group_incidents(alerts, proximity=proximity) for a in i.alert_ids]
    assert sorted(held) == sorted(a.id for a in alerts)
