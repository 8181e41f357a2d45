"""The `alerts.json` document (SPEC section 8), as a plain dict and as text."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mailwarden.detect.incidents import group_incidents
from mailwarden.detect.results import Alert, DetectionResult, ReaderReport, RuleRun
from mailwarden.model.incidents import Incident
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


def incident_dict(incident: Incident) -> dict[str, Any]:
    """An incident as alerts.json holds it: SPEC section 8's keys (status as documented:
    open, acknowledged or resolved), then extra ones."""
    return {
        "id": incident.id, "category": incident.category,
        "severity": str(incident.severity), "targets": list(incident.targets),
        "first_seen": _iso(incident.first_seen), "last_seen": _iso(incident.last_seen),
        "alert_ids": list(incident.alert_ids), "status": incident.status.documented,
        "lifecycle": incident.status.value, "categories": list(incident.categories),
        "source_ips": list(incident.source_ips), "actors": list(incident.actors),
        "summary": incident.summary, "marks": list(incident.marks),
    }


def incidents_of(result: DetectionResult) -> tuple[Incident, ...]:
    """The result's incidents; a result built without them gets its alerts grouped."""
    return result.incidents or group_incidents(result.alerts)


def alert_dicts(result: DetectionResult) -> list[dict[str, Any]]:
    """The alerts as alerts.json holds them, each with the id of its incident."""
    owner = {alert_id: incident.id for incident in incidents_of(result)
             for alert_id in incident.alert_ids}
    return [{**alert_dict(alert), "incident_id": owner.get(alert.id)}
            for alert in result.alerts]


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
        "alerts": alert_dicts(result),
        "incidents": [incident_dict(incident) for incident in incidents_of(result)],
        "inputs": [_reader_dict(report) for report in result.readers],
        "rules": [_run_dict(run) for run in result.rule_runs],
    }


def render_alerts_json(result: DetectionResult, generated_at: datetime) -> str:
    return json.dumps(alerts_document(result, generated_at), indent=2, ensure_ascii=False,
                      default=str) + "\n"
