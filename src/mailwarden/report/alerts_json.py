"""alerts.json (SPEC section 8) for a `Run`: byte for byte what detection's own renderer
writes for the same detection result."""

from __future__ import annotations

import json

from mailwarden.model.run import Run
from mailwarden.schemas import ALERTS_SCHEMA
from mailwarden.times import iso


def render(run: Run) -> str:
    detection = run.detection
    document = {
        "schema": ALERTS_SCHEMA,
        "generated_at": iso(run.generated_at),
        "alerts": [dict(alert) for alert in run.alerts],
        "incidents": [dict(incident) for incident in run.incidents],
        "inputs": [dict(item) for item in detection.inputs] if detection else [],
        "rules": [dict(item) for item in detection.rules] if detection else [],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
