"""Turn rule result rows into alerts: stable ids, summaries, evidence, de-duplication."""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from mailwarden.detect.results import Alert
from mailwarden.detect.rules.base import Rule
from mailwarden.detect.rules.wording import listing
from mailwarden.model.findings import Severity
from mailwarden.times import as_utc, iso_with_offset


def alert_id(rule_id: str, target: str | None, group_key: str | None,
             window_start: datetime | None) -> str:
    """Stable across runs over the same (or a growing) log: rule, target and window."""
    window = iso_with_offset(window_start) if window_start else ""
    material = "\x1f".join((rule_id, target or "", group_key or "", window))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:20]


def utc(moment: datetime | None) -> datetime | None:
    """DuckDB hands back naive UTC times."""
    return None if moment is None else as_utc(moment)


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, list | tuple):
        return listing([_shown(item) for item in value])
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def summarize(template: str, fields: Mapping[str, Any]) -> str:
    values = _Facts({name: _shown(value) for name, value in fields.items()})
    return string.Formatter().vformat(template, (), values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_with_offset(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def evidence_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """An evidence row as JSON-ready values, without empty fields."""
    return {key: _jsonable(value) for key, value in row.items()
            if value is not None and value != [] and key != "event_id"}


def build_alert(rule: Rule, row: Mapping[str, Any],
                evidence: Mapping[int, Mapping[str, Any]]) -> Alert:
    facts = json.loads(row["facts"]) if row.get("facts") else {}
    first_seen, last_seen = utc(row["first_seen"]), utc(row["last_seen"])
    window_start = utc(row["window_start"])
    target = row["target"].lower() if row.get("target") else None
    targets = tuple(sorted({t.lower() for t in row.get("targets") or () if t}))
    source_ips = tuple(sorted({ip for ip in row.get("source_ips") or () if ip}))
    severity = Severity.named(row.get("severity")) or rule.severity  # NULL: the rule's own
    fields = {**facts, "target": target or "the tenant", "event_count": row["event_count"],
              "first_seen": first_seen, "last_seen": last_seen,
              "window_day": window_start.date().isoformat() if window_start else "unknown day",
              "source_ips": list(source_ips), "n_targets": len(targets)}
    if rule.wording is not None:
        fields.update(rule.wording(fields))
    return Alert(
        id=alert_id(rule.id, target, row.get("group_key"), window_start),
        category=rule.category, rule_id=rule.id, severity=severity, target=target,
        targets=targets, source_ips=source_ips, first_seen=first_seen, last_seen=last_seen,
        event_count=int(row["event_count"] or 0), summary=summarize(rule.summary, fields),
        evidence=tuple(evidence_row(evidence[e]) for e in row.get("evidence") or ()
                       if e in evidence),
        facts=facts, mitre=rule.mitre,
    )


def _rank(severity: Severity) -> int:
    return Severity(severity).rank  # an Alert built by hand may hold the plain name


def merge(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    """One alert per id: the same rule, target and window seen twice becomes one."""
    merged: dict[str, Alert] = {}
    for alert in alerts:
        previous = merged.get(alert.id)
        if previous is None:
            merged[alert.id] = alert
            continue
        seen = {json.dumps(e, sort_keys=True, default=str) for e in previous.evidence}
        extra = tuple(e for e in alert.evidence
                      if json.dumps(e, sort_keys=True, default=str) not in seen)
        merged[alert.id] = Alert(
            id=alert.id, category=alert.category, rule_id=alert.rule_id,
            severity=max(previous.severity, alert.severity, key=_rank),
            target=alert.target, targets=tuple(sorted({*previous.targets, *alert.targets})),
            source_ips=tuple(sorted({*previous.source_ips, *alert.source_ips})),
            first_seen=_extreme(min, previous.first_seen, alert.first_seen),
            last_seen=_extreme(max, previous.last_seen, alert.last_seen),
            event_count=previous.event_count + alert.event_count, summary=previous.summary,
            evidence=previous.evidence + extra, facts=previous.facts, mitre=previous.mitre,
        )
    return tuple(sorted(merged.values(), key=lambda a: (
        -_rank(a.severity), a.first_seen or datetime.max.replace(tzinfo=UTC), a.rule_id, a.id)))


def _extreme(pick: Any, a: datetime | None, b: datetime | None) -> datetime | None:
    present: Sequence[datetime] = [moment for moment in (a, b) if moment is not None]
    return pick(present) if present else None
