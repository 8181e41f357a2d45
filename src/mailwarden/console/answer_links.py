"""The "was this you?" links the watcher puts in custodians' messages about an incident.

`incident_answer_links` is what the watcher's wiring (`mailwarden watch`) hands to the
cycle as `WatchConfig.answer_links`: notify knows nothing of the console, only of a
function that makes a URL. Each call issues a custodian link (`links.LinkStore`, purpose
"incident", bound to the tenant, the incident and the custodian) signed with the console's
link key, so the console that shares the key (MAILWARDEN_CONSOLE_SECRET, or the same
user's key file) and the history database opens it. No link is made for an incident that
is no longer kept or was answered already.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from mailwarden.console.links import LinkStore
from mailwarden.errors import ConfigError
from mailwarden.store.history import History
from mailwarden.store.incidents import IncidentStore

AnswerLinks = Callable[[str, str, str], str | None]


def console_base_url(value: str) -> str:
    """The console's public URL as a link's base; anything but http(s) is refused."""
    url = value.strip().rstrip("/")
    if not url.startswith(("https://", "http://")) or len(url) <= len("https://"):
        raise ConfigError(f"console_url {value!r}: give the URL people open the console at, "
                          "such as https://mailwarden.contoso.example")
    return url


def incident_answer_links(db_url: str | None, key: str, base_url: str, *,
                          clock: Callable[[], datetime] = lambda: datetime.now(UTC)
                          ) -> AnswerLinks:
    """(tenant id, incident id, custodian) -> the URL of that custodian's answer page."""
    base = console_base_url(base_url)

    def link(tenant_id: str, incident_id: str, custodian: str) -> str | None:
        with History.open(db_url) as history:
            incident = IncidentStore(history).find(tenant_id, incident_id)
            if incident is None or incident.answer is not None:
                return None
            issued = LinkStore(history, key).issue(
                purpose="incident", tenant_id=tenant_id, target=incident_id,
                custodian=custodian, now=clock())
        return issued.url(base)
    return link


__all__ = ["AnswerLinks", "console_base_url", "incident_answer_links"]
