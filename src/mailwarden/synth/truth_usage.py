"""The ground truth of `dormant-delegate`, read from the Unified Audit Log records the
generator wrote (the logs are drawn when the tenant is written, so this truth is too).

Rules (an assessment of the written files with their logs must reach the same verdicts):
a grant is an allowed, explicit FullAccess / SendAs / SendOnBehalf grant to a user or a
group; its holders are the user, or the group's users (transitively) not denied that
right. A use of FullAccess is a mailbox record (MailboxOwnerUPN) of MailItemsAccessed,
Send, an item or a folder operation; of SendAs or SendOnBehalf, a record of that operation
naming the mailbox in SendAsUserSmtp / SendOnBehalfOfUserSmtp; by a holder (UserId). A
grant unused in the `window_days` before collection is dormant when the log's records span
the window (the first no later than a day after its start, the last no earlier than
three days before collection), auditing is on for the organisation and the mailbox, AuditDelegate
holds MailItemsAccessed / SendAs / SendOnBehalf for the right, and no holder has
AuditBypassEnabled; otherwise it is unknown. A mailbox with a dormant grant fails; one
with only unknown grants besides used ones is unknown (error).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.model import OwnerlessMailbox, Tenant
from mailwarden.synth.truth_mailbox import MailboxJudge
from mailwarden.times import parse_time

WINDOW_DAYS = 90
_FULL_ACCESS_OPERATIONS = frozenset({
    "MailItemsAccessed", "FolderBind", "MessageBind", "Send", "Create", "Update", "Copy",
    "Move", "MoveToDeletedItems", "SoftDelete", "HardDelete", "UpdateInboxRules",
    "UpdateFolderPermissions", "UpdateCalendarDelegation", "ApplyRecord", "RecordDelete",
    "SearchQueryInitiated", "UpdateComplianceTag"})
_AUDITED_AS = {"FullAccess": "MailItemsAccessed", "SendAs": "SendAs",
               "SendOnBehalf": "SendOnBehalf"}
_SLACK = timedelta(days=1)
_END_SLACK = timedelta(days=3)


def _last_uses(ual: Iterable[Mapping[str, Any]]) -> tuple[dict[tuple[str, str, str], datetime],
                                                          datetime | None, datetime | None]:
    last: dict[tuple[str, str, str], datetime] = {}
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    for record in ual:
        when = parse_time(record.get("CreationTime"))
        if when is None:
            continue
        first_seen = when if first_seen is None else min(first_seen, when)
        last_seen = when if last_seen is None else max(last_seen, when)
        operation = str(record.get("Operation") or "")
        if operation in ("SendAs", "SendOnBehalf"):
            right = operation
        elif operation in _FULL_ACCESS_OPERATIONS:
            right = "FullAccess"
        else:
            continue
        mailbox = (record.get("SendAsUserSmtp") or record.get("SendOnBehalfOfUserSmtp")
                   or record.get("MailboxOwnerUPN") or "")
        key = (str(mailbox).lower(), str(record.get("UserId") or "").lower(), right)
        if key not in last or when > last[key]:
            last[key] = when
    return last, first_seen, last_seen


def _holders(judge: MailboxJudge, box: OwnerlessMailbox, right: str,
             kind: str, principal: str) -> set[str]:
    def reached(kind: str, principal: str) -> set[str]:
        return set(judge.users_of(principal)) if kind == "group" else {principal}

    denied: set[str] = set()
    for grant in box.grants:
        if grant.deny and grant.right == right and grant.principal_kind in ("user", "group"):
            denied |= reached(grant.principal_kind, grant.principal)
    return reached(kind, principal) - denied


def dormant_truth(tenant: Tenant, ual: Iterable[Mapping[str, Any]], judge: MailboxJudge, *,
                  window_days: int = WINDOW_DAYS) -> dict[str, Any]:
    """planted.json's "dormant" part: the window, the failing mailboxes ("planted", with
    the dormant grants) and those that cannot be judged ("unknown")."""
    uses, first_seen, last_seen = _last_uses(ual)
    end = COLLECTED_AT
    start = end - timedelta(days=window_days)
    covered = (first_seen is not None and last_seen is not None
               and first_seen <= start + _SLACK and last_seen >= end - _END_SLACK)
    planted: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for box in tenant.ownerless:
        mailbox = judge.accounts[box.account_id]
        upn = mailbox.upn.lower()
        idle: list[str] = []
        undecided: list[str] = []
        for grant in box.grants:
            if (grant.deny or grant.inherited or grant.right not in _AUDITED_AS
                    or grant.principal_kind not in ("user", "group")):
                continue
            holders = _holders(judge, box, grant.right, grant.principal_kind, grant.principal)
            people = {judge.accounts[h].upn.lower() for h in holders if h in judge.accounts}
            latest = max((uses[(upn, person, grant.right)] for person in people
                          if (upn, person, grant.right) in uses), default=None)
            if latest is not None and latest >= start:
                continue
            settings = box.settings
            audited = (covered and not tenant.audit_disabled_org and settings.audit_enabled
                       and _AUDITED_AS[grant.right] in settings.audit_delegate
                       and not holders & tenant.bypass_account_ids)
            name = judge.groups[grant.principal].display_name \
                if grant.principal_kind == "group" else judge.accounts[grant.principal].upn
            (idle if audited else undecided).append(f"{grant.right} to {name}")
        if idle:
            planted.append({"check_id": "dormant-delegate", "upn": upn,
                            "detail": "; ".join(sorted(set(idle)))})
        elif undecided:
            unknown.append({"check_id": "dormant-delegate", "upn": upn,
                            "detail": "; ".join(sorted(set(undecided)))})
    return {"window_days": window_days, "covered": covered,
            "planted": sorted(planted, key=lambda r: r["upn"]),
            "unknown": sorted(unknown, key=lambda r: r["upn"])}
