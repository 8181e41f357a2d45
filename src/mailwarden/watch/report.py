"""What one cycle did, as the one structured log line the watcher writes per cycle."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from mailwarden.detect.results import DetectionResult
from mailwarden.notify import DeliveryReport, Plan
from mailwarden.times import iso
from mailwarden.watch.source import Pull


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleReport:
    started_at: str
    finished_at: str
    seconds: float
    source: str
    records_new: int  # records the source returned as new since the checkpoint
    records_written: int  # of those, not already in the window (0 on a clean run's repeat)
    records_unreadable: int
    records_late: int
    window_records: int
    window_days_dropped: int
    posture_refreshed: bool
    alerts: int  # alerts over the whole window
    incidents_open: int  # live and not acknowledged: handed to notification
    incidents_edge_suppressed: int  # new, but only a cut-off view of older records
    incidents_acknowledged: int  # acknowledged and no worse: not notified
    notices: dict[str, int] = field(default_factory=dict)  # decision -> count
    unrouted: int = 0
    deliveries_sent: int = 0
    deliveries_failed: int = 0
    failing_findings: int = 0
    bad_rows: int = 0
    rules_not_run: int = 0
    run_id: int | None = None
    run_stored: bool = True  # False: nothing changed, run_id is the last run stored
    notes: tuple[str, ...] = ()  # e.g. a log kind the source could not read this cycle
    first_cycle: str | None = None  # on the folder's first cycle, what it sent (--first-cycle)
    deliveries_stored: int = 0  # messages this cycle handed to the outbox (digests count 1)
    deliveries_held: int = 0  # held for the day's digest (--digest-hour)

    @classmethod
    def build(cls, *, started: datetime, finished: datetime, source: str, pull: Pull,
              written: int, window_records: int, dropped_days: int, posture_refreshed: bool,
              detection: DetectionResult | None, alerts: int, edge_suppressed: int,
              incidents: int, acknowledged: int, plan: Plan, reports: tuple[DeliveryReport, ...],
              failing: int, run_id: int, run_stored: bool = True,
              first_cycle: str | None = None, deliveries: int = 0,
              held: int = 0) -> CycleReport:
        decisions = Counter(str(v.decision) for v in plan.verdicts)
        return cls(
            started_at=iso(started), finished_at=iso(finished),
            seconds=round((finished - started).total_seconds(), 3), source=source,
            records_new=len(pull.records), records_written=written,
            records_unreadable=pull.unreadable, records_late=pull.late,
            window_records=window_records, window_days_dropped=dropped_days,
            posture_refreshed=posture_refreshed, alerts=alerts,
            incidents_open=incidents, incidents_edge_suppressed=edge_suppressed,
            incidents_acknowledged=acknowledged,
            notices=dict(sorted(decisions.items())), unrouted=len(plan.unrouted),
            deliveries_sent=sum(1 for r in reports if r.ok),
            deliveries_failed=sum(1 for r in reports if not r.ok), failing_findings=failing,
            bad_rows=detection.bad_rows if detection else 0,
            rules_not_run=len(detection.rules_not_run) if detection else 0, run_id=run_id,
            run_stored=run_stored, notes=pull.notes, first_cycle=first_cycle,
            deliveries_stored=deliveries, deliveries_held=held)

    def as_dict(self) -> dict[str, Any]:
        return {"event": "watch-cycle", "ok": True, **asdict(self)}


def log_line(data: dict[str, Any]) -> str:
    """One line of JSON: what log collectors ingest."""
    return json.dumps(data, ensure_ascii=False, sort_keys=False, default=str)


def failure_line(*, started: datetime, source: str, error: BaseException,
                 retry_in: float | None) -> str:
    return log_line({"event": "watch-cycle", "ok": False, "started_at": iso(started),
                     "source": source, "error": type(error).__name__,
                     "message": str(error), "retry_in_seconds": retry_in})
