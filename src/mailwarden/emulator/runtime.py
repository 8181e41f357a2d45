"""One emulated tenant: its state, conditions, counts, token issuer and log API state.

An emulator serving many tenants (`emulator.tenancy`) holds one `Emulator` per tenant,
so each has its own throttling, counts and sign-ins; they share only the token key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mailwarden.emulator.conditions import Conditions, EmulatorStats
from mailwarden.emulator.config import EmulatorConfig
from mailwarden.emulator.exchange_roles import role_profile
from mailwarden.emulator.logs_odata import ReportsLimiter
from mailwarden.emulator.logs_query import AuditQueries
from mailwarden.emulator.necessary import necessary_requests
from mailwarden.emulator.signing import IdTokenSigner
from mailwarden.emulator.state import TenantState
from mailwarden.emulator.tokens import TokenIssuer
from mailwarden.tenant.recorded import RecordedTenant


@dataclass(slots=True)
class DeviceCode:
    """A device-code sign-in in progress; the emulator approves it after one pending poll."""

    client_id: str
    scope: str
    polls: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedInUser:
    """Who signed in on the emulator's sign-in page."""

    object_id: str
    upn: str
    name: str


@dataclass(slots=True, kw_only=True)
class AuthCode:
    """An authorization code handed to a web app's redirect URI: what its redemption must
    match (client, redirect URI, PKCE challenge) and what the id token will say."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    scope: str
    user: SignedInUser
    issued_at: float
    redeemed: bool = False


@dataclass(slots=True)
class Sessions:
    """Delegated sign-ins: pending device codes, authorization codes and the refresh tokens
    handed out."""

    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> client id
    auth_codes: dict[str, AuthCode] = field(default_factory=dict)


class Emulator:
    """Everything the routes share. `stats` is what a client cost; `state` is mutable."""

    def __init__(
        self,
        tenant: RecordedTenant,
        config: EmulatorConfig,
        *,
        key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.exchange_role = role_profile(config.exchange_role)
        self.state = TenantState(tenant)
        self.stats = EmulatorStats(necessary_requests(tenant), config)
        self.conditions = Conditions(config, self.stats)
        self.tokens = TokenIssuer(self.state.tenant_id, key=key, clock=clock)
        self.id_tokens = IdTokenSigner(self.state.tenant_id, clock=clock)
        self.sessions = Sessions()
        #: Graph's reports throttle on the log endpoints, and the audit log queries.
        self.reports = ReportsLimiter(config.reports_limit, config.reports_window)
        self.audit_queries = AuditQueries(config)

    def refusal_status(self, source: str) -> int | None:
        """The status a source is refused with: configured, or 403 when the tenant lacks it
        (what the real service answers when the app lacks the permission), else None."""
        if source in self.config.failing_sources:
            return self.config.failing_sources[source]
        if not self.state.available(source):
            return 403
        return None
