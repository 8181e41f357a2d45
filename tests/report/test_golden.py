"""Golden files for the text formats. After an intended change, regenerate them with
MAILWARDEN_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailwarden.model.run import Run
from mailwarden.report import ReportFormat, render_reports, with_changes
from mailwarden.report.markdown import md
from mailwarden.store.diff import diff
from mailwarden.store.history import facts_of, run_ref
from tests.report.report_factory import small_run

GOLDEN = Path(__file__).parent / "golden"


def _run_with_changes() -> Run:
    """The small run, compared with a previous run of the same tenant where nothing failed."""
    run = small_run()
    before = facts_of(run, run_ref(run, 7))
    before = type(before)(
        ref=before.ref,
        findings={k: v for k, v in before.findings.items() if k[0] != "imap-enabled"},
        mailboxes=before.mailboxes,
        delegates={k: v for k, v in before.delegates.items() if k[1] != "bob@contoso.com"},
        settings={**before.settings, ("hr@contoso.com", "IMAP"): "false"},
    )
    return with_changes(run, diff(before, facts_of(run, run_ref(run))))


@pytest.mark.parametrize(("fmt", "name"), [
    (ReportFormat.CSV, "findings.csv"),
    (ReportFormat.MARKDOWN, "summary.md"),
    (ReportFormat.JSON, "findings.json"),
    (ReportFormat.JSON, "alerts.json"),
])
def test_matches_golden_file(fmt: ReportFormat, name: str) -> None:
    text = render_reports(_run_with_changes(), [fmt])[name]
    golden = GOLDEN / name
    if os.environ.get("MAILWARDEN_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_markdown_escapes_markup_in_tenant_strings() -> None:
    assert md("<img src=x onerror=alert(1)> [a](b) | *x*\nnext") == (
        "&lt;img src=x onerror=alert(1)> \\[a\\](b) \\| \\*x\\* next"
    )
