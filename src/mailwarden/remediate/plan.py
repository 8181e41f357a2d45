"""Findings -> a remediation plan. Pure: no network, no clock (the caller passes `now`).

Guard rails live here, so that `plan`, `export` and `apply` show and do the same thing:
- a snapshot older than `max_age` (or of unknown age) is refused unless `force`;
- excluded mailboxes are never touched;
- a mailbox whose account holds a directory role is touched only when named with
  `mailboxes` (disabling an admin is a decision, not a side effect);
- EWS and ActiveSync are turned off only when asked: they serve legitimate clients;
- conditional access is changed once for the tenant (per policy), never per mailbox, and
  the break-glass accounts (`break_glass`) are excluded from every such change.
- tenant-wide changes (Direct Send, applications) are planned only when no mailbox is
  named; an application is restricted only to the group the person names, and its Entra
  grants are removed only when the person says so (`app_scope_group`, `remove_app_grants`).

Each action kind builds its actions from the findings (`kinds/`); a failing finding whose
evidence lacks what its action needs is a `FindingEvidenceError`, never a silent gap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailwarden.assess.risk import ranked
from mailwarden.errors import ConfigError
from mailwarden.model.findings import Finding, InventoryEntry, ScanResult, Scope, Status
from mailwarden.model.inventory import InboxRule, Mailbox, Snapshot
from mailwarden.remediate.ca_actions import grouped_actions
from mailwarden.remediate.errors import StaleSnapshotError
from mailwarden.remediate.export import initial_domain
from mailwarden.remediate.kinds import AUTOMATED, AppScope, Target, build_actions, remove_delegate
from mailwarden.remediate.model import Action, Plan, Reason, Skipped

DEFAULT_MAX_AGE = timedelta(hours=24)
LEGACY_CHECK = "legacy-auth-not-blocked"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOptions:
    checks: tuple[str, ...] = ()  # only these check ids (empty: every automated check)
    mailboxes: tuple[str, ...] = ()  # only these mailboxes; also admits privileged ones
    exclude: tuple[str, ...] = ()  # never these mailboxes
    include_ews: bool = False
    include_activesync: bool = False
    include_external_delegates: bool = False  # also remove guests' and external delegates
    max_age: timedelta = DEFAULT_MAX_AGE
    force: bool = False  # act on a snapshot older than max_age
    #: Break-glass accounts (UPNs or object ids): excluded from every conditional-access
    #: change, never taken out of an exclusion list.
    break_glass: tuple[str, ...] = ()
    #: A mail-enabled security group (id, address or name): restrict each unscoped app with
    #: Entra ID mail grants to its members with an application access policy.
    app_scope_group: str | None = None
    #: Remove unscoped apps' Entra ID mail grants (the person said so explicitly).
    remove_app_grants: bool = False


def check_age(snapshot: Snapshot, *, now: datetime, max_age: timedelta, force: bool) -> None:
    collected = snapshot.collected_at
    if force:
        return
    if collected is None:
        raise StaleSnapshotError(
            "the snapshot does not say when it was collected, so its findings may be out of "
            "date; collect the tenant again, or pass --force to act on it anyway"
        )
    age = now - collected
    if age > max_age:
        hours = age.total_seconds() / 3600
        raise StaleSnapshotError(
            f"the snapshot was collected {hours:.1f} hours ago ({collected.isoformat()}), more "
            f"than the {max_age.total_seconds() / 3600:g} hours allowed; collect the tenant "
            "again, raise --max-age, or pass --force to act on it anyway"
        )


def build_plan(
    result: ScanResult, snapshot: Snapshot, options: PlanOptions, *, now: datetime
) -> Plan:
    """The actions that fix the failing findings `options` selects, riskiest first: mailboxes
    in the one risk order every output ranks them in (`assess.risk.ranked`), and within a
    mailbox the actions answering its worst findings first, then in the order of `KINDS`."""
    check_age(snapshot, now=now, max_age=options.max_age, force=options.force)
    _require_known(options, result)
    failing: dict[str, dict[str, Finding]] = defaultdict(dict)
    manual: list[tuple[str, Reason]] = []
    actions: list[Action] = []
    tenant_actions: list[Action] = []  # after the mailboxes'
    scope = _app_scope(options.app_scope_group, snapshot)
    for finding in result.findings:
        if finding.status is not Status.FAIL:
            continue
        if options.checks and finding.check_id not in options.checks:
            continue
        if finding.resource.type is Scope.TENANT or not finding.resource.upn:
            if options.mailboxes:
                continue  # only the named mailboxes: no tenant-wide change
            built = build_actions(_tenant_target(finding, result, scope, options))
            tenant_actions += built
            if not built:
                label = finding.resource.label if finding.resource.app_id else ""
                manual.append((label, Reason(check_id=finding.check_id,
                                             message=finding.message)))
            continue
        failing[finding.resource.upn][finding.check_id] = finding
    skipped: list[Skipped] = []
    entries = {e.upn: e for e in result.inventory}
    lookups = _Lookups(result, snapshot)
    break_glass = resolve_break_glass(snapshot, options.break_glass)
    answered: dict[str, set[str]] = defaultdict(set)
    admitted: list[str] = []
    for upn in sorted(failing):
        refusal = _refusal(upn, entries.get(upn), options)
        if refusal is not None:
            if refusal:
                skipped.append(Skipped(upn=upn, reason=refusal))
            continue
        admitted.append(upn)
        target = lookups.target(upn, entries.get(upn), failing[upn], options)
        built = build_actions(target)
        skipped += [Skipped(upn=upn, reason=line) for line in remove_delegate.held_back(target)]
        worst = {a.id: max(failing[upn][c].severity.rank for c in a.check_ids) for a in built}
        # sorted() is stable: actions of one severity keep the order of KINDS.
        actions += sorted(built, key=lambda a: -worst[a.id])
        answered[upn] |= {check for action in built for check in action.check_ids}
    rank = {a.upn: n for n, a in enumerate(ranked(result.assessments))}
    actions.sort(key=lambda a: (rank.get(a.upn, len(rank)), a.upn))
    # The conditional-access changes are tenant-wide (one per policy, not per mailbox) and
    # close the sprayable path of every account they cover: they come first.
    legacy = [failing[u][LEGACY_CHECK] for u in admitted if LEGACY_CHECK in failing[u]]
    grouped, covered = grouped_actions(legacy, snapshot, break_glass)
    actions[:0] = grouped
    for upn in covered:
        answered[upn].add(LEGACY_CHECK)
    manual += [
        (upn, Reason(check_id=check, message=finding.message))
        for upn in admitted
        for check, finding in failing[upn].items()
        if check not in answered[upn]
    ]
    tenant = result.tenant
    return Plan(
        tenant_id=tenant.tenant_id,
        tenant_name=tenant.display_name,
        default_domain=tenant.default_domain,
        collected_at=snapshot.collected_at,
        actions=tuple(actions + tenant_actions),
        skipped=tuple(skipped),
        manual=tuple(reason for _, reason in manual),
        manual_upns=tuple(upn for upn, _ in manual),
        initial_domain=initial_domain(tenant.verified_domains),
    )


def resolve_break_glass(snapshot: Snapshot, names: tuple[str, ...]) -> tuple[str, ...]:
    """The object ids of the break-glass accounts named by UPN or id. An account the
    snapshot does not hold is refused: a conditional-access change must not go ahead on
    the belief that an emergency account is spared when it is not."""
    by_name = {}
    for account in snapshot.accounts:
        by_name[account.id.lower()] = account.id
        by_name[account.user_principal_name.lower()] = account.id
    unknown = [n for n in names if n.lower() not in by_name]
    if unknown:
        raise ConfigError(
            f"break-glass account {', '.join(unknown)} is not a user of this tenant; fix the "
            "setting break_glass (MAILWARDEN_BREAK_GLASS, --break-glass): give each "
            "emergency-access account's UPN or object id"
        )
    return tuple(dict.fromkeys(by_name[n.lower()] for n in names))


def _tenant_target(finding: Finding, result: ScanResult, scope: AppScope | None,
                   options: PlanOptions) -> Target:
    """A tenant finding (one per application for app-mail-access-unscoped) as a target."""
    return Target(upn="", account_id=None, failing={finding.check_id: finding}, access=None,
                  mailbox=None, rules=(), domains=frozenset(), tenant_id=result.tenant.tenant_id,
                  app_scope=scope, remove_app_grants=options.remove_app_grants)


def _app_scope(wanted: str | None, snapshot: Snapshot) -> AppScope | None:
    """The group --app-scope-group names: a mail-enabled security group of the tenant."""
    if wanted is None:
        return None
    key = wanted.strip().lower()
    found = [g for g in snapshot.groups
             if key in {g.id.lower(), (g.mail or "").lower(), (g.display_name or "").lower()}]
    if len(found) != 1:
        raise ConfigError(
            f"--app-scope-group {wanted}: {'no' if not found else 'more than one'} group of the "
            "tenant has that id, address or name; give a mail-enabled security group's id")
    group = found[0]
    if not (group.mail_enabled and group.security_enabled):
        raise ConfigError(
            f"--app-scope-group {wanted}: {group.display_name or group.id} is not a "
            "mail-enabled security group, which an application access policy needs")
    return AppScope(group_id=group.id, name=group.display_name or group.mail or group.id,
                    sid=group.security_identifier or group.on_premises_sid)


def _require_known(options: PlanOptions, result: ScanResult) -> None:
    known = {e.upn for e in result.inventory}
    unknown = [m for m in options.mailboxes if m.lower() not in known]
    if unknown:
        raise ConfigError(
            f"--mailbox {', '.join(unknown)}: not an ownerless mailbox of this tenant; "
            "`mailwarden inventory` lists them"
        )


def _refusal(upn: str, entry: InventoryEntry | None, options: PlanOptions) -> str | None:
    """Why the mailbox is left out: a reason to show, "" to leave it out silently (not
    selected), or None to plan it."""
    named = {m.lower() for m in options.mailboxes}
    if upn in {m.lower() for m in options.exclude}:
        return "excluded (--exclude)"
    if named and upn not in named:
        return ""
    if entry is not None and entry.roles and upn not in named:
        return (
            f"its account holds {', '.join(entry.roles)}; name it with --mailbox {upn} to "
            "include it"
        )
    return None


class _Lookups:
    """The snapshot's records indexed by mailbox, built once per plan."""

    def __init__(self, result: ScanResult, snapshot: Snapshot) -> None:
        self.access = {a.upn: a for a in result.access}
        self.domains = frozenset(d.lower() for d in result.tenant.verified_domains)
        self.mailboxes: dict[str, Mailbox] = {}
        for mailbox in snapshot.mailboxes:
            identities = mailbox.keys()  # every name Exchange answers to, not a dict's keys
            for key in identities:
                self.mailboxes.setdefault(key, mailbox)
        self.rules: dict[int, list[InboxRule]] = defaultdict(list)
        for rule in snapshot.inbox_rules:
            owner = self.mailboxes.get(rule.mailbox.lower())
            if owner is not None:
                self.rules[id(owner)].append(rule)

    def target(
        self,
        upn: str,
        entry: InventoryEntry | None,
        failing: dict[str, Finding],
        options: PlanOptions,
    ) -> Target:
        mailbox = self.mailboxes.get(upn)
        account_id = entry.account_id if entry is not None else None
        if account_id is None:
            account_id = next((f.resource.account_id for f in failing.values()), None)
        return Target(
            upn=upn,
            account_id=account_id,
            failing=failing,
            access=self.access.get(upn),
            mailbox=mailbox,
            rules=tuple(self.rules.get(id(mailbox), ())) if mailbox is not None else (),
            domains=self.domains,
            include_ews=options.include_ews,
            include_activesync=options.include_activesync,
            include_external_delegates=options.include_external_delegates,
        )


__all__ = ["AUTOMATED", "DEFAULT_MAX_AGE", "PlanOptions", "build_plan", "check_age"]
