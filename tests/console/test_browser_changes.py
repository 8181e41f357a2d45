"""Exceptions and remediation in headless Chromium (Debian's, driven by playwright), the
console served on loopback and connected to the emulator: one person requests an exception
and a change, another approves both, the local admin (signed in with the printed token)
applies the change and rolls it back, all through the pages' own forms; no console errors;
a screenshot of each page is kept under $MAILWARDEN_TEST_ARTIFACTS (else the test's
directory)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailwarden.console.app import create_app
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.console.sessions import COOKIE
from mailwarden.store import dispose_engines
from mailwarden.store.changes import ChangeState, ChangeStore
from tests.console.changes_support import connected_console, serve_console, served_tenant
from tests.console.support import TOKEN, person
from tests.remediate.remediate_helpers import tenant_id
from tests.support.chromium import launched_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Console]:
    with served_tenant(monkeypatch) as served:
        yield connected_console(served, tmp_path)
        dispose_engines()


class Visitor:
    """One person's browser context; every console message, page error or dialog is a
    problem."""

    def __init__(self, browser: Any, base: str, shots: Path, name: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.base, self.shots, self.name = base, shots, name
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"{m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(d.message), d.dismiss()))
        self.page.on("response", lambda r: self.problems.append(f"{r.status}: {r.url}")
                     if r.status >= 400 else None)

    def session_of(self, console: Console, principal: Principal) -> None:
        value, _ = console.sessions.start(principal, now=datetime.now(UTC),
                                          lifetime=timedelta(hours=1), remote="127.0.0.1")
        self.context.add_cookies([{"name": COOKIE, "value": value, "url": self.base}])

    def go(self, path: str) -> Any:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")
        return self.page

    def shot(self, label: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{self.name}-{label}.png"), full_page=True)


def _submit(page: Any, selector: str) -> None:
    """Click and wait for the page the form leads to."""
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state("load")


def test_exception_and_change_through_the_pages(browser: Any, console: Console,
                                                tmp_path: Path) -> None:
    artifacts = os.environ.get("MAILWARDEN_TEST_ARTIFACTS")
    shots = Path(artifacts) / "console-changes" if artifacts else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with serve_console(create_app(console)) as base:
        ann, bob = (Visitor(browser, base, shots, n) for n in ("ann", "bob"))
        ann.session_of(console, person(Role.RESPONDER, "Ann"))
        bob.session_of(console, person(Role.APPROVER, "Bob"))
        admin = Visitor(browser, base, shots, "admin")
        admin.go(f"/login?token={TOKEN}&next=/remediation")
        assert admin.page.url == f"{base}/remediation"

        page = ann.go("/exceptions")
        page.fill("input[name=tenant]", tenant_id())
        page.select_option("select[name=check]", "imap-enabled")
        page.fill("input[name=mailbox]", "noreply@adventure-works.com")
        page.fill("input[name=reason]", "a partner's scanner reads it")
        page.fill("input[name=owner]", "ops@adventure-works.com")
        page.fill("input[name=expires]", (datetime.now(UTC) + timedelta(days=30)).date()
                  .isoformat())
        _submit(page, "form[action='/exceptions'] button[type=submit]")
        assert page.locator(".approval-requested").count() == 1, page.inner_text("main")
        ann.shot("exception-requested")
        page = bob.go("/exceptions")
        page.fill("input[name=note]", "until the partner moves")
        _submit(page, "button:has-text('Approve')")
        assert page.locator(".approval-approved").count() == 1
        bob.shot("exception-approved")

        page = ann.go("/remediation")
        _submit(page, f"a[href='/remediation/plan/{tenant_id()}']")
        ann.shot("plan")
        page.check("input[name=kind][value=remove-forwarding]")
        page.fill("textarea[name=reason]", "forwarding out of ownerless mailboxes")
        _submit(page, "button:has-text('Submit for approval')")
        assert page.locator(".state-pending").count() == 1
        request_path = page.url.removeprefix(base)
        ann.shot("request-pending")

        page = bob.go(request_path)
        page.fill("input[name=note]", "approved for today")
        _submit(page, "button:has-text('Approve')")
        assert page.locator(".state-approved").count() == 1

        page = admin.go(request_path)
        page.click("button:has-text('Apply to the tenant')")
        page.wait_for_selector("strong.state-applied", timeout=60_000)
        assert page.locator(".outcome-applied").count() >= 1
        admin.shot("applied")
        page.click("button:has-text('Roll back')")
        page.wait_for_selector("strong.state-rolled-back", timeout=60_000)
        admin.shot("rolled-back")
        admin.go("/exceptions")
        admin.shot("exceptions")
        admin.go("/remediation")
        admin.shot("remediation")

        (change,) = ChangeStore(console.history).for_tenant()
        assert change.state is ChangeState.ROLLED_BACK
        for visitor in (ann, bob, admin):
            assert visitor.problems == [], visitor.problems
            visitor.context.close()
    assert len(list(shots.iterdir())) == 8
