"""Score alerts against labels (a synthetic tenant's `labels.json`): precision and recall
per category.

A label names a category and a target (a UPN), or no target and the source IPs of an
alert about a source (a spray, an organisation-wide change). An alert matches a label of
its own category when its target is the label's target (or, for an alert without a
target, the label's target is among its targets); a label without a target matches an
alert without a target that shares a source IP. Recall: the share of expected labels
some alert matches. Precision: the share of alerts that match an expected label.
Negatives (what must not be raised) that an alert matches are listed.

Notifications per labelled incident: labels of one attack share an `incident` id.
`replay_notifications` plays the alerts to the watcher's incident lifecycle
(`detect.lifecycle`) in the order they began, one watcher cycle at a time (each alert
appears whole, at the first cycle after its first record, and leaves the detection
window `history` after its last), and counts the notices the outbox would send: one per
new incident, one more each time an incident gets worse than what was sent (a higher
severity, a proven password, a new category or mailbox at its severity). The figure is
all of those notices divided by the number of labelled incidents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailwarden.detect.lifecycle import (
    DEFAULT_POLICY,
    Policy,
    mark_notified,
    observe,
    to_notify,
    worse,
)
from mailwarden.detect.results import Alert
from mailwarden.detect.rules import CATEGORIES
from mailwarden.errors import InputError
from mailwarden.model.findings import Severity
from mailwarden.model.incidents import Seen, TrackedIncident
from mailwarden.schemas import LABELS_SCHEMA


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    category: str
    target: str | None
    source_ips: tuple[str, ...] = ()
    scenario: str = ""
    detail: str = ""
    incident: str | None = None  # the labelled attack it is part of


@dataclass(frozen=True, slots=True, kw_only=True)
class Labels:
    expected: tuple[Label, ...]
    negatives: tuple[Label, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryScore:
    category: str
    labels: int
    found: int
    alerts: int
    true_alerts: int
    missed: tuple[Label, ...]
    false_alerts: tuple[Alert, ...]

    @property
    def recall(self) -> float | None:
        return self.found / self.labels if self.labels else None

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    scores: tuple[CategoryScore, ...]
    negatives_hit: tuple[tuple[Label, Alert], ...]

    def meets(self, *, recall: float = 1.0, precision: float = 0.95) -> bool:
        """Every category at or above both figures (a category with nothing to find and
        nothing raised counts as met)."""
        return all((s.recall is None or s.recall >= recall)
                   and (s.precision is None or s.precision >= precision) for s in self.scores)


def _label(raw: Mapping[str, Any], where: str) -> Label:
    category = raw.get("category")
    if category not in CATEGORIES:
        raise InputError(f"{where}: unknown category {category!r}; expected one of "
                         f"{', '.join(CATEGORIES)}")
    target = raw.get("target")
    ips = raw.get("source_ips") or ()
    if target is None and not ips:
        raise InputError(f"{where}: a label needs a target or source_ips")
    incident = raw.get("incident")
    return Label(category=str(category), target=str(target).lower() if target else None,
                 source_ips=tuple(str(ip) for ip in ips), scenario=str(raw.get("scenario", "")),
                 detail=str(raw.get("detail", "")),
                 incident=str(incident) if incident else None)


def parse_labels(document: Any, *, source: str = "labels.json") -> Labels:
    if not isinstance(document, Mapping) or document.get("schema") != LABELS_SCHEMA:
        raise InputError(f"{source}: not a labels file (schema {LABELS_SCHEMA!r} expected); "
                         "write one with `mailwarden synth`")
    parts = {}
    for part in ("expected", "negatives"):
        rows = document.get(part) or []
        if not isinstance(rows, list):
            raise InputError(f"{source}: {part!r} must be a list of labels")
        parts[part] = tuple(_label(row, f"{source} {part}[{n}]") for n, row in enumerate(rows))
    return Labels(expected=parts["expected"], negatives=parts["negatives"])


def matches(label: Label, alert: Alert) -> bool:
    if label.category != alert.category:
        return False
    if label.target is not None:
        return alert.target == label.target or (alert.target is None
                                                and label.target in alert.targets)
    return alert.target is None and bool(set(label.source_ips) & set(alert.source_ips))


def evaluate(alerts: Iterable[Alert], labels: Labels) -> Evaluation:
    alerts = tuple(alerts)
    scores = []
    for category in CATEGORIES:
        wanted = [label for label in labels.expected if label.category == category]
        raised = [alert for alert in alerts if alert.category == category]
        missed = tuple(lb for lb in wanted if not any(matches(lb, a) for a in raised))
        false = tuple(a for a in raised if not any(matches(lb, a) for lb in wanted))
        scores.append(CategoryScore(
            category=category, labels=len(wanted), found=len(wanted) - len(missed),
            alerts=len(raised), true_alerts=len(raised) - len(false), missed=missed,
            false_alerts=false))
    hit = tuple((label, alert) for label in labels.negatives for alert in alerts
                if matches(label, alert))
    return Evaluation(scores=tuple(scores), negatives_hit=hit)


#: The watcher's default cycle and detection window (`mailwarden watch --interval`,
#: `--history`), which the replay plays by default.
REPLAY_CYCLE = timedelta(minutes=15)
REPLAY_HISTORY = timedelta(days=8)


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationScore:
    notifications: int  # every notice the replay sent
    labelled_incidents: int
    incidents: int  # incidents the replay opened
    #: Labelled incident id -> notices sent for the incidents holding its alerts.
    per_incident: Mapping[str, int]
    unlabelled: int  # notices for incidents no label's alert is in

    @property
    def per_labelled_incident(self) -> float | None:
        if not self.labelled_incidents:
            return None
        return self.notifications / self.labelled_incidents


def _cycle_end(moment: datetime, start: datetime, cycle: timedelta) -> datetime:
    steps = -((start - moment) // cycle)  # ceiling: the first cycle at or after it
    return start + steps * cycle


def replay_notifications(alerts: Sequence[Alert], *, cycle: timedelta = REPLAY_CYCLE,
                         history: timedelta = REPLAY_HISTORY, policy: Policy = DEFAULT_POLICY
                         ) -> tuple[Counter[str], dict[str, TrackedIncident]]:
    """Notices sent per incident id, and the incidents at the end (module docstring)."""
    dated = sorted((a for a in alerts if a.first_seen is not None),
                   key=lambda a: (a.first_seen, a.id))
    if not dated:
        return Counter(), {}
    start = dated[0].first_seen
    assert start is not None
    moments = sorted({_cycle_end(a.first_seen, start, cycle) for a in dated if a.first_seen})
    known: dict[str, TrackedIncident] = {}
    sent: dict[str, Seen] = {}
    notices: Counter[str] = Counter()
    for moment in moments:
        visible = [a for a in dated if a.first_seen is not None and a.first_seen <= moment
                   and (a.last_seen or a.first_seen) >= moment - history]
        observed = observe(known, visible, tenant_id="replay", now=moment, as_of=moment,
                           policy=policy)
        known = dict(observed.incidents)
        for incident in to_notify(known.values()):
            before = sent.get(incident.id)
            if before is not None and not worse(incident, before):
                continue
            notices[incident.id] += 1
            sent[incident.id] = Seen(
                severity=max(incident.severity, before.severity if before else "info",
                             key=Severity.rank_of),
                marks=tuple(sorted({*incident.marks, *(before.marks if before else ())})))
            known[incident.id] = mark_notified(incident, moment)
    return notices, known


def score_notifications(alerts: Sequence[Alert], labels: Labels, *,
                        cycle: timedelta = REPLAY_CYCLE, history: timedelta = REPLAY_HISTORY,
                        policy: Policy = DEFAULT_POLICY) -> NotificationScore | None:
    """None when the labels name no incidents (a labels file written before they did)."""
    labelled = {label.incident for label in labels.expected if label.incident}
    if not labelled:
        return None
    notices, incidents = replay_notifications(alerts, cycle=cycle, history=history,
                                              policy=policy)
    per_label: Counter[str] = Counter(dict.fromkeys(labelled, 0))
    unlabelled = 0
    by_id = {a.id: a for a in alerts}
    for ident, count in notices.items():
        members = [by_id[a] for a in incidents[ident].alerts if a in by_id]
        owners = {label.incident for label in labels.expected if label.incident
                  for alert in members if matches(label, alert)}
        if not owners:
            unlabelled += count
        for owner in owners:
            per_label[str(owner)] += count
    return NotificationScore(notifications=sum(notices.values()),
                             labelled_incidents=len(labelled), incidents=len(incidents),
                             per_incident=dict(sorted(per_label.items())),
                             unlabelled=unlabelled)
