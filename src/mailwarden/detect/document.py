"""The `alerts.json` document (SPEC section 8), as a plain dict and as text."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mailwarden.detect.results import Alert, DetectionResult, ReaderReport, RuleRun
from mailwarden.schemas import ALERTS_SCHEMA
from mailwarden.times import iso


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso(moment)


def alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "category": alert.category, "rule_id": alert.rule_id,
        "severity": str(alert.severity), "target": alert.target, "targets": list(alert.targets),
        "source_ips": list(alert.source_ips), "first_seen": _iso(alert.first_seen),
        "last_seen": _iso(alert.last_seen), "event_count": alert.event_count,
        "summary": alert.summary, "evidence": [dict(row) for row in alert.evidence],
        "facts": dict(alert.facts), "mitre": list(alert.mitre),
    }


def _reader_dict(report: ReaderReport) -> dict[str, Any]:
    return {
        "path": str(report.path), "format": report.format, "table": report.table,
        "rows": report.rows, "bad_rows": report.bad_rows,
        "bad_samples": [{"file": b.file, "row": b.row, "reason": b.reason, "sample": b.sample}
                        for b in report.bad_samples],
        "skipped_rows": report.skipped_rows, "skipped_reason": report.skipped_reason,
        "rows_without_time": report.rows_without_time, "notes": list(report.notes),
        "error": report.error,
    }


def _run_dict(run: RuleRun) -> dict[str, Any]:
    return {"rule_id": run.rule_id, "ran": run.ran, "reason": run.reason, "alerts": run.alerts}


def alerts_document(result: DetectionResult, generated_at: datetime) -> dict[str, Any]:
    """The alerts.json content; `inputs` and `rules` are extra keys beside the contract."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    return {
        "schema": ALERTS_SCHEMA,
        "generated_at": _iso(generated_at),
        "alerts": [alert_dict(alert) for alert in result.alerts],
        "inputs": [_reader_dict(report) for report in result.readers],
        "rules": [_run_dict(run) for run in result.rule_runs],
    }


def render_alerts_json(result: DetectionResult, generated_at: datetime) -> str:
    return json.dumps(alerts_document(result, generated_at), indent=2, ensure_ascii=False,
                      default=str) + "\n"
