"""Every format is mapped, chosen by name, and written as private files; alerts.json from a
run is what detection's own renderer writes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mailwarden.detect import render_alerts_json
from mailwarden.errors import ConfigError
from mailwarden.report import (
    DEFAULT_FORMATS,
    ReportFormat,
    outputs,
    parse_formats,
    render_reports,
    write_reports,
)
from mailwarden.report.csv_report import safe_cell
from tests.report.report_factory import GENERATED, detection, small_run


def test_every_format_is_mapped_to_files() -> None:
    run = small_run()
    names = [o.filename for fmt in ReportFormat for o in outputs(fmt, run)]
    assert names == ["report.html", "findings.json", "alerts.json", "findings.csv",
                     "compliance.csv", "findings.sarif", "ocsf.json", "summary.md"]
    assert all(text.strip() for text in render_reports(run, ReportFormat).values())


def test_json_writes_alerts_only_when_logs_were_read() -> None:
    names = [o.filename for o in outputs(ReportFormat.JSON, small_run(with_alerts=False))]
    assert names == ["findings.json"]


def test_parse_formats() -> None:
    assert parse_formats("html, json,md,html") == (
        ReportFormat.HTML, ReportFormat.JSON, ReportFormat.MARKDOWN)
    assert parse_formats("all") == tuple(ReportFormat)
    with pytest.raises(ConfigError, match="pdf"):
        parse_formats("html,pdf")
    with pytest.raises(ConfigError):
        parse_formats(" , ")


def test_write_reports_creates_private_files(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir"
    paths = write_reports(small_run(), out, DEFAULT_FORMATS)
    assert [p.name for p in paths] == ["report.html", "findings.json", "alerts.json"]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_alerts_json_matches_the_detection_renderer() -> None:
    run = small_run()
    text = render_reports(run, [ReportFormat.JSON])["alerts.json"]
    assert text == render_alerts_json(detection(), GENERATED)


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx"])
def test_csv_cells_cannot_start_a_formula(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    assert safe_cell("hr@contoso.com") == "hr@contoso.com"


def test_the_html_report_counts_in_english() -> None:
    from mailwarden.report import html_report

    page = html_report.render(small_run())
    assert "</div>failed findings</div>" in page
    assert "4 failing checks" in page and "(s)" not in page
    assert "&middot; 2 people</summary>" in page and "&middot; 2 events &middot;" in page


def test_the_html_timeline_groups_alerts_by_incident() -> None:
    from html.parser import HTMLParser

    html = render_reports(small_run(second_alert=True), [ReportFormat.HTML])["report.html"]

    class Nesting(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.alerts_in: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "details":
                kind = dict(attrs).get("class") or ""
                if kind == "alert":
                    self.alerts_in.append(self.stack[-1] if self.stack else "")
                self.stack.append(kind)

        def handle_endtag(self, tag: str) -> None:
            if tag == "details":
                self.stack.pop()

    parser = Nesting()
    parser.feed(html)
    assert parser.alerts_in == ["incident", "incident"]  # both alerts inside one incident
    assert html.count('<details class="incident"') == 1
    assert "2 alerts in 1 incident" in html
