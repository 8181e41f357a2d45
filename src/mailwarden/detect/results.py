"""Values detection returns: per-file reader reports, rule runs and alerts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mailwarden.model.findings import Severity
from mailwarden.model.incidents import Incident


@dataclass(frozen=True, slots=True, kw_only=True)
class BadRow:
    """A row that could not be read: where it is, why, and what it looked like."""

    file: str
    row: int | None
    reason: str
    sample: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderReport:
    """What reading one file produced."""

    path: Path
    format: str
    table: str | None
    rows: int = 0
    bad_rows: int = 0
    bad_samples: tuple[BadRow, ...] = ()
    #: Well-formed rows that are not for this product (e.g. SharePoint records of the UAL).
    skipped_rows: int = 0
    skipped_reason: str = ""
    rows_without_time: int = 0
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def unreadable(self) -> str | None:
        """Why nothing of the file was read (an error, or every row bad); None when rows
        were read or the file only held records for other products."""
        if self.error is not None:
            return self.error
        if self.rows == 0 and self.bad_rows > 0:
            first = self.bad_samples[0] if self.bad_samples else None
            where = "" if first is None or first.row is None else f" (row {first.row})"
            reason = f": {first.reason}" if first is not None else ""
            return (f"{self.path.name}: no row could be read, "
                    f"{self.bad_rows:,} bad{where}{reason}; "
                    "check that the file is a complete export")
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRun:
    rule_id: str
    ran: bool
    reason: str = ""
    alerts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    id: str
    category: str
    rule_id: str
    severity: Severity
    target: str | None
    targets: tuple[str, ...]
    source_ips: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    event_count: int
    summary: str
    evidence: tuple[Mapping[str, Any], ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    mitre: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionResult:
    alerts: tuple[Alert, ...]
    readers: tuple[ReaderReport, ...]
    rule_runs: tuple[RuleRun, ...]
    #: The alerts grouped into incidents (`detect.incidents`); every alert is in one.
    incidents: tuple[Incident, ...] = ()

    @property
    def rules_not_run(self) -> tuple[RuleRun, ...]:
        return tuple(run for run in self.rule_runs if not run.ran)

    @property
    def bad_rows(self) -> int:
        return sum(report.bad_rows for report in self.readers)

    @property
    def unreadable(self) -> tuple[ReaderReport, ...]:
        """The files nothing was read from: a partial result."""
        return tuple(report for report in self.readers if report.unreadable is not None)
