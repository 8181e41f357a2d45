"""Custodian links: signed, expiring, single-purpose, bound to one review or incident.

A link carries a token: the link's id and purpose, signed (itsdangerous, HMAC-SHA256) with
the console's link key and stamped with the time it was made. The store's `console_links`
row binds the id to one purpose, one tenant, one target and one custodian, and holds its
expiry and whether it was revoked. A token opens nothing unless the signature holds, it is
younger than its lifetime, the row exists with the same purpose, and the row has neither
expired nor been revoked. A link session (`sessions.py`) is checked against the row on
every request, so revoking a link ends the sessions it opened.

The key is `MAILWARDEN_CONSOLE_SECRET` when set (every console and watcher process of a
team shares it), else a random key kept in a 0600 file beside the per-user history
database. It is never logged and never stored in the database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from platformdirs import user_data_path
from sqlalchemy import insert, select, update

from mailwarden.console.roles import LinkGrant
from mailwarden.errors import ConfigError
from mailwarden.files import make_private_dirs, read_regular_text, write_private_text
from mailwarden.store.history import History
from mailwarden.store.tables import console_links

SECRET_ENV = "MAILWARDEN_CONSOLE_SECRET"
PURPOSES = ("review", "incident")
_SALT = "mailwarden.console.link"
DEFAULT_LIFETIME = timedelta(days=14)


def default_key_path() -> Path:
    return user_data_path("mailwarden", appauthor=False) / "console.key"


def load_link_key(environ: Mapping[str, str] | None = None, path: Path | None = None) -> str:
    """The link key: from the environment, else the key file (made on first use)."""
    env = os.environ if environ is None else environ
    if env.get(SECRET_ENV):
        key = env[SECRET_ENV]
        if len(key) < 32:
            raise ConfigError(f"{SECRET_ENV} is too short: use at least 32 random characters "
                              "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return key
    where = path or default_key_path()
    if where.exists():
        return read_regular_text(where).strip()
    make_private_dirs(where.parent)
    key = secrets.token_urlsafe(48)
    write_private_text(where, key + "\n")
    return key


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedLink:
    grant: LinkGrant
    token: str
    expires_at: datetime

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/r/{self.token}"


class LinkStore:
    def __init__(self, history: History, key: str) -> None:
        self.history = history
        self._serializer = URLSafeTimedSerializer(key, salt=_SALT)

    def issue(self, *, purpose: str, tenant_id: str, target: str, custodian: str,
              now: datetime, lifetime: timedelta = DEFAULT_LIFETIME) -> IssuedLink:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown link purpose {purpose!r}")
        link_id = secrets.token_urlsafe(18)
        expires = now + lifetime
        with self.history._connection("store a custodian link", write=True) as connection:
            connection.execute(insert(console_links).values(
                id=link_id, purpose=purpose, tenant_id=tenant_id, target=target,
                custodian=custodian.lower(), created_at=now, expires_at=expires))
        token = self._serializer.dumps({"l": link_id, "p": purpose})
        grant = LinkGrant(link_id=link_id, purpose=purpose, tenant_id=tenant_id,
                          target=target, custodian=custodian.lower())
        return IssuedLink(grant=grant, token=token, expires_at=expires)

    def open(self, token: str, *, now: datetime,
             max_age: timedelta = DEFAULT_LIFETIME) -> LinkGrant | None:
        """The grant a token opens, or None (bad signature, too old, revoked, expired)."""
        try:
            claims = self._serializer.loads(token, max_age=int(max_age.total_seconds()))
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("l"), str):
            return None
        query = select(console_links).where(console_links.c.id == claims["l"])
        with self.history._connection("read a custodian link") as connection:
            row = connection.execute(query).mappings().first()
        if row is None or row["purpose"] != claims.get("p") or row["revoked_at"] is not None:
            return None
        expires = row["expires_at"]
        if (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) <= now:
            return None
        return LinkGrant(link_id=row["id"], purpose=row["purpose"], tenant_id=row["tenant_id"],
                         target=row["target"], custodian=row["custodian"])

    def mark_used(self, link_id: str, *, now: datetime) -> None:
        with self.history._connection("update a custodian link", write=True) as connection:
            connection.execute(update(console_links).where(
                console_links.c.id == link_id, console_links.c.used_at.is_(None)
            ).values(used_at=now))

    def revoke(self, *, purpose: str, target: str, now: datetime) -> int:
        """Revoke every link to one target (a review closed, an incident answered)."""
        with self.history._connection("revoke custodian links", write=True) as connection:
            result = connection.execute(update(console_links).where(
                console_links.c.purpose == purpose, console_links.c.target == target,
                console_links.c.revoked_at.is_(None)).values(revoked_at=now))
        return int(result.rowcount or 0)
