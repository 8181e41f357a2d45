"""Per-mailbox verdicts of the ground truth; the rules are documented in `truth`."""

from __future__ import annotations

from collections.abc import Iterable

from mailwarden.model.inventory import SIGN_IN_ACTIVITY
from mailwarden.synth.constants import (
    OBSCURE_FOLDERS,
    PASSWORD_RESET_GRACE_SECONDS,
    REQUIRED_AUDIT_ACTIONS,
    RESOURCE_TYPES,
    ROLES,
    STRONG_METHODS,
    SYSTEM_RULE_NAMES,
    SYSTEM_RULE_PREFIX,
)
from mailwarden.synth.model import Account, ConditionalAccess, OwnerlessMailbox, Tenant
from mailwarden.synth.truth_upkeep import upkeep_failures
from mailwarden.tenant.licences import REASONS, REGISTRATION_DETAILS, ROLE_ELIGIBILITY

Failure = tuple[str, str]  # (check id, detail)
DETAIL_ITEMS = 5
LEGACY_CLIENTS = frozenset({"exchangeActiveSync", "other"})


class MailboxJudge:
    def __init__(self, tenant: Tenant, *, broad_group_min: int, max_delegates: int,
                 broad_principals: frozenset[str]) -> None:
        self.tenant = tenant
        self.accounts = {account.id: account for account in tenant.accounts}
        self.groups = {item.id: item for item in tenant.groups}
        self.broad_group_min = broad_group_min
        self.max_delegates = max_delegates
        self.broad_principals = broad_principals
        self.custodians = {row.mailbox for row in tenant.custodians}
        self.roles: dict[str, set[str]] = {}
        for principal, role in tenant.role_assignments:
            self.roles.setdefault(principal, set()).add(role)
        self.eligible: dict[str, set[str]] = {}
        for principal, role in tenant.role_eligibilities:
            self.eligible.setdefault(principal, set()).add(role)
        self.verified = {domain.lower() for domain in tenant.verified_domains}
        self.contacts = {contact.name: contact for contact in tenant.contacts}
        self._expanded: dict[str, frozenset[str]] = {}

    def users_of(self, group_id: str) -> frozenset[str]:
        """Every user in a group, through nested groups; a cycle is walked once."""
        if group_id not in self._expanded:
            seen: set[str] = set()
            users: set[str] = set()
            pending = [group_id]
            while pending:
                current = pending.pop()
                if current in seen:
                    continue
                seen.add(current)
                users.update(self.groups[current].users)
                pending.extend(self.groups[current].groups)
            self._expanded[group_id] = frozenset(users)
        return self._expanded[group_id]

    # -- conditional access ---------------------------------------------------------------

    def _blocks_legacy(self, policy: ConditionalAccess, account: Account) -> bool:
        if policy.state != "enabled" or "block" not in policy.built_in_controls:
            return False
        clients = set(policy.client_app_types)
        if not (clients >= LEGACY_CLIENTS or "all" in clients):
            return False
        if "All" not in policy.include_applications:
            return False
        roles = {ROLES[role][0] for role in self.roles.get(account.id, ())}

        def hits(users: Iterable[str], groups: Iterable[str], role_ids: Iterable[str]) -> bool:
            return (account.id in users or any(account.id in self.users_of(g) for g in groups)
                    or bool(roles & set(role_ids)))

        included = "All" in policy.include_users or hits(
            policy.include_users, policy.include_groups, policy.include_roles)
        excluded = hits(policy.exclude_users, policy.exclude_groups, policy.exclude_roles)
        return included and not excluded

    # -- delegation -----------------------------------------------------------------------

    def _delegation(self, box: OwnerlessMailbox) -> tuple[list[str], list[str], set[str]]:
        """(stale reasons, broad reasons, users reached) over the effective grants."""
        stale: list[str] = []
        broad: list[str] = []
        reached: set[str] = set()
        deleted: set[str] = set()
        for grant in box.grants:
            if grant.deny or grant.inherited:
                continue
            if grant.principal_kind == "special":
                if grant.principal.lower() in self.broad_principals:
                    broad.append(f"{grant.right} to {grant.principal}")
                continue
            if grant.principal_kind == "sid":
                deleted.add(grant.principal)
                stale.append(f"{grant.right} to deleted object {grant.principal}")
                continue
            if grant.principal_kind == "group":
                group = self.groups[grant.principal]
                members = self.users_of(grant.principal)
                if len(members) >= self.broad_group_min:
                    broad.append(f"{grant.right} to group '{group.display_name}' "
                                 f"({len(members)} users)")
                via = f" via group '{group.display_name}'"
            else:
                members = frozenset({grant.principal})
                via = ""
            reached |= members
            for member in sorted(members):
                reason = self._staleness(self.accounts[member])
                if reason:
                    stale.append(f"{grant.right} to {self.accounts[member].upn.lower()} "
                                 f"({reason}){via}")
        if len(reached) + len(deleted) > self.max_delegates:
            broad.append(f"{len(reached) + len(deleted)} delegates")
        return stale, broad, reached

    @staticmethod
    def _staleness(person: Account) -> str | None:
        if not person.enabled:
            return "disabled"
        if person.user_type == "Guest" or "#EXT#" in person.upn:
            return "guest"
        if not person.licensed:
            return "unlicensed"
        return None

    def _inferable_custodian(self, box: OwnerlessMailbox) -> bool:
        for grant in box.grants:
            if grant.right != "FullAccess" or grant.principal_kind != "user":
                continue
            if grant.deny or grant.inherited:
                continue
            person = self.accounts[grant.principal]
            if person.enabled and person.licensed and person.user_type == "Member":
                return True
        return False

    # -- the verdict ----------------------------------------------------------------------

    def failures(self, box: OwnerlessMailbox) -> tuple[str, list[Failure]]:
        account = self.accounts[box.account_id]
        upn = account.upn.lower()
        settings = box.settings
        found: list[Failure] = []
        if account.enabled:
            found.append(("sign-in-enabled", "accountEnabled is true"))
        if account.recorded_success is not None and self.tenant.entra_p1:
            found.append(("direct-sign-in-observed",
                          f"lastSuccessfulSignInDateTime {account.recorded_success.isoformat()}"))
        if (account.password_changed - account.created).total_seconds() > \
                PASSWORD_RESET_GRACE_SECONDS:
            found.append(("password-reset-by-admin",
                          f"password set {account.password_changed.date()}, "
                          f"created {account.created.date()}"))
        for check, enabled, name in (("imap-enabled", settings.imap, "ImapEnabled"),
                                     ("pop-enabled", settings.pop, "PopEnabled"),
                                     ("ews-enabled", settings.ews, "EwsEnabled"),
                                     ("activesync-enabled", settings.activesync,
                                      "ActiveSyncEnabled")):
            if enabled:
                found.append((check, f"{name} is true"))
        found += self._auth(account, box)
        found += self._audit(box)
        stale, broad, reached = self._delegation(box)
        if self.tenant.bypass_account_ids & (reached | {account.id}):
            found.append(("audit-bypass-enabled", "an account with access has AuditBypassEnabled"))
        if stale:
            found.append(("stale-delegate", _summary(stale)))
        if broad:
            found.append(("broad-delegation", _summary(broad)))
        if upn not in self.custodians and not self._inferable_custodian(box):
            found.append(("no-custodian", "no custodian mapped and none inferable"))
        found += self._mail_flow(box)
        if account.remote_powershell:
            found.append(("remote-powershell-enabled", "RemotePowerShellEnabled is true"))
        if account.id in self.roles or account.id in self.eligible:
            eligible = sorted(self.eligible.get(account.id, set()) - self.roles.get(account.id,
                                                                                  set()))
            found.append(("privileged-account", ", ".join(
                [*sorted(self.roles.get(account.id, ())), *(f"{r} (eligible)" for r in eligible)]
            )))
        if account.enabled and not STRONG_METHODS & set(account.mfa_methods) \
                and self.tenant.entra_p1:
            found.append(("no-mfa-on-enabled-account", "isMfaRegistered is false"))
        if account.recipient_type in RESOURCE_TYPES and account.enabled:
            found.append(("resource-account-enabled", f"{account.recipient_type} account enabled"))
        found += upkeep_failures(box, self.accounts)
        return upn, found

    def unknowns(self, box: OwnerlessMailbox) -> list[Failure]:
        """The checks the files cannot decide for this mailbox (they must say error)."""
        account = self.accounts[box.account_id]
        found: list[Failure] = []
        attempts = account.attempts_of_unknown_outcome()
        if attempts and self.tenant.entra_p1:  # without P1 no sign-in time is read at all
            name, moment = max(attempts, key=lambda attempt: attempt[1])
            found.append(("direct-sign-in-observed",
                          f"{name} {moment.isoformat()}, lastSuccessfulSignInDateTime null: "
                          "Graph records successes from 2023-12-01 only"))
        return found

    def errors(self, box: OwnerlessMailbox) -> list[Failure]:
        """The checks a licence the tenant lacks leaves undecided, with the reason."""
        found: list[Failure] = []
        if not self.tenant.entra_p1:
            found.append(("direct-sign-in-observed", REASONS[SIGN_IN_ACTIVITY]))
        if not self.tenant.entra_p2 and box.account_id not in self.roles:
            found.append(("privileged-account", REASONS[ROLE_ELIGIBILITY]))
        if not self.tenant.entra_p1:
            found.append(("no-mfa-on-enabled-account", REASONS[REGISTRATION_DETAILS]))
        return found

    def _auth(self, account: Account, box: OwnerlessMailbox) -> list[Failure]:
        found: list[Failure] = []
        disabled = box.settings.smtp_auth_disabled
        if disabled is None:
            disabled = self.tenant.transport_smtp_auth_disabled
        if disabled is False:
            found.append(("smtp-auth-enabled", "SmtpClientAuthenticationDisabled is false"
                          if box.settings.smtp_auth_disabled is False
                          else "organisation allows SMTP AUTH"))
        policy = account.auth_policy or self.tenant.default_auth_policy
        allowed = self.tenant.auth_policies.get(policy or "", frozenset())
        if allowed:
            found.append(("basic-auth-allowed",
                          f"policy '{policy}' allows {', '.join(sorted(allowed))}"))
        blocked = self.tenant.security_defaults or any(
            self._blocks_legacy(p, account) for p in self.tenant.policies)
        if not blocked:
            found.append(("legacy-auth-not-blocked", "no enabled policy blocks legacy clients"))
        return found

    def _audit(self, box: OwnerlessMailbox) -> list[Failure]:
        settings = box.settings
        found: list[Failure] = []
        if not settings.audit_enabled:
            found.append(("mailbox-audit-disabled", "AuditEnabled is false"))
        lists = {"AuditOwner": settings.audit_owner, "AuditDelegate": settings.audit_delegate,
                 "AuditAdmin": settings.audit_admin}
        missing = [f"{name} lacks {', '.join(sorted(required - set(lists[name])))}"
                   for name, required in REQUIRED_AUDIT_ACTIONS.items()
                   if not required <= set(lists[name])]
        if missing:
            found.append(("audit-actions-missing", "; ".join(missing)))
        return found

    def _mail_flow(self, box: OwnerlessMailbox) -> list[Failure]:
        found: list[Failure] = []
        forwarding = box.settings.forwarding_smtp
        outside: list[str] = []
        if forwarding and self._external(forwarding.split(":", 1)[-1]):
            outside.append(f"ForwardingSmtpAddress {forwarding}")
        # ForwardingAddress names a mailbox (inside) or a mail contact (where its mail goes).
        contact = self.contacts.get(box.settings.forwarding_address or "")
        if contact is not None and self._external(contact.external_address):
            outside.append(f"ForwardingAddress '{contact.name}' ({contact.external_address})")
        hiding: list[str] = []
        for rule in box.rules:
            if not rule.enabled:
                continue
            # A target's address is where its mail goes, however the rule names it.
            for target in rule.forward_to + rule.forward_as_attachment_to + rule.redirect_to:
                if self._external(target.address):
                    outside.append(f"rule '{rule.name}' sends to {target.address}")
            folder = (rule.move_to_folder or "").split(":\\")[-1].lower()
            name = rule.name.lower()
            if name in SYSTEM_RULE_NAMES or name.startswith(SYSTEM_RULE_PREFIX):
                continue
            if rule.delete or rule.soft_delete or rule.mark_as_read or folder in OBSCURE_FOLDERS:
                hiding.append(f"rule '{rule.name}'")
        if outside:
            found.append(("external-forwarding", "; ".join(outside)))
        if hiding:
            found.append(("hiding-inbox-rule", "; ".join(hiding)))
        return found

    def _external(self, address: str) -> bool:
        return address.rsplit("@", 1)[-1].lower() not in self.verified


def _summary(reasons: list[str]) -> str:
    """Reasons joined, the same one once; long lists end with how many more there are."""
    unique = list(dict.fromkeys(reasons))
    shown = "; ".join(unique[:DETAIL_ITEMS])
    hidden = len(unique) - DETAIL_ITEMS
    return shown + (f"; and {hidden} more" if hidden > 0 else "")
