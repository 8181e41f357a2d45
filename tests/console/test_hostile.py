"""Hostile tenant strings render inert on every console page.

A synthetic tenant whose tenant name, display names and inbox rule names carry HTML, a
script, an attribute break-out, a CSV formula and terminal escapes is written, scanned, its
logs analysed, and stored with its incidents, an exception and a change request carrying
them too (tests/console/seed.py). Then every GET page an admin reaches, every custodian
page (through its link) and every console page they link to is fetched: none holds the
markup unescaped, a raw control character, or a script other than the htmx tag; a CSV
export starts no cell with a formula.

And the templates themselves: no script but htmx's in base.html, no inline style, no event
handler attribute, no `|safe`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from mailwarden.console.app import all_pages, create_app
from mailwarden.console.limits import RateLimiter
from mailwarden.console.roles import Role
from mailwarden.console.sessions import COOKIE
from mailwarden.store import dispose_engines
from tests.console.routes import PARAM, fill
from tests.console.seed import HOSTILE_MARKUP, HOSTILE_SCRIPT, Seeded, seed_history
from tests.console.support import BASE_URL, ConsoleClient, console_for, link_principal, person

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ESCAPED = ("&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(")
_HREF = re.compile(r'href="([^"]+)"')
MAX_PAGES = 250


@dataclasses.dataclass(frozen=True, slots=True)
class Crawl:
    pages: dict[str, httpx.Response]


def _filled(path: str, seeded: Seeded, target: str | None) -> str | None:
    url, complete = fill(path, seeded, target=target)
    return url if complete else None


def _crawl(client: ConsoleClient, starts: list[str], allowed: set[str]
           ) -> dict[str, httpx.Response]:
    """GET `starts` and every console page they link to (within `allowed` prefixes)."""
    seen: dict[str, httpx.Response] = {}
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for href in _HREF.findall(response.text):
            link = urljoin(BASE_URL + url, href.replace("&amp;", "&"))
            parts = urlsplit(link)
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if (link.startswith(BASE_URL) and not parts.path.startswith("/static/")
                    and any(parts.path.startswith(p) for p in allowed)
                    and local not in seen):
                queue.append(local)
    return seen


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    work = tmp_path_factory.mktemp("hostile-console")
    seeded = seed_history(f"sqlite:///{work / 'history.db'}", work, hostile=True)
    console = console_for(seeded.db_url)
    console = dataclasses.replace(console, limiter=RateLimiter(
        limit=1_000_000, window=timedelta(minutes=1), clock=console.clock))
    now = datetime.now(UTC)
    pages: dict[str, httpx.Response] = {}
    admin = ConsoleClient(create_app(console))
    value, _ = console.sessions.start(person(Role.ADMIN, "Ada"), now=now,
                                      lifetime=timedelta(hours=1), remote="127.0.0.1")
    admin.client.cookies.set(COOKIE, value)
    starts = [url for page in all_pages() if "GET" in page.methods and page.need is not None
              and (url := _filled(page.path, seeded, None)) is not None]
    try:
        pages.update(_crawl(admin, starts, {"/"}))
        for purpose, target in (("incident", seeded.incident_id),
                                ("review", seeded.values.get("review_id", "rev-seeded"))):
            link_pages = [p for p in all_pages() if p.link == purpose and "GET" in p.methods]
            if not link_pages:
                continue
            grant = console.links.issue(purpose=purpose, tenant_id=seeded.tenant_id,
                                        target=target, custodian=seeded.mailbox, now=now).grant
            custodian = ConsoleClient(create_app(console))
            value, _ = console.sessions.start(link_principal(grant), now=now,
                                              lifetime=timedelta(hours=1), remote="127.0.0.1")
            custodian.client.cookies.set(COOKIE, value)
            starts = [url for p in link_pages if (url := _filled(p.path, seeded,
                                                                  target)) is not None]
            pages.update(_crawl(custodian, starts, {f"/custodian/{purpose}/"}))
            custodian.close()
        yield Crawl(pages=pages)
    finally:
        admin.close()
        dispose_engines()


def test_every_page_an_admin_reaches_was_fetched(crawl: Crawl) -> None:
    fetched = {urlsplit(url).path for url in crawl.pages}
    for page in all_pages():
        if "GET" in page.methods and page.need is not None and not PARAM.search(page.path):
            assert page.path in fetched, page.path
    assert all(r.status_code < 500 for r in crawl.pages.values()), {
        u: r.status_code for u, r in crawl.pages.items() if r.status_code >= 500}


def test_hostile_strings_render_inert(crawl: Crawl) -> None:
    shown = 0
    for url, response in crawl.pages.items():
        body = response.text
        assert HOSTILE_MARKUP not in body and "<img" not in body, url
        assert HOSTILE_SCRIPT not in body and body.count("<script") <= 1, url
        assert not CONTROLS.search(body), (url, CONTROLS.findall(body)[:5])
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", body), url
        if "text/csv" in response.headers.get("content-type", ""):
            for line in body.splitlines():
                for cell in line.split(","):
                    assert not cell.strip('"').startswith(("=", "+", "@")), (url, line)
        shown += any(escaped in body for escaped in ESCAPED)
    assert shown, "no page showed the hostile strings at all: the test saw nothing"


TEMPLATES = Path(str(files("mailwarden.console") / "templates"))


def _templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    assert found
    return found


@pytest.mark.parametrize("template", _templates(), ids=lambda p: p.name)
def test_templates_hold_no_inline_code(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>", text, flags=re.I)
    if template.name == "base.html":
        assert scripts == ['<script src="/static/{{ htmx_file }}" integrity="{{ '
                           'htmx_integrity }}" defer></script>'[:-len("</script>")]]
    else:
        assert scripts == [], template.name
    assert not re.search(r"\sstyle\s*=", text, flags=re.I), template.name
    assert not re.search(r"<style\b", text, flags=re.I), template.name
    assert not re.search(r"\son[a-z]+\s*=", text, flags=re.I), template.name
    assert not re.search(r"\|\s*safe\b", text), template.name
    assert "javascript:" not in text.lower(), template.name
