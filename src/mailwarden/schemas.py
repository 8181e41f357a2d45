"""The schema id of every document mailwarden writes and later reads, each defined once.

A writer stamps its document with the id (`"schema": FINDINGS_SCHEMA`) and a reader
refuses a document without it, so a file of another kind or version is named as such
instead of half read. The number after the slash changes when a document's meaning does.
`findings.json` and `alerts.json` are the output contract (SPEC section 8); the others are
mailwarden's own state and test fixtures.
"""

from __future__ import annotations

#: findings.json: a scan's findings (report.findings_json; read by notify).
FINDINGS_SCHEMA = "mailwarden.findings/1"
#: alerts.json: detection's alerts (detect.document, report.alerts_json; read by notify).
ALERTS_SCHEMA = "mailwarden.alerts/1"
#: The synthetic logs' ground truth (synth.logs; read by detect.evaluate).
LABELS_SCHEMA = "mailwarden.labels/1"
#: What the synthetic tenant generator planted (synth.api).
PLANTED_SCHEMA = "mailwarden.planted/1"
#: The plan `remediate plan --format json` prints.
REMEDIATION_PLAN_SCHEMA = "mailwarden.remediation-plan/1"
REMEDIATION_RUNS_SCHEMA = "mailwarden.remediation-runs/1"
#: The JSON a notification webhook receives (notify.render_chat).
NOTIFICATION_SCHEMA = "mailwarden.notification/1"
#: The notification outbox's snapshot and the journal of marks beside it (notify.outbox).
OUTBOX_SCHEMA = "mailwarden.outbox/1"
OUTBOX_JOURNAL_SCHEMA = "mailwarden.outbox-journal/1"
#: Where `logs pull` got to in each log (collect.logs_checkpoint).
LOG_CHECKPOINT_SCHEMA = "mailwarden.logcheckpoint/1"
#: The watcher's state: cycles and posture (watch.state) and how far it read a growing
#: tenant directory (watch.source); its incidents are in the history database.
WATCH_STATE_SCHEMA = "mailwarden.watch-state/1"
WATCH_CHECKPOINT_SCHEMA = "mailwarden.watch-checkpoint/1"
#: What `mailwarden alerts --format json` prints: the watcher's incidents and their lifecycle.
INCIDENTS_SCHEMA = "mailwarden.incidents/1"
#: What `mailwarden exceptions list --format json` prints: the stored accepted exceptions.
EXCEPTIONS_SCHEMA = "mailwarden.exceptions/1"
#: What `mailwarden doctor --format json` prints: each source's probe and what to grant.
DOCTOR_SCHEMA = "mailwarden.doctor/1"
#: What `mailwarden fleet list --format json` prints: the fleet's tenants (no secrets).
FLEET_SCHEMA = "mailwarden.fleet/1"
#: What `mailwarden fleet status --format json` prints: each tenant's jobs and freshness.
FLEET_STATUS_SCHEMA = "mailwarden.fleet-status/1"
