"""Effective settings: what actually applies to one account, after inheritance.

- SMTP AUTH: the mailbox's SmtpClientAuthenticationDisabled, or when it is null (unset)
  the organisation's Get-TransportConfig value.
- Basic authentication: the authentication policy assigned to the account (Get-User),
  else the organisation's default (OrganizationConfig.DefaultAuthenticationPolicy). With
  neither, Microsoft's retirement applies: basic auth is off for every Exchange Online
  protocol except SMTP AUTH, which Microsoft still accepts with a password where SMTP AUTH
  is enabled (its retirement has been postponed repeatedly), so SMTP AUTH is judged by
  the `smtp-auth-enabled` check.
- Conditional access and security defaults: see `legacy_coverage`. With security
  defaults on, Entra ID blocks every legacy-protocol sign-in (IMAP, POP, SMTP, Exchange
  ActiveSync basic auth: Microsoft Entra "Security defaults"), whatever else applies.
  Conditional-access policies cannot be used beside them ("Organizations that choose to
  implement Conditional Access policies ... must disable security defaults"), so an enabled
  policy shows them off even when they could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailwarden.assess.index import TenantIndex
from mailwarden.model.inventory import (
    Account,
    AuthenticationPolicy,
    CasMailbox,
    ConditionalAccessPolicy,
    ExoUser,
    Snapshot,
    UsersCondition,
)

LEGACY_CLIENTS = frozenset({"exchangeactivesync", "other"})
#: Applications a legacy-block policy must target to cover Exchange Online.
EXCHANGE_APPS = frozenset({"all", "office365", "00000002-0000-0ff1-ce00-000000000000"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpAuth:
    enabled: bool | None
    source: str  # "mailbox", "organisation" or "unknown"
    reason: str


def smtp_auth(snapshot: Snapshot, cas: CasMailbox | None) -> SmtpAuth:
    if not snapshot.available("exo/Get-CASMailbox"):
        return SmtpAuth(
            enabled=None, source="unknown", reason=_missing(snapshot, "exo/Get-CASMailbox")
        )
    if cas is None:
        return SmtpAuth(enabled=None, source="unknown", reason="no Get-CASMailbox row for it")
    if cas.smtp_client_authentication_disabled is not None:
        return SmtpAuth(
            enabled=not cas.smtp_client_authentication_disabled,
            source="mailbox",
            reason=f"SmtpClientAuthenticationDisabled is {cas.smtp_client_authentication_disabled}"
            " on the mailbox",
        )
    transport = snapshot.transport_config
    if not snapshot.available("exo/Get-TransportConfig") or transport is None:
        return SmtpAuth(
            enabled=None,
            source="unknown",
            reason="the mailbox leaves SMTP AUTH to the organisation, and "
            + _missing(snapshot, "exo/Get-TransportConfig"),
        )
    if transport.smtp_client_authentication_disabled is None:
        return SmtpAuth(
            enabled=None,
            source="unknown",
            reason="neither the mailbox nor Get-TransportConfig sets "
            "SmtpClientAuthenticationDisabled",
        )
    return SmtpAuth(
        enabled=not transport.smtp_client_authentication_disabled,
        source="organisation",
        reason="the mailbox inherits SmtpClientAuthenticationDisabled "
        f"{transport.smtp_client_authentication_disabled} from Get-TransportConfig",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BasicAuth:
    policy: str | None
    source: str  # "account", "organisation", "none" or "unknown"
    allowed: tuple[str, ...] | None  # protocols basic auth is allowed for; None: unknown
    reason: str

    def allows(self, protocol: str) -> bool | None:
        if self.allowed is None:
            return None
        return protocol.lower() in {p.lower() for p in self.allowed}


def _policy(snapshot: Snapshot, name: str) -> AuthenticationPolicy | None:
    wanted = name.lower()
    for policy in snapshot.authentication_policies:
        if policy.identity.lower() == wanted or policy.identity.lower().endswith("\\" + wanted):
            return policy
    return None


def basic_auth(snapshot: Snapshot, exo_user: ExoUser | None) -> BasicAuth:
    if not snapshot.available("exo/Get-User"):
        return BasicAuth(
            policy=None, source="unknown", allowed=None, reason=_missing(snapshot, "exo/Get-User")
        )
    if exo_user is None:
        return BasicAuth(
            policy=None, source="unknown", allowed=None, reason="no Get-User row for the account"
        )
    name, source = exo_user.authentication_policy, "account"
    if not name:
        org = snapshot.organization_config
        if not snapshot.available("exo/Get-OrganizationConfig") or org is None:
            return BasicAuth(
                policy=None,
                source="unknown",
                allowed=None,
                reason="the account has no policy of its own, and "
                + _missing(snapshot, "exo/Get-OrganizationConfig"),
            )
        name, source = org.default_authentication_policy, "organisation"
    if not name:
        return BasicAuth(
            policy=None,
            source="none",
            allowed=(),
            reason="no authentication policy applies: Microsoft has retired basic auth for "
            "every Exchange Online protocol except SMTP AUTH (judged by smtp-auth-enabled)",
        )
    if not snapshot.available("exo/Get-AuthenticationPolicy"):
        return BasicAuth(
            policy=name,
            source=source,
            allowed=None,
            reason=_missing(snapshot, "exo/Get-AuthenticationPolicy"),
        )
    policy = _policy(snapshot, name)
    if policy is None:
        return BasicAuth(
            policy=name,
            source=source,
            allowed=None,
            reason=f"policy '{name}' is not in Get-AuthenticationPolicy",
        )
    allowed = tuple(sorted(protocol for protocol, on in policy.allow_basic if on))
    return BasicAuth(
        policy=name,
        source=source,
        allowed=allowed,
        reason=f"policy '{name}' ({source}) allows basic auth for "
        + (", ".join(allowed) if allowed else "no protocol"),
    )


#: How `blocked_by` names the block security defaults put on legacy clients.
SECURITY_DEFAULTS = "security defaults"


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyExclusion:
    """How a legacy-auth block leaves the account out: `via` "user" (its id is in
    excludeUsers: a PATCH of the policy fixes it), "group" (a group in excludeGroups holds
    it; `via_id` the group) or "role" (it holds a role in excludeRoles; `via_id` the role
    template)."""

    policy_id: str
    policy: str
    state: str
    via: str
    via_id: str
    via_name: str | None = None  # the group's or the role's display name, when known


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyCoverage:
    """How conditional access and security defaults treat legacy clients
    (exchangeActiveSync + other) for one account. `blocked_by` lists enabled policies that
    block them for it, and SECURITY_DEFAULTS when those are on."""

    blocked_by: tuple[str, ...]
    excluded_from: tuple[str, ...]  # blocking policies that exclude the account
    report_only: tuple[str, ...]
    disabled: tuple[str, ...]
    unknown: tuple[str, ...]  # why coverage by some policy could not be decided
    #: Security defaults: on, off, or None when they could not be read (nor inferred).
    security_defaults: bool | None = False
    exclusions: tuple[LegacyExclusion, ...] = ()  # how each of `excluded_from` leaves it out

    @property
    def blocked(self) -> bool | None:
        if self.blocked_by:
            return True
        return None if self.unknown or self.security_defaults is None else False

    @property
    def by_security_defaults(self) -> bool:
        return self.security_defaults is True


def security_defaults_state(snapshot: Snapshot) -> tuple[bool | None, str | None]:
    """Whether security defaults are on, and why that is unknown when it is."""
    policy = snapshot.security_defaults
    known = snapshot.available("graph/securityDefaults") and policy is not None
    if known and policy is not None and policy.enabled is not None:
        return policy.enabled, None
    if any((p.state or "").lower() == "enabled" for p in snapshot.ca_policies):
        return False, None  # an enabled conditional-access policy rules them out
    return None, (
        "security defaults were not read ("
        + (snapshot.problem("graph/securityDefaults") or "the policy has no isEnabled")
        + ") and no conditional-access policy is enabled"
    )


def blocks_legacy_clients(policy: ConditionalAccessPolicy) -> bool:
    """Does the policy, whatever its state, block legacy clients from Exchange Online?"""
    controls = {c.lower() for c in policy.built_in_controls}
    clients = {c.lower() for c in policy.client_app_types}
    apps = {a.lower() for a in policy.include_applications}
    return (
        "block" in controls
        and (clients >= LEGACY_CLIENTS or "all" in clients)
        and bool(apps & EXCHANGE_APPS)
    )


class _Membership:
    """Answers "is this account among these users, groups or roles" for one account:
    True, False, or None when a group's members or the role assignments were not read."""

    def __init__(self, index: TenantIndex, account: Account) -> None:
        self.index = index
        self.account = account
        self._roles: set[str] | None = None

    def roles(self) -> set[str]:
        if self._roles is None:
            self._roles = {template for _, template, _ in self.index.roles_of(self.account.id)}
        return self._roles

    def hits(
        self, users: tuple[str, ...], groups: tuple[str, ...], roles: tuple[str, ...]
    ) -> tuple[bool | None, str | None]:
        wanted = {u.lower() for u in users}
        if "all" in wanted or self.account.id.lower() in wanted:
            return True, None
        if "guestsorexternalusers" in wanted and self.account.is_guest:
            return True, None
        unknown: str | None = None
        for group in groups:
            inside = self.index.group_graph.contains(group, self.account.id)
            if inside:
                return True, None
            if inside is None:
                unknown = f"members of group {group} were not collected"
        if roles:
            if self.roles() & {r.lower() for r in roles}:
                return True, None
            if not self.index.snapshot.available("graph/roleAssignments"):
                unknown = "graph/roleAssignments was not collected"
        return (None, unknown) if unknown else (False, None)

    def excluded_via(self, users: UsersCondition) -> tuple[str, str, str | None] | None:
        """The first way the exclusions of `users` name the account: ("user", id),
        ("group", group id) or ("role", role template id), with the group's or role's
        display name when known."""
        if self.account.id.lower() in {u.lower() for u in users.exclude_users}:
            return "user", self.account.id, None
        for group in users.exclude_groups:
            if self.index.group_graph.contains(group, self.account.id):
                found = self.index.group(group)
                return "group", group, found.display_name if found is not None else None
        held = self.roles() & {r.lower() for r in users.exclude_roles}
        if held:
            template = sorted(held)[0]
            names = {t.lower(): n for _, t, n in self.index.roles_of(self.account.id)}
            return "role", template, names.get(template)
        return None


def legacy_coverage(index: TenantIndex, account: Account) -> LegacyCoverage:
    membership = _Membership(index, account)
    found: dict[str, list[str]] = {
        "blocked": [],
        "excluded": [],
        "report_only": [],
        "disabled": [],
        "unknown": [],
    }
    exclusions: list[LegacyExclusion] = []
    for policy in index.snapshot.ca_policies:
        if not blocks_legacy_clients(policy):
            continue
        name = policy.display_name or policy.id
        users = policy.users
        included, why_in = membership.hits(
            users.include_users, users.include_groups, users.include_roles
        )
        if included is False:
            continue
        excluded, why_out = membership.hits(
            users.exclude_users, users.exclude_groups, users.exclude_roles
        )
        state = (policy.state or "").lower()
        if excluded:
            found["excluded"].append(name)
            via = membership.excluded_via(users)
            if via is not None:
                exclusions.append(LegacyExclusion(
                    policy_id=policy.id, policy=name, state=policy.state or "",
                    via=via[0], via_id=via[1], via_name=via[2]))
        elif state == "disabled":
            found["disabled"].append(name)
        elif state == "enabledforreportingbutnotenforced":
            found["report_only"].append(name)
        elif included is None or excluded is None:
            found["unknown"].append(f"'{name}': {why_in or why_out}")
        else:
            found["blocked"].append(name)
    defaults, why = security_defaults_state(index.snapshot)
    if defaults:
        found["blocked"].append(SECURITY_DEFAULTS)
    elif why is not None:
        found["unknown"].append(why)
    return LegacyCoverage(
        blocked_by=tuple(found["blocked"]),
        excluded_from=tuple(found["excluded"]),
        report_only=tuple(found["report_only"]),
        disabled=tuple(found["disabled"]),
        unknown=tuple(found["unknown"]),
        security_defaults=defaults,
        exclusions=tuple(exclusions),
    )


def _missing(snapshot: Snapshot, source: str) -> str:
    return f"{source} was not collected ({snapshot.problem(source) or 'missing'})"
