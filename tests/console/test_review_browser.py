"""An access review in headless Chromium (Debian's, driven by playwright) against the
console served on loopback: a responder starts it, the custodian follows the link their
mail holds, removes a delegate, and the responder sees the review closed into a change
request; no console errors, no request leaves the console, screenshots kept."""

from __future__ import annotations

import asyncio
import email
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mailwarden.console.app import create_app
from mailwarden.console.context import Console
from mailwarden.pipeline import scan_directory, store_scan
from mailwarden.store import dispose_engines
from mailwarden.store.reviews import ReviewStore
from mailwarden.synth import generate, write_synthetic
from tests.console.support import TOKEN, console_for
from tests.support.chromium import launched_chromium
from tests.support.peers import SmtpInbox, free_port, html_part, smtp_server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Console, str, SmtpInbox]]:
    """The console over a stored small synthetic tenant, on http://127.0.0.1:PORT."""
    tenant = tmp_path / "tenant"
    write_synthetic(generate("small", seed=0), tenant)
    db = f"sqlite:///{tmp_path / 'history.db'}"
    store_scan(scan_directory(tenant, db_url=db), detection=None, db_url=db)
    port = free_port()
    with smtp_server() as (inbox, smtp_port):
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            "channels:\n  mail:\n    type: email\n"
            f"    url: mailto://alerts:HUNTER2PASS@127.0.0.1:{smtp_port}"
            "?from=alerts@contoso.example&mode=insecure\n"
            "routes:\n  - channels: [mail]\n", encoding="utf-8")
        console = console_for(db, port=port, routing=routing,
                              review_mail_state=tmp_path / "mail" / "state.json")
        server = uvicorn.Server(uvicorn.Config(create_app(console), log_config=None,
                                               log_level="critical", lifespan="off"))
        sock = socket.create_server(("127.0.0.1", port))
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=lambda: loop.run_until_complete(
            server.serve(sockets=[sock])), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            yield console, f"http://127.0.0.1:{port}", inbox
        finally:
            server.should_exit = True
            thread.join(10)
            loop.close()
            sock.close()
            dispose_engines()


def _watched(context: Any, base: str, problems: list[str]) -> Any:
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: problems.append(f"request: {r.url}")
            if not r.url.startswith(base) else None)
    # Chromium asks every site for /favicon.ico; the console has none (a 404, not an error
    # of the page's own).
    page.route(f"{base}/favicon.ico", lambda route: route.fulfill(status=204))
    return page


def test_a_custodian_completes_a_review_in_the_browser(
        browser: Any, served: tuple[Console, str, SmtpInbox], tmp_path: Path) -> None:
    console, base, inbox = served
    shots = Path(os.environ.get("MAILWARDEN_TEST_ARTIFACTS", tmp_path)) / "console-reviews"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    staff = _watched(browser.new_context(), base, problems)
    staff.goto(f"{base}/login?token={TOKEN}&next=/reviews")
    mailbox = "builds@adventure-works.com"
    staff.fill("input[name=mailbox]", mailbox)
    staff.fill("input[name=due]", (date.today() + timedelta(days=14)).isoformat())
    staff.screenshot(path=str(shots / "reviews.png"), full_page=True)
    staff.click("text=Start the review")
    staff.wait_for_url(re.compile(r".*/reviews/ar-.*"))
    review_id = staff.url.split("/reviews/")[1].split("?")[0]
    staff.screenshot(path=str(shots / "review-open.png"), full_page=True)
    items = ReviewStore(console.history).items(review_id)
    custodian = items[0].custodian
    assert custodian is not None
    (envelope,) = [e for e in inbox.messages if e.rcpt_tos == [custodian]]
    link = re.search(r'href="([^"]+/r/[^"]+)"', html_part(email.message_from_bytes(
        envelope.content)))
    assert link is not None and link.group(1).startswith(base)

    holder = _watched(browser.new_context(), base, problems)
    holder.goto(link.group(1))
    holder.wait_for_url(f"{base}/custodian/review/{review_id}")
    assert mailbox in holder.inner_text("main")
    holder.screenshot(path=str(shots / "custodian-review.png"), full_page=True)
    removed = items[0]
    holder.check(f"input[name=d-{removed.id}][value=remove]")
    holder.fill(f"input[name=n-{removed.id}]", "left the team")
    for item in items[1:]:
        holder.check(f"input[name=d-{item.id}][value=keep]")
    holder.click("text=Save my decisions")
    holder.wait_for_load_state("load")
    assert "the decisions below are final" in holder.inner_text("main")
    holder.screenshot(path=str(shots / "custodian-review-closed.png"), full_page=True)

    staff.goto(f"{base}/reviews/{review_id}")
    text = staff.inner_text("main")
    review = ReviewStore(console.history).get(review_id)
    assert review.change_request_id is not None and review.change_request_id in text
    assert "waiting for an approver" in text
    staff.screenshot(path=str(shots / "review-closed.png"), full_page=True)
    assert problems == []
