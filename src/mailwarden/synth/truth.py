"""The ground truth: which SPEC section 5 checks each ownerless mailbox fails.

It is computed from the same values the files are spelled from, with these rules
(an assessment engine run over the written files must reach the same verdicts):

Scope: every mailbox whose RecipientTypeDetails is SharedMailbox, RoomMailbox,
EquipmentMailbox or SchedulingMailbox, or UserMailbox whose Graph user has no
assignedLicenses. Joins: Exchange rows -> Graph user by ExternalDirectoryObjectId;
per-mailbox rows -> mailbox by Identity / MailboxOwnerId = the mailbox's Identity.
DiscoveryMailbox is out of scope.

A *grant* is a Get-MailboxPermission row with FullAccess, a Get-RecipientPermission
row with SendAs, or a GrantSendOnBehalfTo entry, that is allowed (Deny false,
AccessControlType Allow), explicit (IsInherited false) and not NT AUTHORITY\\SELF.
Its trustee resolves to a user (by UPN in the permission rows; by Exchange Name, i.e.
the Identity of Get-User, in GrantSendOnBehalfTo), a group (by display name; expanded
through graph/groupMembers transitively, a cycle walked once), a bare S-1-5-21 SID that
matches no object (deleted), or a broad principal (Everyone, Default, Anonymous,
NT AUTHORITY\\Authenticated Users). Exchange names mailboxes created since September
2022 by their ExternalDirectoryObjectId and older ones by their alias; both occur.

- sign-in-enabled: accountEnabled is true.
- direct-sign-in-observed: signInActivity.lastSuccessfulSignInDateTime is not null
  (failed attempts alone, in lastSignInDateTime, do not count). Graph records that
  property from 2023-12-01 on and did not backfill it: when it is null and
  lastSignInDateTime or lastNonInteractiveSignInDateTime is older than that day, whether
  that attempt succeeded cannot be told, and the check must say error ("unknown").
- password-reset-by-admin: lastPasswordChangeDateTime is more than one day after
  createdDateTime.
- imap-enabled / pop-enabled / ews-enabled / activesync-enabled: ImapEnabled / PopEnabled /
  EwsEnabled / ActiveSyncEnabled is true in Get-CASMailbox.
- smtp-auth-enabled: SmtpClientAuthenticationDisabled is false on the mailbox, or null on
  the mailbox and false in Get-TransportConfig.
- basic-auth-allowed: the effective policy (Get-User AuthenticationPolicy, else
  Get-OrganizationConfig DefaultAuthenticationPolicy) has any AllowBasicAuth* true.
- legacy-auth-not-blocked: no conditional-access policy with state "enabled", grant
  control "block", clientAppTypes containing exchangeActiveSync and other (or "all"),
  includeApplications "All", includes the account (All, the user, a group it is in
  transitively, a role it holds) without excluding it (user, group, role).
- mailbox-audit-disabled: AuditEnabled is false.
- audit-actions-missing: AuditOwner lacks any of MailItemsAccessed, Send, UpdateInboxRules,
  HardDelete; or AuditDelegate lacks any of MailItemsAccessed, SendAs, SendOnBehalf,
  UpdateInboxRules, HardDelete; or AuditAdmin lacks any of MailItemsAccessed, Send,
  SendAs, SendOnBehalf, UpdateInboxRules, HardDelete.
- audit-bypass-enabled: the mailbox's own account, or a user holding a grant on it
  (directly or through groups), has AuditBypassEnabled true in
  Get-MailboxAuditBypassAssociation (joined by Guid / Identity). While any account in the
  tenant has it, one tenant-scope entry (upn null) is planted as well.
- stale-delegate: a grant's trustee, after expansion, includes a user that is disabled,
  a guest (userType Guest or #EXT# in the UPN), or has no licence, or a deleted SID.
- broad-delegation: a grant goes to a broad principal, or to a group with at least 100
  users transitively, or the grants reach more than 25 distinct users and SIDs.
- no-custodian: custodians.csv has no row for the mailbox and no explicit, allowed
  FullAccess row names an enabled, licensed member user directly (not via a group).
- external-forwarding: ForwardingSmtpAddress (after "smtp:") is outside the verified
  domains; or ForwardingAddress is the Identity of a Get-MailContact row whose
  ExternalEmailAddress (after "SMTP:") is outside them (otherwise it is a mailbox's
  Identity, inside); or an enabled inbox rule forwards, forwards as attachment or
  redirects to a target outside them: `[SMTP:address]`, or `[EX:legacyExchangeDN]` of a
  Get-MailContact or Get-MailUser row, by its ExternalEmailAddress (the LegacyExchangeDN
  of a Get-Mailbox row is inside).
- hiding-inbox-rule: an enabled rule deletes (DeleteMessage, SoftDeleteMessage), marks as
  read, or moves to RSS Feeds, RSS Subscriptions, Conversation History, Archive,
  Junk Email, Deleted Items, Sync Issues or Notes (MoveToFolder after ":\\"); Exchange's
  own rules (Junk E-mail Rule, Microsoft.Exchange.OOF.*) do not count.

Inbox rules include the hidden ones (rows marked "@mailwarden.hidden", which
Get-InboxRule returns only with -IncludeHidden): they forward and hide like any other.
- remote-powershell-enabled: RemotePowerShellEnabled is true in Get-User.
- privileged-account: the account is the principalId of a directory role assignment, or
  of a provisioned role eligibility schedule (PIM).
- no-mfa-on-enabled-account: accountEnabled is true and isMfaRegistered is false.
- resource-account-enabled: a RoomMailbox or EquipmentMailbox whose account is enabled.
- audit-disabled-org (tenant): OrganizationConfig.AuditDisabled is true.
- weak-smart-lockout (tenant): LockoutThreshold above 10 or LockoutDurationInSeconds
  under 60 in the "Password Rule Settings" directory setting.
- direct-send-allowed (tenant): OrganizationConfig.RejectDirectSend is false.
- app-mail-access-unscoped (tenant, one entry per application, with its app_id): an
  application holds a Mail.* or full_access_as_app app role with no RestrictAccess policy,
  or an RBAC for Applications mail role with no scope (synth.apps plants which).

"clean" lists the hardened mailboxes, which fail none of the above. "unknown" lists the
checks the files cannot decide for a mailbox: a scan must report exactly those as error.
Licence profiles (synth.licensing) change what can be known; "errors" lists the verdicts
that must be `error`, each with the limitation's reason:

- Without Entra ID P1 (signInActivity and userRegistrationDetails are refused):
  direct-sign-in-observed and no-mfa-on-enabled-account are errors for every ownerless
  mailbox, never failures. Security defaults are on and no conditional-access policy
  exists: legacy-auth-not-blocked passes everywhere.
- Without Entra ID P2 (roleEligibilitySchedules is refused): privileged-account is an
  error for every ownerless mailbox whose account holds no active role (one that does
  still fails).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailwarden.synth.constants import (
    BROAD_GROUP_MIN_MEMBERS,
    BROAD_PRINCIPALS,
    CHECK_IDS,
    LOCKOUT_DURATION_MIN_SECONDS,
    LOCKOUT_THRESHOLD_MAX,
    MAX_DELEGATES,
)
from mailwarden.synth.model import Tenant
from mailwarden.synth.truth_mailbox import MailboxJudge


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantedFinding:
    check_id: str
    upn: str | None  # lower case; None for a tenant-scope check
    detail: str
    app_id: str | None = None  # the application a per-application finding is about


@dataclass(frozen=True, slots=True, kw_only=True)
class GroundTruth:
    findings: tuple[PlantedFinding, ...]
    clean: tuple[str, ...]
    #: Checks that cannot conclude on the planted data: a scan reports them as error.
    unknown: tuple[PlantedFinding, ...] = ()
    #: Verdicts a licence the tenant lacks makes `error` (detail: the limitation's reason).
    errors: tuple[PlantedFinding, ...] = ()
    #: Every application holding a mail permission: its app_id, display_name, status
    #: ("fail" unscoped, "pass" scoped) and the ownerless mailboxes it reaches.
    applications: tuple[dict[str, object], ...] = ()


def _tenant_findings(tenant: Tenant) -> list[PlantedFinding]:
    found = []
    if tenant.audit_disabled_org:
        found.append(PlantedFinding(check_id="audit-disabled-org", upn=None,
                                    detail="OrganizationConfig.AuditDisabled is true"))
    if (tenant.lockout_threshold > LOCKOUT_THRESHOLD_MAX
            or tenant.lockout_duration_seconds < LOCKOUT_DURATION_MIN_SECONDS):
        found.append(PlantedFinding(
            check_id="weak-smart-lockout", upn=None,
            detail=f"LockoutThreshold {tenant.lockout_threshold}, "
                   f"LockoutDurationInSeconds {tenant.lockout_duration_seconds}"))
    if tenant.bypass_account_ids:
        people = {account.id: account.upn.lower() for account in tenant.accounts}
        holders = ", ".join(sorted(people[i] for i in tenant.bypass_account_ids))
        found.append(PlantedFinding(check_id="audit-bypass-enabled", upn=None,
                                    detail=f"AuditBypassEnabled on {holders}"))
    if not tenant.reject_direct_send:
        found.append(PlantedFinding(check_id="direct-send-allowed", upn=None,
                                    detail="OrganizationConfig.RejectDirectSend is false"))
    found += [PlantedFinding(check_id="app-mail-access-unscoped", upn=None, app_id=app.app_id,
                             detail=f"{app.display_name}: mail permission with no limit")
              for app in tenant.apps if app.mail and app.unscoped]
    return found


def _applications(tenant: Tenant) -> tuple[dict[str, object], ...]:
    upns = {a.id: a.upn.lower() for a in tenant.accounts}
    everyone = sorted(upns[box.account_id] for box in tenant.ownerless)
    return tuple({
        "app_id": app.app_id, "display_name": app.display_name,
        "status": "fail" if app.unscoped else "pass",
        "mailboxes": everyone if app.reaches is None else sorted(upns[i] for i in app.reaches),
    } for app in tenant.apps if app.mail)


def ground_truth(tenant: Tenant) -> GroundTruth:
    judge = MailboxJudge(tenant, broad_group_min=BROAD_GROUP_MIN_MEMBERS,
                         max_delegates=MAX_DELEGATES, broad_principals=BROAD_PRINCIPALS)
    order = {check: index for index, check in enumerate(CHECK_IDS)}
    findings = _tenant_findings(tenant)
    clean = []
    unknown: list[PlantedFinding] = []
    errors: list[PlantedFinding] = []
    for box in tenant.ownerless:
        upn, failures = judge.failures(box)
        undecided = judge.unknowns(box)
        if box.hardened and not failures and not undecided:
            clean.append(upn)
        findings += [PlantedFinding(check_id=check, upn=upn, detail=detail)
                     for check, detail in failures]
        unknown += [PlantedFinding(check_id=check, upn=upn, detail=detail)
                    for check, detail in undecided]
        errors += [PlantedFinding(check_id=check, upn=upn, detail=detail)
                   for check, detail in judge.errors(box)]
    findings.sort(key=lambda f: (f.upn or "", order[f.check_id]))
    unknown.sort(key=lambda f: (f.upn or "", order[f.check_id]))
    errors.sort(key=lambda f: (f.upn or "", order[f.check_id]))
    return GroundTruth(findings=tuple(findings), clean=tuple(sorted(clean)),
                       unknown=tuple(unknown), errors=tuple(errors),
                       applications=_applications(tenant))
