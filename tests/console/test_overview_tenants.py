"""Tenant strings render inert on the overview and mailbox pages (a display name holding
HTML, an exception's reason and owner holding a formula, markup and a terminal escape);
with many tenants the overview shows one at a time with a selector."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mailwarden.console.context import Console
from mailwarden.console.roles import Principal, Role
from mailwarden.model.exceptions import FindingException
from mailwarden.store import store_run
from mailwarden.store.exceptions import ExceptionStore
from tests.console.support import ConsoleClient, person
from tests.report.report_factory import HOSTILE, small_run

ClientOf = Callable[[Principal | None], ConsoleClient]
SCRIPT = '<script>alert("x")</script>'
FORMULA = '=HYPERLINK("http://evil.example","x")'
ESCAPE = "\x1b[31mred"
#: An inline script, or a style or event handler attribute inside a tag.
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<[^>]*\s(?:style|on[a-z]+)=", re.IGNORECASE)


def test_hostile_strings_render_inert(console: Console, client_of: ClientOf) -> None:
    run = small_run()
    store_run(run, console.history.url.render_as_string(hide_password=False))
    hostile = next(e for e in run.result.inventory if e.display_name == HOSTILE)
    ExceptionStore(console.history).add(run.tenant.tenant_id, FindingException(
        check="imap-enabled", mailbox=hostile.upn, reason=f"{SCRIPT} {ESCAPE}",
        owner=FORMULA + '"><img src=x onerror=alert(2)>' + ESCAPE,
        expires=(datetime.now(UTC) + timedelta(days=3)).date(),
        created_at=datetime.now(UTC), created_by="tests"))
    client = client_of(person(Role.VIEWER))
    tenant = run.tenant.tenant_id
    pages = {
        "overview": client.get("/"),
        "list": client.get(f"/tenants/{tenant}/mailboxes"),
        "search": client.get(f"/tenants/{tenant}/mailboxes", params={"q": SCRIPT}),
        "mailbox": client.get(f"/tenants/{tenant}/mailboxes/{hostile.upn}"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        assert not _INLINE.search(page.text), name
        assert "<img src=x" not in page.text and SCRIPT not in page.text, name
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["list"].text
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["mailbox"].text
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)&#34;&gt;&lt;img" in (
        pages["overview"].text)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages["search"].text


def test_many_tenants_get_a_selector(console: Console, client_of: ClientOf) -> None:
    run = small_run()
    url = console.history.url.render_as_string(hide_password=False)
    for n in range(5):
        tenant = replace(run.tenant, tenant_id=f"tenant-{n}", display_name=f"Tenant {n}")
        store_run(replace(run, result=replace(run.result, tenant=tenant)), url)
    client = client_of(person(Role.VIEWER))
    page = client.get("/").text
    assert '<select name="tenant">' in page
    assert re.findall(r'<section class="tenant"[^>]*data-tenant="([^"]+)"', page) == ["tenant-0"]
    chosen = client.get("/", params={"tenant": "tenant-3"}).text
    assert re.findall(r'<section class="tenant"[^>]*data-tenant="([^"]+)"', chosen) == [
        "tenant-3"]
    listed = client.get("/mailboxes").text
    assert [f"/tenants/tenant-{n}/mailboxes" for n in range(5)] == re.findall(
        r'<li><a href="([^"]+)"', listed)
