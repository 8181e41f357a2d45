"""The alerts the watcher has raised, open or acknowledged (`mailwarden alerts`).

One JSON file, `STATE/alerts-state.json` (0600, replaced atomically), maps each alert id
to the alert as last seen (category, rule, severity, target, summary, first and last
seen, escalation marks) and its status: `open` until someone acknowledges it. An
acknowledgement remembers the severity and marks it was given at; an acknowledged alert
is not notified again unless it gets worse than that (higher severity, or a new mark
such as a proven password), in which case it is open again and notified as an
escalation. Acknowledged alerts not seen for `KEEP_ACKNOWLEDGED` are forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailwarden.errors import InputError
from mailwarden.model.findings import Severity
from mailwarden.notify.notice import escalation_marks
from mailwarden.schemas import WATCH_ALERTS_SCHEMA
from mailwarden.times import as_utc, iso, parse_time
from mailwarden.watch.files import read_state_json, write_atomic_json

FILE_NAME = "alerts-state.json"
KEEP_ACKNOWLEDGED = timedelta(days=90)
_LONG_AGO = datetime.min.replace(tzinfo=UTC)
_SHOWN = ("category", "rule_id", "severity", "target", "targets", "source_ips",
          "first_seen", "last_seen", "event_count", "summary")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackedAlert:
    id: str
    status: str  # "open" or "acknowledged"
    alert: Mapping[str, Any]  # the alert's alerts.json fields, as last seen
    marks: tuple[str, ...]
    raised_at: str
    updated_at: str
    acknowledged_at: str | None = None
    reopened: bool = False

    @property
    def severity(self) -> str:
        return str(self.alert.get("severity", "info"))


def _when(text: Any) -> datetime:
    """A stored time for ordering; one that is missing or unreadable sorts first."""
    return parse_time(text) or _LONG_AGO


def _worse(alert: Mapping[str, Any], ack: Mapping[str, Any]) -> bool:
    if Severity.rank_of(alert.get("severity")) > Severity.rank_of(ack.get("severity")):
        return True
    return bool(set(escalation_marks(alert)) - set(ack.get("marks") or ()))


class AlertRegistry:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE_NAME
        data = read_state_json(self.path, WATCH_ALERTS_SCHEMA, "alerts state")
        self._alerts: dict[str, dict[str, Any]] = (data or {}).get("alerts") or {}

    def __repr__(self) -> str:
        return f"AlertRegistry({str(self.path)!r})"

    def knows(self, ident: str) -> bool:
        return ident in self._alerts

    def observe(self, alerts: Iterable[Mapping[str, Any]], now: datetime
                ) -> tuple[Mapping[str, Any], ...]:
        """Record the alerts of a cycle; returns those to hand to notification (all but
        the acknowledged ones that are no worse than when they were acknowledged)."""
        stamp = iso(now)
        notify = []
        for alert in alerts:
            entry = self._alerts.get(str(alert["id"]))
            shown = {k: alert.get(k) for k in _SHOWN}
            marks = list(escalation_marks(alert))
            if entry is None:
                entry = {"status": "open", "raised_at": stamp, "reopened": False}
                self._alerts[str(alert["id"])] = entry
            elif entry["status"] == "acknowledged":
                if not _worse(alert, entry["ack"]):
                    entry.update(alert=shown, marks=marks, updated_at=stamp)
                    continue
                entry.update(status="open", reopened=True)
            entry.update(alert=shown, marks=marks, updated_at=stamp)
            notify.append(alert)
        self._prune(now)
        return tuple(notify)

    def acknowledge(self, ident: str, now: datetime) -> TrackedAlert:
        """Acknowledge the alert with this id (or the one alert whose id starts with it)."""
        key = self._resolve(ident)
        entry = self._alerts[key]
        entry.update(status="acknowledged", acknowledged_at=iso(now), reopened=False,
                     ack={"severity": entry["alert"].get("severity"),
                          "marks": list(entry.get("marks") or ())})
        self.save()
        return self._tracked(key, entry)

    def _resolve(self, ident: str) -> str:
        if ident in self._alerts:
            return ident
        matches = [key for key in self._alerts if ident and key.startswith(ident)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise InputError(f"no alert {ident!r} in {self.path}; `mailwarden alerts --all` "
                             "lists the known ids")
        raise InputError(f"{ident!r} matches {len(matches)} alerts; give more of the id")

    def alerts(self, *, include_acknowledged: bool = False) -> tuple[TrackedAlert, ...]:
        tracked = [self._tracked(k, e) for k, e in self._alerts.items()
                   if include_acknowledged or e["status"] == "open"]
        return tuple(sorted(tracked, key=lambda t: (-Severity.rank_of(t.severity),
                                                    _when(t.alert.get("last_seen")), t.id)))

    def save(self) -> None:
        write_atomic_json(self.path, {"schema": WATCH_ALERTS_SCHEMA, "alerts": self._alerts})

    def _prune(self, now: datetime) -> None:
        cutoff = as_utc(now) - KEEP_ACKNOWLEDGED
        self._alerts = {k: e for k, e in self._alerts.items()
                        if e["status"] != "acknowledged" or _when(e["updated_at"]) >= cutoff}

    @staticmethod
    def _tracked(key: str, entry: Mapping[str, Any]) -> TrackedAlert:
        return TrackedAlert(id=key, status=entry["status"], alert=entry["alert"],
                            marks=tuple(entry.get("marks") or ()), raised_at=entry["raised_at"],
                            updated_at=entry["updated_at"],
                            acknowledged_at=entry.get("acknowledged_at"),
                            reopened=bool(entry.get("reopened")))
