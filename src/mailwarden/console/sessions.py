"""Server-side sessions.

The cookie holds a random value (256 bits); the store keeps only its SHA-256, so a copy of
the database signs nobody in. Each session has its own CSRF token, which every form and
htmx request sends back (`guard.py`). A session ends when it expires, when the person signs
out, or when its row is deleted (an admin revoking it).

The cookie is HttpOnly and SameSite=Strict, and Secure when the console is reached over
HTTPS (then named with the `__Host-` prefix, which browsers only accept from a secure
origin, for the whole site and without a Domain).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update

from mailwarden.console.roles import LinkGrant, Principal, Role, Source
from mailwarden.store.history import History
from mailwarden.store.tables import console_links, console_sessions

COOKIE = "mailwarden_session"
SECURE_COOKIE = "__Host-mailwarden_session"


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    principal: Principal
    csrf: str
    expires_at: datetime


class SessionStore:
    """The sessions of one history database."""

    def __init__(self, history: History) -> None:
        self.history = history

    def start(self, principal: Principal, *, now: datetime, lifetime: timedelta,
              remote: str | None) -> tuple[str, Session]:
        """A new session for `principal`; returns the cookie value (shown to nobody else,
        stored nowhere) and the session."""
        value = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        expires = now + lifetime
        link = principal.link
        with self.history._connection("start a console session", write=True) as connection:
            connection.execute(insert(console_sessions).values(
                id_hash=digest(value), subject=principal.subject, name=principal.name,
                roles=sorted(r.value for r in principal.roles), source=principal.source.value,
                link_id=link.link_id if link else None, csrf=csrf, created_at=now,
                expires_at=expires, last_seen_at=now, remote=remote))
        return value, Session(principal=principal, csrf=csrf, expires_at=expires)

    def find(self, value: str, *, now: datetime) -> Session | None:
        """The live session the cookie value opens; None when there is none, it expired,
        or its custodian link was revoked or expired."""
        query = select(console_sessions).where(console_sessions.c.id_hash == digest(value))
        with self.history._connection("read the console session") as connection:
            row = connection.execute(query).mappings().first()
            if row is None or _aware(row["expires_at"]) <= now:
                return None
            grant = None
            if row["link_id"] is not None:
                link = connection.execute(select(console_links).where(
                    console_links.c.id == row["link_id"])).mappings().first()
                if (link is None or link["revoked_at"] is not None
                        or _aware(link["expires_at"]) <= now):
                    return None
                grant = LinkGrant(link_id=link["id"], purpose=link["purpose"],
                                  tenant_id=link["tenant_id"], target=link["target"],
                                  custodian=link["custodian"])
        principal = Principal(subject=row["subject"], name=row["name"],
                              roles=frozenset(Role(r) for r in row["roles"]),
                              source=Source(row["source"]), link=grant)
        return Session(principal=principal, csrf=row["csrf"],
                       expires_at=_aware(row["expires_at"]))

    def touch(self, value: str, *, now: datetime) -> None:
        with self.history._connection("update the console session", write=True) as connection:
            connection.execute(update(console_sessions).where(
                console_sessions.c.id_hash == digest(value)).values(last_seen_at=now))

    def end(self, value: str) -> None:
        with self.history._connection("end the console session", write=True) as connection:
            connection.execute(delete(console_sessions).where(
                console_sessions.c.id_hash == digest(value)))

    def end_all(self, subject: str) -> int:
        """End every session of one person; returns how many there were."""
        with self.history._connection("end console sessions", write=True) as connection:
            result = connection.execute(delete(console_sessions).where(
                console_sessions.c.subject == subject))
        return int(result.rowcount or 0)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; every stored one is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
