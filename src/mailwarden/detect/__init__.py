"""Detection: read sign-in, directory audit and Unified Audit Log files, run SQL rules.

Entry points: `detect_files` (read files, run rules), `detect_directory` (a recorded
tenant's `logs/`) with `context_from_scan` (what the rules know of the tenant),
`render_alerts_json` / `alerts_document` (alerts.json), `list_rules` (the catalogue).
The normalized tables are documented in `tables.py`, the tenant context in `context.py`.
"""

from mailwarden.detect.context import (
    EMPTY_CONTEXT,
    DepartedAccount,
    DetectContext,
    GuestAccount,
    MailboxGrant,
    OwnerlessAccount,
)
from mailwarden.detect.document import alerts_document, render_alerts_json
from mailwarden.detect.results import Alert, BadRow, DetectionResult, ReaderReport, RuleRun
from mailwarden.detect.rules import ALL_RULES, CATEGORIES, Rule, Threshold
from mailwarden.detect.run import DetectOptions, detect_files, list_rules
from mailwarden.detect.tenant import context_from_scan, detect_directory, log_files

__all__ = [
    "ALL_RULES", "CATEGORIES", "EMPTY_CONTEXT", "Alert", "BadRow", "DepartedAccount",
    "DetectContext", "DetectOptions", "DetectionResult", "GuestAccount", "MailboxGrant",
    "OwnerlessAccount", "ReaderReport", "Rule", "RuleRun", "Threshold", "alerts_document",
    "context_from_scan", "detect_directory", "detect_files", "list_rules", "log_files",
    "render_alerts_json",
]
