"""How the emulator behaves: credentials it accepts, and the conditions it imposes.

Every condition is off by default, so a plain `EmulatorConfig()` answers every request at
once and correctly. Turn on latency, throttling and faults to see how a client copes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mailwarden.emulator.signing import IdTokenFault

#: The client secret the token endpoint accepts unless configured otherwise.
DEFAULT_CLIENT_SECRET = "emulator-secret"
#: The app roles the mailwarden console's app registration declares (their `value`s): what
#: Entra writes into the `roles` claim of a user assigned to them.
CONSOLE_APP_ROLES = ("Console.Viewer", "Console.Responder", "Console.Approver", "Console.Admin")


class Service(StrEnum):
    LOGIN = "login"
    GRAPH = "graph"
    EXCHANGE = "exchange"


class FaultKind(StrEnum):
    SERVER_ERROR = "server-error"  # 500, 502, 503 (with Retry-After) or 504
    TIMEOUT = "timeout"  # no answer within the client's read timeout
    DROP = "drop"  # the connection closes without a (complete) response
    MALFORMED = "malformed"  # 200 with a truncated JSON body


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetedFault:
    """Fail requests whose route matches `pattern` (a regular expression, searched).

    Routes read `graph:/v1.0/users?$top=500`, `graph:/v1.0/groups/{id}/members?...` (also
    inside `$batch`), `exchange:Get-InboxRule` and `login:/{tenant}/oauth2/v2.0/token`.
    The `nth` matching request fails (1 = the first), and the `times - 1` after it too.
    """

    pattern: str
    nth: int = 1
    times: int = 1
    kind: FaultKind = FaultKind.SERVER_ERROR
    status: int = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class WebApp:
    """A web application registered for OpenID Connect sign-in (authorization code + PKCE):
    its client id, its redirect URIs (matched exactly, as Entra does), the app roles it
    declares, and the users assigned to them (UPN, any case -> role values). A user with no
    assignment signs in with no `roles` claim (assignment is not required, Entra's
    default). It authenticates at the token endpoint with the emulator's client secret or
    a certificate assertion, as the app-only flows do."""

    client_id: str
    redirect_uris: tuple[str, ...]
    app_roles: tuple[str, ...] = CONSOLE_APP_ROLES
    assignments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def roles_of(self, upn: str) -> tuple[str, ...]:
        wanted = upn.lower()
        return next((tuple(roles) for name, roles in self.assignments.items()
                     if name.lower() == wanted), ())


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """Credentials and conditions. Seconds are floats; rates are requests per second."""

    client_secret: str = field(default=DEFAULT_CLIENT_SECRET, repr=False)
    #: SHA-1 thumbprints (hex, any case) a client assertion may name; empty: any.
    certificate_thumbprints: tuple[str, ...] = ()
    #: Seconds between device-code polls that the device-code answer asks for.
    device_code_interval: int = 1

    graph_latency: float = 0.0
    exo_latency: float = 0.0
    login_latency: float = 0.0

    #: Graph token bucket per tenant: refill rate and size; None turns throttling off.
    graph_rate: float | None = None
    graph_burst: int = 100
    #: Exchange: requests allowed in flight per tenant (None: unlimited) ...
    exo_concurrency: int | None = None
    #: ... and an optional token bucket, like Graph's.
    exo_rate: float | None = None
    exo_burst: int = 100
    #: Retry-After (seconds) sent with Exchange's concurrency refusal.
    exo_retry_after: float = 1.0

    #: Probability that a Graph or Exchange request meets a random fault.
    fault_rate: float = 0.0
    fault_kinds: tuple[FaultKind, ...] = tuple(FaultKind)
    #: Retry-After (seconds) sent with an injected 503.
    fault_retry_after: float = 1.0
    #: How long a timeout fault keeps the client waiting on loopback.
    timeout_seconds: float = 30.0
    targeted_faults: tuple[TargetedFault, ...] = ()
    #: Sources that always fail, with the HTTP status to answer (403 or a 5xx).
    failing_sources: Mapping[str, int] = field(default_factory=dict)
    #: Microsoft Graph application permissions admin-consented to the app: the token
    #: endpoint puts them in the token's `roles` claim and Graph refuses the reads they
    #: do not grant (`emulator.permissions`). None: every permission mailwarden reads with.
    graph_permissions: frozenset[str] | None = None
    seed: int = 0

    #: Web applications people sign in to with OpenID Connect (`emulator.signin`).
    web_apps: tuple[WebApp, ...] = ()
    #: Seconds an authorization code can be redeemed in (Entra: about ten minutes).
    auth_code_lifetime: float = 600.0
    #: Users (UPN, any case) whose id tokens are forged as the fault says, so that a
    #: client's id token checks can be seen to refuse them.
    id_token_faults: Mapping[str, IdTokenFault] = field(default_factory=dict)

    #: Exchange's page size when the client sends no `Prefer: odata.maxpagesize`.
    exo_default_page_size: int = 100
    #: The Exchange RBAC of the calling app, a profile of `emulator.exchange_roles` (name
    #: or slug): "Exchange Administrator" runs everything; "View-Only Organization
    #: Management", "Global Reader" and "Exchange Recipient Administrator + Global Reader"
    #: are refused what Exchange refuses them.
    exchange_role: str = "Exchange Administrator"
    #: Mailboxes (any identity form) that Get-Mailbox still lists but that the per-mailbox
    #: cmdlets no longer find: deleted between the list and the call.
    vanished_mailboxes: tuple[str, ...] = ()
    #: Mailboxes outside the app's Exchange management scope: per-mailbox cmdlets answer
    #: Exchange's read-scope error for them.
    out_of_scope_mailboxes: tuple[str, ...] = ()
    #: Texts added to the "@adminapi.errors" / "@adminapi.warnings" of 200 answers whose
    #: route (`Get-InboxRule {"Mailbox": ...}`, as `TargetedFault` reads it, without the
    #: service prefix) the pattern is found in.
    exo_page_errors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    exo_page_warnings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    #: Graph's reports throttle on sign-in and directory-audit logs: requests allowed per
    #: `reports_window` seconds per tenant (Graph: 5 per 10 s); None turns it off.
    reports_limit: int | None = None
    reports_window: float = 10.0
    #: Reads of a new audit log query that answer "running" before it has "succeeded".
    audit_query_polls: int = 1

