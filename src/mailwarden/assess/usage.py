"""When each grant on an ownerless mailbox was last used, and whether the audit log could
have shown a use at all (`dormant-delegate`, the access map's "last used" column).

A grant is judged over the window of `dormant_days` before the tenant was read:

- *used*: its holder (for a group grant: any member who holds the right through that
  group) used the right on the mailbox inside the window. Use is attributed to the
  person who acted; a group grant is dormant only when no member used it.
- *dormant*: not used inside the window, and the audit log would have shown a use:
  the log read covers the whole window (it starts at or before the window's start, per
  the `collect-logs` checkpoint's start or else its earliest record, allowing a day for
  the first record to follow the start of the read; and its last record is at most three
  days before the tenant was read, a quiet weekend), every file and row of it was read,
  auditing is on for the organisation (AuditDisabled false) and the mailbox (AuditEnabled
  true), the mailbox's AuditDelegate includes the action that shows this right's use
  (MailItemsAccessed for FullAccess, SendAs, SendOnBehalf), and no holder bypasses
  auditing (AuditBypassEnabled).
  The delegate actions are those of Microsoft's "Manage mailbox auditing" page
  (learn.microsoft.com/purview/audit-mailboxes): a delegate's actions are logged only
  when they are in the mailbox's AuditDelegate list, and never for an account with
  AuditBypassEnabled ("Bypass mailbox audit logging").
- *unknown*: not seen used, and one of those conditions does not hold (the reason says
  which). Never judged unused on an audit log that could not have seen the use.

Grants to everyone-like principals and to deleted objects are not judged here: nobody in
particular holds them (`broad-delegation`, `stale-delegate` answer for them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from mailwarden.assess.index import TenantIndex
from mailwarden.model.findings import (
    GrantUse,
    MailboxAccess,
    PersonAccess,
    Right,
    TrusteeKind,
    UseState,
)
from mailwarden.model.inventory import Mailbox, Snapshot
from mailwarden.model.usage import DelegateUsage, DelegateUse
from mailwarden.times import iso

#: The rights a delegate uses, and the AuditDelegate action that records their use.
JUDGED_RIGHTS: Mapping[str, str] = {
    Right.FULL_ACCESS: "MailItemsAccessed",
    Right.SEND_AS: "SendAs",
    Right.SEND_ON_BEHALF: "SendOnBehalf",
}
#: How far the first record may follow the start of the read for the log to count as
#: covering the window's start: the first record is the first activity after it.
EDGE_SLACK = timedelta(days=1)
#: How far the last record may precede the reading of the tenant: a log read then ends at
#: the tenant's last activity, which over a weekend is days before.
END_SLACK = timedelta(days=3)

#: A mailbox position -> (account id or actor, right) -> the last use.
UsesByMailbox = Mapping[int, Mapping[tuple[str, str], DelegateUse]]


def index_uses(index: TenantIndex, usage: DelegateUsage | None) -> UsesByMailbox:
    """The uses of the log per mailbox of the snapshot, the actor named by account id when
    an account answers to it (else by the name the log gave)."""
    found: dict[int, dict[tuple[str, str], DelegateUse]] = {}
    for use in usage.uses if usage is not None else ():
        position = index.mailbox_position(use.mailbox)
        if position is None:
            continue
        account = index.account(use.actor)
        who = account.id.lower() if account is not None else use.actor.lower()
        mine = found.setdefault(position, {})
        old = mine.get((who, use.right))
        if old is None or use.last_used > old.last_used:
            mine[(who, use.right)] = use
    return found


def coverage_gap(usage: DelegateUsage | None, start: datetime, end: datetime) -> str | None:
    """Why the audit log read does not cover [start, end]; None when it does."""
    if usage is None:
        return "no Unified Audit Log was read (logs/ual.json; `mailwarden collect-logs`)"
    coverage = usage.coverage
    if coverage.problems:
        return f"the audit log could not be read in full ({coverage.problems[0]})"
    if coverage.records == 0 or coverage.first is None or coverage.last is None:
        return "the audit log read holds no Exchange mailbox records"
    if coverage.requested_from is not None:
        covered = coverage.requested_from <= start
        begins = coverage.requested_from
    else:
        covered = coverage.first <= start + EDGE_SLACK
        begins = coverage.first
    if not covered:
        return (f"the audit log begins {iso(begins, timespec='seconds')}, after the window's "
                f"start {iso(start, timespec='seconds')}")
    if coverage.last < end - END_SLACK:
        return (f"the audit log ends {iso(coverage.last, timespec='seconds')}, before the "
                f"tenant was read {iso(end, timespec='seconds')}")
    return None


def audit_gap(snapshot: Snapshot, mailbox: Mailbox, right: str) -> str | None:
    """Why a use of `right` on `mailbox` would not be in the audit log; None when it would."""
    config = snapshot.organization_config
    if config is None or config.audit_disabled is None:
        return "whether auditing is off for the organisation (AuditDisabled) is unknown"
    if config.audit_disabled:
        return "auditing is off for the organisation (AuditDisabled)"
    if mailbox.audit_enabled is None:
        return "whether auditing is on for the mailbox (AuditEnabled) is unknown"
    if not mailbox.audit_enabled:
        return "auditing is off on the mailbox (AuditEnabled false)"
    if mailbox.audit_delegate is None:
        return "the mailbox's AuditDelegate actions are unknown"
    action = JUDGED_RIGHTS[right]
    if action.lower() not in {a.lower() for a in mailbox.audit_delegate}:
        return f"AuditDelegate does not include {action}"
    return None


def _holders(access: MailboxAccess, trustee_kind: TrusteeKind, name: str | None, right: str,
             account_id: str | None) -> list[PersonAccess]:
    """The people who hold `right` through this grant."""
    if trustee_kind is TrusteeKind.USER:
        return [p for p in access.people
                if account_id and p.account_id.lower() == account_id.lower()]
    return [p for p in access.people if name in p.via and right in p.rights]


def grant_uses(
    access: MailboxAccess,
    mailbox: Mailbox,
    uses: Mapping[tuple[str, str], DelegateUse],
    *,
    snapshot: Snapshot,
    usage: DelegateUsage | None,
    bypass: Mapping[str, str],
    days: int,
) -> tuple[GrantUse, ...]:
    """Each FullAccess / SendAs / SendOnBehalf grant to a user or a group, judged."""
    end = snapshot.collected_at
    start = None if end is None else end - timedelta(days=days)
    gap = "the time the tenant was read is unknown" if start is None or end is None \
        else coverage_gap(usage, start, end)
    judged: list[GrantUse] = []
    seen: set[tuple[str, str]] = set()
    for grant in access.grants:
        right = str(grant.right)
        key = (right, grant.trustee.lower())
        if (right not in JUDGED_RIGHTS or grant.deny or grant.inherited or key in seen
                or grant.kind not in (TrusteeKind.USER, TrusteeKind.GROUP)):
            continue
        seen.add(key)
        holders = _holders(access, grant.kind, grant.name, right, grant.object_id)
        last = _last_use(holders, right, uses)
        seen_use = GrantUse(right=right, trustee=grant.trustee, name=grant.name, kind=grant.kind,
                            state=UseState.USED, window_days=days)
        if last is not None:
            person, use = last
            seen_use = replace(seen_use, last_used=use.last_used, operation=use.operation,
                               used_by=person)
            if start is not None and use.last_used >= start:
                judged.append(seen_use)
                continue
        reason = gap or audit_gap(snapshot, mailbox, right) or _bypassed(holders, bypass)
        state = UseState.UNKNOWN if reason else UseState.DORMANT
        judged.append(replace(seen_use, state=state, reason=reason))
    return tuple(judged)


def _last_use(holders: Iterable[PersonAccess], right: str,
              uses: Mapping[tuple[str, str], DelegateUse]) -> tuple[str, DelegateUse] | None:
    best: tuple[str, DelegateUse] | None = None
    for person in holders:
        for who in (person.account_id.lower(), person.upn.lower()):
            use = uses.get((who, right))
            if use is not None and (best is None or use.last_used > best[1].last_used):
                best = (person.upn, use)
    return best


def _bypassed(holders: Iterable[PersonAccess], bypass: Mapping[str, str]) -> str | None:
    names = [p.upn for p in holders if p.account_id.lower() in bypass]
    if not names:
        return None
    return f"{', '.join(names[:3])} {'bypasses' if len(names) == 1 else 'bypass'} auditing " \
           "(AuditBypassEnabled)"
