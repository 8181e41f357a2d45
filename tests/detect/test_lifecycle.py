"""An incident's life across runs: joining, acknowledging, getting worse, quiet
resolution, what follows a resolved incident, and the replay `eval` scores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from mailwarden.detect import Alert
from mailwarden.detect.evaluate import Label, Labels, replay_notifications, score_notifications
from mailwarden.detect.lifecycle import (
    DEFAULT_QUIET,
    KEEP_RESOLVED,
    Observed,
    acknowledge,
    mark_notified,
    observe,
    resolve,
    to_notify,
)
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from tests.detect.test_incidents import HR, IT, T, alert

DAY = timedelta(days=1)


def run(known: dict[str, TrackedIncident], alerts: Sequence[Alert], at: timedelta
        ) -> Observed:
    return observe(known, alerts, tenant_id="t1", now=T + at, as_of=T + at)


def only(observed: Observed) -> TrackedIncident:
    (incident,) = observed.incidents.values()
    return incident


def test_a_new_incident_is_open_then_notified_and_updates_in_place() -> None:
    first = run({}, [alert("a", "ownerless-sign-in", HR)], timedelta(hours=1))
    incident = only(first)
    assert incident.status is IncidentStatus.OPEN and first.changed == {incident.id}
    assert to_notify(first.incidents.values()) == (incident,)
    notified = mark_notified(incident, T)
    assert notified.status is IncidentStatus.NOTIFIED and notified.notified_at == T
    # The same alert again, grown: the same incident, nothing new to save.
    again = run({incident.id: notified}, [alert("a", "ownerless-sign-in", HR)], DAY)
    assert again.changed == frozenset() and only(again) == notified
    grown = run({incident.id: notified},
                [alert("a", "ownerless-sign-in", HR, span=timedelta(hours=2)),
                 alert("b", "mass-send", HR, start=timedelta(hours=1))], DAY)
    assert set(only(grown).alert_ids) == {"a", "b"}
    assert only(grown).categories == ("ownerless-sign-in", "mass-send")
    assert grown.of_alert == {"a": incident.id, "b": incident.id}


def test_an_alert_whose_id_changed_finds_its_live_incident() -> None:
    """A rolling window that cut an alert's first records changes the alert's id."""
    first = only(run({}, [alert("a", "ownerless-sign-in", HR)], timedelta(hours=1)))
    cut = run({first.id: first}, [alert("a-cut", "ownerless-sign-in", HR,
                                        start=timedelta(hours=2))], DAY)
    assert set(cut.incidents) == {first.id}
    assert set(only(cut).alert_ids) == {"a", "a-cut"}


def test_acknowledged_stays_quiet_unless_worse() -> None:
    first = only(run({}, [alert("a", "ownerless-sign-in", HR)], timedelta(hours=1)))
    acked = acknowledge(first, now=T, by="ana", note="known integration")
    assert (acked.status, acked.acknowledged_by, acked.note) == (
        IncidentStatus.ACKNOWLEDGED, "ana", "known integration")
    known = {acked.id: acked}
    # A lesser facet (medium, below the incident's high) joins without reopening it.
    lesser = run(known, [alert("a", "ownerless-sign-in", HR),
                         alert("b", "legacy-protocol-auth", HR, severity="medium")], DAY)
    assert only(lesser).status is IncidentStatus.ACKNOWLEDGED
    assert to_notify(lesser.incidents.values()) == ()
    # A higher severity makes it worse than when it was acknowledged: open again.
    worse = run(dict(lesser.incidents),
                [alert("a", "ownerless-sign-in", HR),
                 alert("c", "mass-send", HR, severity="critical")], 2 * DAY)
    assert only(worse).status is IncidentStatus.OPEN and only(worse).reopened
    assert to_notify(worse.incidents.values()) == (only(worse),)


def test_quiet_incidents_resolve_and_later_activity_starts_a_new_one() -> None:
    first = only(run({}, [alert("a", "ownerless-sign-in", HR)], timedelta(hours=1)))
    still = run({first.id: first}, [], DEFAULT_QUIET)
    assert only(still).status is IncidentStatus.OPEN
    quiet = run({first.id: first}, [], DEFAULT_QUIET + DAY)
    resolved = only(quiet)
    assert resolved.status is IncidentStatus.RESOLVED
    assert resolved.resolved_reason == "quiet for 7 days"
    # Its own alert seen again stays with it, silently.
    same = run({first.id: resolved}, [alert("a", "ownerless-sign-in", HR)],
               DEFAULT_QUIET + 2 * DAY)
    assert same.changed == frozenset() and to_notify(same.incidents.values()) == ()
    # New activity after it is a new incident.
    later = run({first.id: resolved},
                [alert("a", "ownerless-sign-in", HR),
                 alert("z", "ownerless-sign-in", HR, start=DEFAULT_QUIET + DAY)],
                DEFAULT_QUIET + 2 * DAY)
    (new,) = [i for i in later.incidents.values() if i.id != first.id]
    assert new.status is IncidentStatus.OPEN and new.follows is None
    assert later.of_alert == {"a": first.id, "z": new.id}
    # Resolved incidents are forgotten after a while.
    gone = run({first.id: resolved}, [], DEFAULT_QUIET + DAY + KEEP_RESOLVED + DAY)
    assert gone.forgotten == {first.id} and not gone.incidents


def test_resolving_by_hand_closes_it_for_good() -> None:
    first = only(run({}, [alert("a", "ownerless-sign-in", HR)], timedelta(hours=1)))
    done = resolve(first, now=T, by="ana", note="password changed")
    assert done.status is IncidentStatus.RESOLVED
    assert done.resolved_reason == "resolved by ana: password changed"
    assert acknowledge(done, now=T, by="bo", note=None) is done
    # Activity within the window that would have joined it starts an incident naming it.
    later = run({first.id: done}, [alert("a", "ownerless-sign-in", HR),
                                   alert("b", "ownerless-sign-in", HR, start=DAY)], 2 * DAY)
    (new,) = [i for i in later.incidents.values() if i.id != first.id]
    assert new.follows == first.id and set(new.alert_ids) == {"b"}
    assert later.incidents[first.id] == done


def test_the_replay_notifies_once_per_incident_and_again_when_worse() -> None:
    alerts = [
        alert("probe", "leaver-access", HR, severity="high"),
        # Arrives cycles later, critical: worse, a second notice.
        alert("in", "ownerless-sign-in", HR, severity="critical", start=timedelta(hours=1)),
        # Medium, later still: joins without a notice.
        alert("imap", "legacy-protocol-auth", HR, severity="medium", start=timedelta(hours=2)),
        alert("other", "ownerless-sign-in", IT, ip="198.51.100.1"),
    ]
    notices, incidents = replay_notifications(alerts)
    assert sorted(notices.values()) == [1, 2] and len(incidents) == 2
    labels = Labels(expected=(
        Label(category="leaver-access", target=HR, incident="incident-1"),
        Label(category="ownerless-sign-in", target=HR, incident="incident-1"),
        Label(category="ownerless-sign-in", target=IT, incident="incident-2")), negatives=())
    score = score_notifications(alerts, labels)
    assert score is not None
    assert (score.notifications, score.labelled_incidents, score.unlabelled) == (3, 2, 0)
    assert score.per_labelled_incident == 1.5
    assert score.per_incident == {"incident-1": 2, "incident-2": 1}
    without = Labels(expected=(Label(category="leaver-access", target=HR),), negatives=())
    assert score_notifications(alerts, without) is None
