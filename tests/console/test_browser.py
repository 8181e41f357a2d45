"""The console in Chromium: `mailwarden console` runs as a process on a seeded history, the
browser signs in with the URL it printed and visits every page an admin reaches, with no
console error and no Content-Security-Policy violation; a screenshot of each is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailwarden.console.app import all_pages
from tests.console.browser import Browse, Served
from tests.console.routes import fill, missing_ok
from tests.console.seed import Seeded, seed_history


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    work = tmp_path_factory.mktemp("browser")
    return seed_history(f"sqlite:///{work / 'history.db'}", work, hostile=True)


def _admin_urls(seeded: Seeded) -> tuple[list[str], list[str]]:
    """The GET pages an admin reaches with their parameters filled; those that could not
    be (no seeded value, or a page that cannot show with this seeding: routes.missing_ok)."""
    urls, skipped = [], []
    allowances = missing_ok()
    for page in all_pages():
        if "GET" not in page.methods or page.need is None:
            continue
        url, complete = fill(page.path, seeded)
        if complete and ("GET", page.path) not in allowances:
            urls.append(url)
        else:
            skipped.append(page.path)
    return urls, skipped


def test_an_admin_signs_in_and_visits_every_page(seeded: Seeded, served: Served,
                                                 browse: Browse) -> None:
    running = served(seeded.db_url)
    page = browse(running)  # signs in with the printed URL
    assert page.page.url == running.base_url + "/"
    urls, skipped = _admin_urls(seeded)
    assert "/audit" in urls and "/" in urls
    print(f"pages not visited (no seeded value for a parameter): {skipped}")
    for url in urls:
        response = page.visit(url)
        assert response is not None and response.status == 200, url
        assert page.page.locator("main h1").count() >= 1, url
        assert page.page.locator("img").count() == 0, url  # the hostile <img> stayed text
    audit = page.visit("/audit")
    assert audit.status == 200
    assert "signin.local" in page.page.inner_text("#audit-table")
    page.page.click("text=Sign out")
    page.page.wait_for_load_state("load")
    assert "/login" in page.page.url
    page.shot("signed-out")
    assert len(list(Path(page.folder).glob("*.png"))) == page.shots


def test_a_stranger_sees_only_the_sign_in_page(seeded: Seeded, served: Served,
                                               browse: Browse) -> None:
    running = served(seeded.db_url)
    page = browse(running, sign_in=False)
    response = page.visit("/audit")
    assert response.status == 200 and "/login" in page.page.url  # sent to sign in
    page.page.fill("input[name=token]", "not the token")
    page.page.click("button[type=submit]")
    page.page.wait_for_load_state("load")
    assert "not valid" in page.page.inner_text("main")
    page.problems[:] = [p for p in page.problems if "403" not in p]  # the refusal itself
    token = running.sign_in_url.split("token=", 1)[1]
    page.visit("/login")
    page.page.fill("input[name=token]", token)
    page.page.click("button[type=submit]")
    page.page.wait_for_load_state("load")
    assert page.page.url == running.base_url + "/"
    page.shot("signed-in-with-pasted-token")
