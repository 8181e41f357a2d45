"""The HTML report opened in headless Chromium (Debian's, driven by playwright): content,
no script errors, hostile strings shown as text, sorting and filtering work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailwarden.report import ReportFormat, write_reports
from tests.report.report_factory import HOSTILE, small_run
from tests.support.chromium import launched_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    (path,) = write_reports(small_run(), out, [ReportFormat.HTML])
    return path


def _open(browser: Any, path: Path) -> tuple[Any, list[str]]:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: problems.append(f"request: {r.url}")
            if not r.url.startswith("file://") else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


def test_report_shows_its_content_without_errors(browser: Any, report: Path) -> None:
    page, problems = _open(browser, report)
    assert page.title() == "mailwarden report: Contoso"
    assert page.inner_text("#count-ownerless") == "2"
    assert page.inner_text("#count-alerts") == "1"
    riskiest = page.inner_text("#riskiest")
    assert "hr@contoso.com" in riskiest and "bob@contoso.com" in riskiest
    assert "ownerless-sign-in" in page.inner_text("#alerts")
    assert "Set-CASMailbox" in page.text_content("#remediation")
    assert page.locator("svg rect").count() >= 5
    assert problems == []
    page.close()


def test_report_rolls_findings_up_per_control(browser: Any, report: Path) -> None:
    page, problems = _open(browser, report)
    section = page.inner_text("#compliance")
    assert "CIS Microsoft 365 Foundations Benchmark v6.0.0" in section
    assert "CISA SCuBA Secure Configuration Baselines" in section
    row = page.locator("#compliance tr", has_text="Ensure sign-in to shared mailboxes is blocked")
    assert row.locator("td.status").inner_text() == "fail"
    page.evaluate("document.querySelectorAll('#compliance details').forEach(d => d.open = true)")
    assert "sign-in-enabled hr@contoso.com" in page.inner_text("#compliance")
    assert problems == []
    page.close()


def test_hostile_strings_render_as_text(browser: Any, report: Path) -> None:
    page, problems = _open(browser, report)
    names = page.locator("#mailbox-table td.display-name").all_inner_texts()
    assert HOSTILE in names
    assert page.locator("img").count() == 0
    assert page.locator("#alerts script").count() == 0
    assert "<script>alert('ua')</script>" in page.text_content("#alerts")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert problems == []
    page.close()


def test_table_sorts_and_filters(browser: Any, report: Path) -> None:
    page, problems = _open(browser, report)

    def first_column() -> list[str]:
        cells = page.locator("#mailbox-table tbody tr:not([hidden]) td:first-child")
        return cells.all_inner_texts()

    assert first_column() == ["hr@contoso.com", "boardroom@contoso.com"]  # riskiest first
    page.click("#mailbox-table th:first-child")
    assert first_column() == ["hr@contoso.com", "boardroom@contoso.com"]  # descending
    page.click("#mailbox-table th:first-child")
    assert first_column() == ["boardroom@contoso.com", "hr@contoso.com"]
    page.select_option("#filter-kind", "room")
    assert first_column() == ["boardroom@contoso.com"]
    page.select_option("#filter-kind", "")
    page.fill("#filter-text", "stale-delegate")
    assert first_column() == ["hr@contoso.com"]
    assert page.inner_text("#filter-count") == "1"
    assert problems == []
    page.close()


def test_accepted_findings_and_exceptions_show_in_the_browser(
    browser: Any, tmp_path: Path
) -> None:
    from tests.report.test_exceptions_formats import _run

    (path,) = write_reports(_run(), tmp_path, [ReportFormat.HTML])
    page, problems = _open(browser, path)
    assert page.inner_text("#count-accepted") == "2"
    accepted = page.inner_text("#accepted-table")
    assert "imap-enabled" in accepted and "it-ops@contoso.com" in accepted
    assert "<b>imap-enabled</b> accepted" in accepted  # the reason as text, not markup
    assert page.locator("#exceptions b").count() == 0
    section = page.inner_text("#exceptions")
    assert "Expired: these findings fail again" in section and "expired 32 days ago" in section
    page.fill("#filter-text", "imap-enabled")  # an accepted check still finds its mailbox
    assert page.inner_text("#filter-count") == "1"
    assert problems == []
    page.close()
