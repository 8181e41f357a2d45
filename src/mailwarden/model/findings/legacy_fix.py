"""The safe fix for `legacy-auth-not-blocked`, grouped for the whole tenant, and its
PowerShell: the report's "Copy PowerShell" and the remediation export print the same lines.

Never one policy per mailbox. From the failing findings:
- an account an *enabled* legacy-auth block excludes by its id (conditions.users.
  excludeUsers) is taken out of that list: one change per policy, for all its accounts;
- an account excluded through a group (excludeGroups) or a role (excludeRoles) is left to
  a person: the group or role may exclude others on purpose (break-glass accounts, devices
  that still need basic auth) and may grant other things; the account is to leave the
  group (or the role), or the group to leave the exclusions, once someone has checked;
- an account no legacy-auth block covers at all (none exists, whatever its state) is
  covered by one new policy for all users, created report-only
  (enabledForReportingButNotEnforced) with the break-glass accounts excluded; switching
  it on after reading its report-only results is a decision for a person;
- an account whose only block is report-only or disabled is left to a person: turn that
  policy on, rather than adding a second one.

Break-glass accounts are never removed from an exclusion list and are excluded from the
policy created. Graph shapes: conditionalAccessPolicy and conditionalAccessUsers in the
v1.0 CSDL (../shared/reference/graph-v1.0-metadata.xml); cmdlets: Get-/Update-/
New-MgIdentityConditionalAccessPolicy (Microsoft.Graph.Identity.SignIns, parameters
-ConditionalAccessPolicyId, -Conditions, -BodyParameter, as on learn.microsoft.com).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from mailwarden.model.findings.evidence import (
    EvidenceError,
    _items,
    _record,
    _text,
    _texts,
    _Unusable,
)
from mailwarden.model.findings.results import Finding, Status

CHECK_ID = "legacy-auth-not-blocked"
NEW_POLICY_NAME = "Block legacy authentication (mailwarden)"
#: Report-only: a new block is read before it is enforced.
NEW_POLICY_STATE = "enabledForReportingButNotEnforced"
LEGACY_CLIENT_APPS = ("exchangeActiveSync", "other")


@dataclass(frozen=True, slots=True, kw_only=True)
class Exclusion:
    policy_id: str
    policy: str
    state: str
    via: str  # "user", "group" or "role"
    via_id: str
    via_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyAuthGap:
    """legacy-auth-not-blocked: the blocks that leave the account out, and how."""

    CHECK_ID: ClassVar[str] = CHECK_ID
    exclusions: tuple[Exclusion, ...]
    excluded_from: tuple[str, ...]
    report_only: tuple[str, ...]
    disabled: tuple[str, ...]

    @classmethod
    def parse(cls, evidence: Mapping[str, Any]) -> Self:
        expected = "a list of the policies that exclude the account and how"
        exclusions = []
        for item in _items(evidence, "exclusions", expected):
            record = _record(item, "exclusions", expected)
            exclusions.append(Exclusion(
                policy_id=_text(record, "policy_id"), policy=_text(record, "policy"),
                state=_text(record, "state"), via=_text(record, "via"),
                via_id=_text(record, "via_id"),
                via_name=record.get("via_name") if isinstance(record.get("via_name"), str)
                else None))
        return cls(exclusions=tuple(exclusions),
                   excluded_from=_texts(evidence, "excluded_from"),
                   report_only=_texts(evidence, "report_only"),
                   disabled=_texts(evidence, "disabled"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    upn: str
    account_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Removal:
    """Take `accounts` out of the excludeUsers of one enabled policy."""

    policy_id: str
    policy: str
    accounts: tuple[Account, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """Accounts left to a person, with what to do."""

    accounts: tuple[Account, ...]
    advice: str
    group_id: str | None = None  # the excluded group the accounts are to leave


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyFix:
    removals: tuple[Removal, ...] = ()
    create_for: tuple[Account, ...] = ()  # accounts the one new policy would cover
    referrals: tuple[Referral, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.removals or self.create_for or self.referrals)


def _parse(finding: Finding) -> LegacyAuthGap:
    try:
        return LegacyAuthGap.parse(finding.evidence)
    except _Unusable as exc:
        raise EvidenceError(finding, exc.key, exc.expected) from None


def legacy_fix(findings: Iterable[Finding], break_glass: Iterable[str] = ()) -> LegacyFix:
    """The grouped fix for the failing `legacy-auth-not-blocked` findings. Accounts named
    in `break_glass` (ids or UPNs) are never touched."""
    spared = {b.lower() for b in break_glass}
    removals: dict[tuple[str, str], list[Account]] = {}
    create: list[Account] = []
    referred: dict[tuple[str, str | None], list[Account]] = {}
    for finding in findings:
        if finding.check_id != CHECK_ID or finding.status is not Status.FAIL:
            continue
        upn, account_id = finding.resource.upn or "", finding.resource.account_id or ""
        if not account_id or upn in spared or account_id.lower() in spared:
            continue
        gap = _parse(finding)
        account = Account(upn=upn, account_id=account_id)
        enabled = [e for e in gap.exclusions if e.state.lower() == "enabled"]
        direct = [e for e in enabled if e.via == "user"]
        for exclusion in direct:
            removals.setdefault((exclusion.policy_id, exclusion.policy), []).append(account)
        for exclusion in enabled:
            if exclusion.via != "user":
                key = (_group_advice(exclusion),
                       exclusion.via_id if exclusion.via == "group" else None)
                referred.setdefault(key, []).append(account)
        if enabled:
            continue
        if not (gap.excluded_from or gap.report_only or gap.disabled):
            create.append(account)
            continue
        names = ", ".join(f"'{n}'" for n in (*gap.report_only, *gap.disabled, *gap.excluded_from))
        referred.setdefault((
            f"Only report-only or disabled policies block legacy clients ({names}): review "
            "their report-only results in the sign-in logs and turn one on (State 'enabled'), "
            "rather than adding another.", None), []).append(account)
    return LegacyFix(
        removals=tuple(Removal(policy_id=pid, policy=name, accounts=tuple(accounts))
                       for (pid, name), accounts in sorted(removals.items())),
        create_for=tuple(create),
        referrals=tuple(Referral(accounts=tuple(a), advice=text, group_id=group)
                        for (text, group), a in sorted(referred.items(), key=lambda i: i[0][0])),
    )


def _group_advice(exclusion: Exclusion) -> str:
    where = f"'{exclusion.policy}' ({exclusion.policy_id})"
    name = exclusion.via_name or exclusion.via_id
    if exclusion.via == "group":
        return (
            f"{where} excludes them through group '{name}' ({exclusion.via_id}). Editing that "
            "group blindly can lock others out or hand them basic auth: check what else it is "
            "used for (other policies, licences, access), then take these accounts out of it "
            "(the commented commands below), or take the group out of the policy's exclusions "
            "when it holds nobody who needs them."
        )
    return (
        f"{where} excludes them because they hold the directory role '{name}': an ownerless "
        "mailbox's account should hold no role; remove the role assignment (see "
        "privileged-account)."
    )


def new_policy_body(break_glass_ids: Sequence[str]) -> dict[str, Any]:
    """The one tenant-wide policy: report-only, all users but the break-glass accounts."""
    return {
        "displayName": NEW_POLICY_NAME,
        "state": NEW_POLICY_STATE,
        "conditions": {
            "clientAppTypes": list(LEGACY_CLIENT_APPS),
            "applications": {"includeApplications": ["All"]},
            "users": {"includeUsers": ["All"], "excludeUsers": list(break_glass_ids)},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    }


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _array(values: Iterable[str]) -> str:
    return "@(" + ", ".join(_quote(v) for v in values) + ")"


def removal_powershell(removal: Removal) -> list[str]:
    """Read the policy, keep its users condition, drop the accounts from excludeUsers
    (break-glass accounts never reach `removal`)."""
    pid = _quote(removal.policy_id)
    ids = [a.account_id for a in removal.accounts]
    lines = [
        f"# '{removal.policy}': take {', '.join(a.upn for a in removal.accounts)} out of "
        "its exclusions",
        f"$policy = Get-MgIdentityConditionalAccessPolicy -ConditionalAccessPolicyId {pid}",
        "$users = $policy.Conditions.Users",
        f"$remove = {_array(ids)}",
    ]
    lines += [
        "$keep = @($users.ExcludeUsers | Where-Object { $_ -notin $remove })",
        f"Update-MgIdentityConditionalAccessPolicy -ConditionalAccessPolicyId {pid} "
        "-Conditions @{users = @{includeUsers = @($users.IncludeUsers); excludeUsers = $keep; "
        "includeGroups = @($users.IncludeGroups); excludeGroups = @($users.ExcludeGroups); "
        "includeRoles = @($users.IncludeRoles); excludeRoles = @($users.ExcludeRoles)}}",
    ]
    return lines


def create_powershell(break_glass: Sequence[str] | None) -> list[str]:
    """One policy for all users, report-only. `break_glass` None: not known here, so the
    lines refuse to run until someone names the accounts."""
    lines = ["# One policy for all users, report-only: read its results in the sign-in logs "
             "before turning it on"]
    if break_glass is None:
        lines += [
            "# Name the break-glass (emergency access) accounts first: they stay excluded.",
            "$breakGlass = @()",
            "if (-not $breakGlass) { throw 'Name the break-glass accounts in $breakGlass first' }",
        ]
    elif not break_glass:
        lines += ["# WARNING: no break-glass account is configured, so none is excluded "
                  "(setting break_glass).", "$breakGlass = @()"]
    else:
        lines.append(f"$breakGlass = {_array(break_glass)}")
    lines.append(
        "New-MgIdentityConditionalAccessPolicy -BodyParameter @{"
        f"displayName = {_quote(NEW_POLICY_NAME)}; state = {_quote(NEW_POLICY_STATE)}; "
        f"conditions = @{{clientAppTypes = {_array(LEGACY_CLIENT_APPS)}; "
        "applications = @{includeApplications = @('All')}; "
        "users = @{includeUsers = @('All'); excludeUsers = @($breakGlass)}}; "
        "grantControls = @{operator = 'OR'; builtInControls = @('block')}}"
    )
    return lines


def fix_powershell(fix: LegacyFix, break_glass: Sequence[str] | None) -> list[str]:
    """Every line of the grouped fix, referrals as comments."""
    lines: list[str] = []
    for removal in fix.removals:
        lines += removal_powershell(removal)
    if fix.create_for:
        lines += create_powershell(break_glass)
    for referral in fix.referrals:
        lines.append(f"# Not changed here ({', '.join(a.upn for a in referral.accounts)}): "
                     f"{referral.advice}")
        if referral.group_id is not None:
            lines += [f"# Remove-MgGroupMemberByRef -GroupId {_quote(referral.group_id)} "
                      f"-DirectoryObjectId {_quote(a.account_id)}  # {a.upn}"
                      for a in referral.accounts]
    return lines
