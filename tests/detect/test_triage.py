"""Assigning, snoozing and the custodian's answer, as pure functions over incidents the
lifecycle made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailwarden.detect.lifecycle import acknowledge, observe, resolve
from mailwarden.detect.triage import (
    CONFIRMED,
    DENIED,
    QueueStatus,
    answer,
    assign,
    queue_status,
    raised,
    snooze,
)
from mailwarden.errors import InputError
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from tests.detect.test_incidents import HR, alert

NOW = datetime(2026, 10, 21, tzinfo=UTC)


def one(severity: str = "medium") -> TrackedIncident:
    observed = observe({}, [alert("a", "ownerless-sign-in", HR, severity=severity)],
                       tenant_id="t1", now=NOW, as_of=None)
    (incident,) = observed.incidents.values()
    return incident


def test_severity_rises_one_step_and_stops_at_critical() -> None:
    assert [raised(s) for s in ("info", "low", "medium", "high", "critical")] == [
        "low", "medium", "high", "critical", "critical"]


def test_a_denial_raises_the_severity_and_ends_a_snooze() -> None:
    snoozed = snooze(one(), until=NOW + timedelta(days=2), now=NOW)
    assert queue_status(snoozed, NOW) is QueueStatus.SNOOZED
    assert queue_status(snoozed, NOW + timedelta(days=3)) is QueueStatus.OPEN
    denied = answer(snoozed, given=DENIED, now=NOW)
    assert denied.severity == "high" and denied.answer == DENIED and denied.answered_at == NOW
    assert denied.snoozed_until is None and queue_status(denied, NOW) is QueueStatus.OPEN
    assert answer(denied, given=CONFIRMED, now=NOW + timedelta(hours=1)) is denied


def test_a_denial_reopens_an_acknowledged_or_resolved_incident() -> None:
    acked = acknowledge(one(), now=NOW, by="ana", note=None)
    reopened = answer(acked, given=DENIED, now=NOW)
    assert reopened.status is IncidentStatus.OPEN and reopened.reopened
    closed = resolve(one(), now=NOW, by="ana", note="expected")
    back = answer(closed, given=DENIED, now=NOW)
    assert back.live and back.resolved_at is None and back.reopened
    assert back.severity == "high"


def test_a_confirmation_is_only_recorded() -> None:
    incident = one()
    confirmed = answer(incident, given=CONFIRMED, now=NOW)
    assert confirmed.answer == CONFIRMED and confirmed.severity == incident.severity
    assert confirmed.status is incident.status
    with pytest.raises(InputError):
        answer(incident, given="maybe", now=NOW)


def test_assigning_and_snoozing() -> None:
    incident = one()
    assert assign(incident, to="  ana ", now=NOW).assignee == "ana"
    assert assign(assign(incident, to="ana", now=NOW), to="", now=NOW).assignee is None
    assert assign(incident, to=None, now=NOW) is incident
    with pytest.raises(InputError):
        snooze(incident, until=NOW, now=NOW)
    closed = resolve(incident, now=NOW, by="ana", note=None)
    assert snooze(closed, until=NOW + timedelta(days=1), now=NOW) is closed
    assert queue_status(closed, NOW) is QueueStatus.RESOLVED
