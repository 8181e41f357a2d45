"""The overview and the mailbox pages render what the history holds of a scanned synthetic
tenant: the posture score per run, open incidents, risk bands, freshness, expiring
exceptions; the mailboxes in the one risk order with filters that work without
JavaScript; a mailbox's paths, findings, access map, incidents and history."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from mailwarden.assess.risk import ranked
from mailwarden.console import mailboxes as mailbox_pages
from mailwarden.console.app import build_console
from mailwarden.console.config import ConsoleConfig
from mailwarden.console.context import Console
from mailwarden.console.roles import Role
from mailwarden.model.findings import Status
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from mailwarden.report.html_view import risk_buckets
from mailwarden.report.posture import posture_score
from mailwarden.store import dispose_engines
from tests.console.overview_tenant import NOW, Scanned, scan_twice, store
from tests.console.support import LINK_KEY, TOKEN, ConsoleClient, person, signed_in

_POINT = re.compile(r'<circle class="point"')


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    return scan_twice(tmp_path_factory.mktemp("tenant"))


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'history.db'}"
    dispose_engines()


def _console(db_url: str, **config: object) -> Console:
    return build_console(ConsoleConfig(db_url=db_url, **config),  # type: ignore[arg-type]
                         clock=lambda: NOW, local_token=TOKEN, link_key=LINK_KEY)


@pytest.fixture
def stored(db_url: str, scanned: Scanned) -> tuple[TrackedIncident, ...]:
    return store(db_url, scanned)


@pytest.fixture
def viewer(db_url: str, stored: tuple[TrackedIncident, ...]) -> Iterator[ConsoleClient]:
    client = signed_in(_console(db_url), person(Role.VIEWER))
    yield client
    client.close()


def _section(html: str) -> str:
    return html.split('<section class="tenant"', 1)[1].split("</section>", 1)[0]


def _upns(html: str) -> list[str]:
    return re.findall(r'<tr data-upn="([^"]+)">', html)


def test_the_overview_shows_score_bands_freshness_and_expiring(
        viewer: ConsoleClient, scanned: Scanned) -> None:
    page = viewer.get("/")
    assert page.status_code == 200
    section = _section(page.text)
    assert len(_POINT.findall(section)) == 3  # one point per stored run
    score = posture_score(scanned.second.result.assessments)
    assert f'<p class="big">{score}</p>' in section
    first_score = posture_score(scanned.first.result.assessments)
    assert f"2026-11-01 06:00 UTC: {first_score}</title>" in section
    # bands: the latest run's mailboxes
    for band, count in risk_buckets(scanned.second.result.assessments).items():
        assert f"risk {band}</a></td><td class=\"num\">{count}</td>" in section
    # stale: the posture was collected 2026-11-01 00:00 (31 h before), logs pulled at the
    # second run (2026-11-01 18:00, 13 h before)
    assert "STALE" in section
    assert "posture collected 31 h ago (limit 26 h)" in section
    assert "logs last pulled 13 h ago (limit 2 h)" in section
    # the exception expiring in 5 days is listed; the one in 60 is not
    assert "<code>imap-enabled</code>" in section and "pop-enabled" not in section
    assert re.search(r"<td class=\"num\">5</td>", section)


def test_open_incidents_are_counted_by_severity(viewer: ConsoleClient,
                                                stored: tuple[TrackedIncident, ...]) -> None:
    expected = Counter(i.severity for i in stored if i.status is not IncidentStatus.RESOLVED)
    assert expected, "the small tenant's logs raise incidents"
    section = _section(viewer.get("/").text)
    block = section.split("<h3>Open incidents</h3>", 1)[1].split("</div>", 1)[0]
    shown = dict(re.findall(r'<span class="sev-(\w+)">\w+</span></td><td class="num">(\d+)',
                            block))
    assert {k: int(v) for k, v in shown.items()} == dict(expected)


def test_fresh_data_is_not_flagged(db_url: str, scanned: Scanned) -> None:
    store(db_url, scanned)
    client = signed_in(_console(db_url, stale_posture=timedelta(hours=48),
                                stale_logs=timedelta(hours=24)), person(Role.VIEWER))
    try:
        section = _section(client.get("/").text)
    finally:
        client.close()
    assert "STALE" not in section and "posture collected" not in section


def test_the_mailbox_list_is_in_the_one_risk_order(viewer: ConsoleClient,
                                                    scanned: Scanned) -> None:
    page = viewer.get(f"/tenants/{scanned.second.tenant.tenant_id}/mailboxes")
    assert page.status_code == 200
    assert _upns(page.text) == [a.upn for a in ranked(scanned.second.result.assessments)]
    assert viewer.get("/mailboxes").headers["location"] == (
        f"/tenants/{scanned.second.tenant.tenant_id}/mailboxes")


def test_filters_work_without_javascript(viewer: ConsoleClient, scanned: Scanned,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result = scanned.second.result
    base = f"/tenants/{result.tenant.tenant_id}/mailboxes"
    order = [a.upn for a in ranked(result.assessments)]
    kind = {e.upn: e.kind.value for e in result.inventory}
    some_kind = kind[order[0]]
    assert _upns(viewer.get(base, params={"kind": some_kind}).text) == [
        u for u in order if kind[u] == some_kind]
    risk = {a.upn: a.risk_score for a in result.assessments}
    assert _upns(viewer.get(base, params={"band": "75-100"}).text) == [
        u for u in order if risk[u] >= 75]
    failing = {(f.check_id, f.resource.key) for f in result.findings if f.status is Status.FAIL}
    imap = _upns(viewer.get(base, params={"check": "imap-enabled"}).text)
    assert imap == [u for u in order if ("imap-enabled", u) in failing]
    assert scanned.imap_upn not in imap  # fixed in the latest run
    word = order[0].split("@")[0][:4].upper()
    names = {e.upn: (e.display_name or "") for e in result.inventory}
    assert _upns(viewer.get(base, params={"q": word}).text) == [
        u for u in order if word.lower() in u or word.lower() in names[u].lower()]
    custodian = {e.upn: e.custodian for e in result.inventory}
    assert _upns(viewer.get(base, params={"custodian": "missing"}).text) == [
        u for u in order if custodian[u] is None]
    # pages keep the filters and continue the order
    monkeypatch.setattr(mailbox_pages, "PER_PAGE", 5)
    first = viewer.get(base, params={"band": "75-100"}).text
    second = viewer.get(base, params={"band": "75-100", "page": "2"}).text
    banded = [u for u in order if risk[u] >= 75]
    assert len(banded) > 5, "the small tenant has more than a page of its riskiest"
    assert _upns(first) + _upns(second) == banded[:10]
    assert f'href="{base}?band=75-100&amp;page=2"' in first
    # htmx asks for the table alone
    partial = viewer.get(base, params={"kind": some_kind}, headers={"HX-Request": "true"})
    assert partial.text.startswith('<div id="mailbox-results">') and "<html" not in partial.text


def test_the_mailbox_page(viewer: ConsoleClient, scanned: Scanned) -> None:
    upn = scanned.imap_upn
    tenant = scanned.second.tenant.tenant_id
    page = viewer.get(f"/tenants/{tenant}/mailboxes/{quote(upn, safe='@')}")
    assert page.status_code == 200
    text = page.text
    assessment = next(a for a in scanned.second.result.assessments if a.upn == upn)
    for path in assessment.attack_paths:
        assert f"<strong>{path.title}</strong>" in text
    findings = text.split('<section id="findings">', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<tr class="status-pass">\s*<td><code>imap-enabled</code>', findings)
    history = text.split('<section id="history">', 1)[1].split("</section>", 1)[0]
    assert len(_POINT.findall(history)) == 3
    assert re.findall(r'<tr data-run="(\d+)">', history) == ["3", "2", "1"]
    latest = history.split('<tr data-run="3">', 1)[1].split("</tr>", 1)[0]
    assert "fixed: <code>imap-enabled</code>" in latest and "IMAP: true &rarr; false" in latest
    assert "no change" in history.split('<tr data-run="2">', 1)[1].split("</tr>", 1)[0]


def test_the_access_map_shows_last_use_and_incidents_name_the_mailbox(
        viewer: ConsoleClient, scanned: Scanned, stored: tuple[TrackedIncident, ...]) -> None:
    tenant = scanned.second.tenant.tenant_id
    used = next((access, use) for access in scanned.second.result.access
                for use in access.usage if use.last_used is not None)
    page = viewer.get(f"/tenants/{tenant}/mailboxes/{quote(used[0].upn, safe='@')}").text
    access = page.split('<section id="access">', 1)[1].split("</section>", 1)[0]
    assert used[1].describe() in access
    incidents = stored
    owned = {e.upn for e in scanned.second.result.inventory}
    target = next(t for i in incidents for t in i.targets if t in owned)
    page = viewer.get(f"/tenants/{tenant}/mailboxes/{quote(target, safe='@')}").text
    section = page.split('<section id="incidents">', 1)[1].split("</section>", 1)[0]
    assert {i.id for i in incidents if target in i.targets} == set(
        re.findall(r"<tr><td><code>([^<]+)</code>", section))


def test_unknown_tenants_and_mailboxes_are_not_found(viewer: ConsoleClient,
                                                     scanned: Scanned) -> None:
    tenant = scanned.second.tenant.tenant_id
    assert viewer.get("/tenants/nobody/mailboxes").status_code == 404
    assert viewer.get(f"/tenants/{tenant}/mailboxes/nobody@nowhere.example").status_code == 404
