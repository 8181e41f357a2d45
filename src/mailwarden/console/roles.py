"""Roles and the signed-in principal.

Roles are ordered: each includes the ones below it (an approver may also triage and view).
In team mode they come from the Entra ID application's app roles; in local mode the person
who started the console is admin and invited people get the role of their invite. A
custodian who follows a link holds no role: only the one page the link is bound to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # reads every page
    RESPONDER = "responder"  # triages incidents, requests exceptions and changes, starts reviews
    APPROVER = "approver"  # approves exceptions and changes (never their own)
    ADMIN = "admin"  # applies and rolls back approved changes, invites people, reads the audit

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Role.VIEWER: 1, Role.RESPONDER: 2, Role.APPROVER: 3, Role.ADMIN: 4}


class Source(StrEnum):
    LOCAL = "local"  # the local token printed when the console started
    INVITE = "invite"  # a local-mode invite link
    ENTRA = "entra"  # OpenID Connect sign-in with Entra ID
    LINK = "link"  # a custodian's signed link


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkGrant:
    """What a custodian link reaches: one purpose, one tenant, one target."""

    link_id: str
    purpose: str  # "review" | "incident"
    tenant_id: str
    target: str
    custodian: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    subject: str  # stable: "local:NAME", "invite:NAME", an Entra object id, "link:ID"
    name: str
    roles: frozenset[Role]
    source: Source
    link: LinkGrant | None = None

    def has(self, role: Role) -> bool:
        """Whether any held role includes `role`."""
        return any(held.rank >= role.rank for held in self.roles)

    @property
    def top_role(self) -> Role | None:
        return max(self.roles, key=lambda r: r.rank) if self.roles else None
