"""Score alerts against labels (a synthetic tenant's `labels.json`): precision and recall
per category.

A label names a category and a target (a UPN), or no target and the source IPs of an
alert about a source (a spray, an organisation-wide change). An alert matches a label of
its own category when its target is the label's target (or, for an alert without a
target, the label's target is among its targets); a label without a target matches an
alert without a target that shares a source IP. Recall: the share of expected labels
some alert matches. Precision: the share of alerts that match an expected label.
Negatives (what must not be raised) that an alert matches are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mailwarden.detect.results import Alert
from mailwarden.detect.rules import CATEGORIES
from mailwarden.errors import InputError
from mailwarden.schemas import LABELS_SCHEMA


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    category: str
    target: str | None
    source_ips: tuple[str, ...] = ()
    scenario: str = ""
    detail: str = ""


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
    return Label(category=str(category), target=str(target).lower() if target else None,
                 source_ips=tuple(str(ip) for ip in ips), scenario=str(raw.get("scenario", "")),
                 detail=str(raw.get("detail", "")))


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
