"""The route table: each page with what reaches it.

Every route of the console is a `Page`. `guard.py` enforces, from these fields alone, who
may reach it, so the authorization matrix test can enumerate the table and check every
route against every kind of visitor:

- `public`: anyone, signed in or not (sign-in pages, custodian link exchange);
- `need`: the least role a signed-in person must hold;
- `link`: a custodian link of this purpose reaches it, and only for the target its path
  parameter `link_param` names; a person with a role does not reach a link-only page, and
  a link reaches nothing else.

State changes are POST, and POST is CSRF-checked for every visitor with a session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from mailwarden.console.roles import Role

if TYPE_CHECKING:
    from mailwarden.console.context import Ctx

Endpoint = Callable[[Request, "Ctx"], Awaitable[Response]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    path: str
    endpoint: Endpoint
    name: str
    methods: tuple[str, ...] = ("GET",)
    need: Role | None = Role.VIEWER
    public: bool = False
    link: str | None = None  # "review" | "incident"
    link_param: str = "target"
    rate_limited: bool = False  # sign-in and link endpoints: throttled per client address

    def __post_init__(self) -> None:
        if self.public and (self.need is not None or self.link is not None):
            raise ValueError(f"{self.path}: a public page needs no role and no link")
        if not self.public and self.need is None and self.link is None:
            raise ValueError(f"{self.path}: say who reaches it (need, link or public)")
