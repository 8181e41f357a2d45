"""README, "Collecting a real tenant": the permissions and Exchange roles it asks for cover
every read `collect` makes, by the same table `doctor` uses.

Get-InboxRule "doesn't work for members of View-Only Organization Management role group in
Exchange Online or the Global Reader role in Microsoft Entra ID"
(https://learn.microsoft.com/powershell/module/exchangepowershell/get-inboxrule), so a
README that recommends only a view-only role sets people up for a collection without
inbox rules; Microsoft's app-only guide combines Exchange Recipient Administrator with
other roles (https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2,
Option 3).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailwarden.collect import fields
from mailwarden.collect.live import EXO_LISTS, GRAPH_LISTS
from mailwarden.m365.graph import collection_path
from mailwarden.m365.permissions import exchange_role, graph_requirements

README = Path(__file__).resolve().parent.parent / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Collecting a real tenant")
    return text[start : text.index("\n### ", start + 1)]


def _reads() -> list[str]:
    urls = [collection_path("/organization", select=fields.ORGANIZATION),
            collection_path("/groups", select=fields.GROUP),
            collection_path("/groups/g/members", select=fields.MEMBER)]
    urls += [f"/{version}" + collection_path(path, select=select)
             for path, select, _, version in GRAPH_LISTS.values()]
    return urls


@pytest.mark.parametrize("url", _reads())
def test_the_readme_grants_every_graph_read_collect_makes(url: str) -> None:
    section = _section()
    for needed in graph_requirements(url):
        assert any(f"`{name}`" in section for name in needed.accepted), (url, needed.name)


def test_the_readme_names_an_exchange_role_for_every_cmdlet() -> None:
    section = " ".join(_section().split())
    assert "`Exchange.ManageAsApp`" in section
    cmdlets = {cmdlet for cmdlet, _, _ in EXO_LISTS.values()}
    cmdlets |= {"Get-Mailbox", "Get-MailboxPermission", "Get-InboxRule"}
    for cmdlet in sorted(cmdlets):
        role = exchange_role(cmdlet)
        assert any(carrier in section for carrier in role.entra), cmdlet
        assert f"*{role.role}*" in section, cmdlet
    assert "Get-InboxRule" in section and "Get-RecipientPermission" in section


def test_the_readme_documents_doctor_before_a_long_collect() -> None:
    section = _section()
    assert "mailwarden doctor" in section
    assert "| `mailwarden doctor" in README.read_text(encoding="utf-8")
