"""Triage in headless Chromium (Debian's, driven by playwright) against the console served
on loopback: the queue, an incident's page, "assign to me" and acknowledge swapped in
place by htmx under the Content-Security-Policy, and a custodian answering through the
link in their email; no console errors. Screenshots of each page are kept beside the
test's temporary files (`MAILWARDEN_TEST_ARTIFACTS` names a folder to keep them in)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mailwarden.console.app import create_app
from mailwarden.console.context import Console
from mailwarden.store.incidents import IncidentStore
from tests.console.incidents.seed import Seeded
from tests.console.support import TOKEN, console_for
from tests.support.chromium import launched_chromium
from tests.support.peers import free_port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


@pytest.fixture
def served(console: Console) -> Iterator[tuple[str, Console]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The same database, with the console's public URL the one the browser opens.
    served_console = console_for(str(console.history.url), port=port)
    server = uvicorn.Server(uvicorn.Config(create_app(served_console), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="off",
                                           ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield base, served_console
    server.should_exit = True
    thread.join(timeout=10)


def watched(page: Any, problems: list[str]) -> Any:
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    return page


def shots(tmp_path: Path) -> Path:
    artifacts = os.environ.get("MAILWARDEN_TEST_ARTIFACTS")
    folder = Path(artifacts) / "console-incidents" if artifacts else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_responder_triages_and_a_custodian_answers_in_a_browser(
        browser: Any, served: tuple[str, Console], seeded: tuple[Path, Seeded],
        tmp_path: Path) -> None:
    base, console = served
    folder = shots(tmp_path)
    problems: list[str] = []
    context = browser.new_context()
    page = watched(context.new_page(), problems)
    page.goto(f"{base}/login?token={TOKEN}&next=/incidents")
    page.wait_for_selector("table")
    page.screenshot(path=str(folder / "incidents.png"), full_page=True)
    ident = sorted(seeded[1].incidents)[0]
    page.click(f"a[href$='/{ident}']")
    page.wait_for_selector("#incident-actions")
    page.screenshot(path=str(folder / "incident.png"), full_page=True)
    url = page.url
    page.click("text=Assign to me")
    page.wait_for_selector("#incident-actions >> text=Assigned to: local admin")
    page.fill("#incident-actions input[name=note]", "<b>looking</b>")
    page.click("#incident-actions button:has-text('Acknowledge')")
    page.wait_for_selector("#incident-actions >> text=Status: acknowledged")
    assert page.url == url  # swapped in place, no navigation
    assert page.inner_text("#incident-actions").count("<b>looking</b>") == 1
    tenant = seeded[1].tenant_id
    stored = IncidentStore(console.history).find(tenant, ident)
    assert stored is not None and stored.assignee == "local admin"
    page.screenshot(path=str(folder / "incident-acknowledged.png"), full_page=True)

    issued = console.links.issue(purpose="incident", tenant_id=tenant, target=ident,
                                 custodian="owner@northwindtraders.com",
                                 now=console.clock())
    custodian = watched(browser.new_context().new_page(), problems)
    custodian.goto(issued.url(base))
    custodian.wait_for_url(f"**/custodian/incident/{ident}")
    custodian.screenshot(path=str(folder / "custodian-incident.png"), full_page=True)
    custodian.click("text=No, this was not me")
    custodian.wait_for_selector("text=no, this was not you")
    custodian.screenshot(path=str(folder / "custodian-answered.png"), full_page=True)
    answered = IncidentStore(console.history).find(tenant, ident)
    assert answered is not None and answered.answer == "denied"
    assert problems == [], problems
