"""Local-mode invites: how a second person signs in to a console started with a local token
(a change needs a second person to approve it).

`mailwarden console invite NAME --role ROLE` stores an invite and prints its link,
`/invite/{token}`. The store keeps only the token's SHA-256, so a copy of the database
signs nobody in. An invite is single use and expires (24 hours unless said otherwise).

Opening the link shows who it signs in and a button; only the button's POST spends the
invite (a chat program that fetches the link to preview it spends nothing). Spending is
one conditional UPDATE (unused and unexpired), so two racing requests cannot both win.
The session is that person's, with the invite's role: source `invite`, subject
`invite:NAME`. The endpoint is rate limited; every use, and every refused one, is audited
without the token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from starlette.requests import Request
from starlette.responses import Response

from mailwarden.console.audit import Outcome
from mailwarden.console.context import Ctx
from mailwarden.console.pages import Page
from mailwarden.console.roles import Principal, Role, Source
from mailwarden.console.sessions import cookie_name, digest
from mailwarden.console.signin import signed_in
from mailwarden.errors import ConfigError
from mailwarden.store.history import History
from mailwarden.store.tables import console_invites

DEFAULT_LIFETIME = timedelta(hours=24)
MAX_LIFETIME = timedelta(days=14)


@dataclass(frozen=True, slots=True, kw_only=True)
class Invite:
    name: str
    role: Role
    created_by: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedInvite:
    invite: Invite
    token: str  # shown once, to whoever made the invite; stored nowhere

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/invite/{self.token}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class InviteStore:
    def __init__(self, history: History) -> None:
        self.history = history

    def issue(self, *, name: str, role: Role, created_by: str, now: datetime,
              lifetime: timedelta = DEFAULT_LIFETIME) -> IssuedInvite:
        name = name.strip()
        if not name or len(name) > 200 or not name.isprintable():
            raise ConfigError("give the invited person's name: printable, 1 to 200 characters")
        if not timedelta(0) < lifetime <= MAX_LIFETIME:
            raise ConfigError("an invite lasts more than nothing and at most 14 days "
                              "(--expires 24h, 3d)")
        token = secrets.token_urlsafe(32)
        invite = Invite(name=name, role=role, created_by=created_by, expires_at=now + lifetime)
        with self.history._connection("store a console invite", write=True) as connection:
            connection.execute(insert(console_invites).values(
                token_hash=digest(token), name=name, role=role.value, created_by=created_by,
                created_at=now, expires_at=invite.expires_at))
        return IssuedInvite(invite=invite, token=token)

    def peek(self, token: str, *, now: datetime) -> Invite | None:
        """The invite a token opens, without spending it; None when unknown, used or
        expired."""
        query = select(console_invites).where(console_invites.c.token_hash == digest(token))
        with self.history._connection("read a console invite") as connection:
            row = connection.execute(query).mappings().first()
        if row is None or row["used_at"] is not None or _aware(row["expires_at"]) <= now:
            return None
        return Invite(name=row["name"], role=Role(row["role"]), created_by=row["created_by"],
                      expires_at=_aware(row["expires_at"]))

    def redeem(self, token: str, *, now: datetime) -> Invite | None:
        """Spend the invite: the first caller gets it, every later one None."""
        invite = self.peek(token, now=now)
        if invite is None:
            return None
        spend = update(console_invites).where(
            console_invites.c.token_hash == digest(token), console_invites.c.used_at.is_(None),
            console_invites.c.expires_at > now).values(used_at=now)
        with self.history._connection("spend a console invite", write=True) as connection:
            spent = connection.execute(spend).rowcount
        return invite if spent == 1 else None


async def accept_invite(request: Request, ctx: Ctx) -> Response:
    store = InviteStore(ctx.console.history)
    token = request.path_params["token"]
    if request.method == "GET":
        invite = store.peek(token, now=ctx.now)
    else:
        invite = store.redeem(token, now=ctx.now)
    if invite is None:
        ctx.record("invite.accept", outcome=Outcome.REFUSED)
        return ctx.render("error.html", status=404, title="This invite does not work",
                          message="It was used already, has expired, or was copied wrongly. "
                                  "Ask the person who runs the console for a new one.")
    if request.method == "GET":
        return ctx.render("invite.html", title="Invitation", invite=invite,
                          action=request.url.path)
    principal = Principal(subject=f"invite:{invite.name}", name=invite.name,
                          roles=frozenset({invite.role}), source=Source.INVITE)
    earlier = request.cookies.get(cookie_name(ctx.console.config.secure_cookies))
    if earlier:  # whoever was signed in in this browser is not any more
        ctx.console.sessions.end(earlier)
    response, session = signed_in(ctx, principal, "/")
    joined = Ctx(console=ctx.console, request=request, principal=principal, session=session)
    joined.record("invite.accept", detail={"role": invite.role.value,
                                           "invited_by": invite.created_by})
    return response


PAGES = (
    Page(path="/invite/{token}", endpoint=accept_invite, name="invite",
         methods=("GET", "POST"), public=True, need=None, rate_limited=True),
)
