"""Licences and activity of ownerless mailboxes: what a shared mailbox must be licensed
for, what it is licensed for without need, and mailboxes nobody uses any more.

Facts: "Shared mailboxes usually don't require a license ... An Exchange Online Plan 2
license is required in the following scenarios: The shared mailbox has more than 50 GB of
storage in use. The shared mailbox uses in-place archiving. The shared mailbox is placed in
litigation hold." (Microsoft 365 admin docs, "Remove a license from a shared mailbox").
Exchange Online Plan 2 is the service plan EXCHANGE_S_ENTERPRISE (Microsoft's "Product
names and service plan identifiers for licensing"); Microsoft 365 E3/E5 and Office 365
E3/E5 carry it. Get-MailboxStatistics' LastUserActionTime is being deprecated ("Don't use
the value of that property as the last active time"), and LastInteractionTime counts
system actions too: a mailbox whose latest time of any kind is old has certainly not been
used since, while a recent one may only have been touched by Exchange itself. So
mailbox-inactive can miss an idle mailbox, never accuse a used one.
"""

from __future__ import annotations

from datetime import datetime

from mailwarden.assess.checks.base import (
    MAILBOXES,
    USERS,
    Check,
    Verdict,
    ago,
    days_ago,
    errored,
    failed,
    listing,
    not_applicable,
    passed,
    when,
)
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, MailboxKind, Remediation, Scope, Severity
from mailwarden.model.inventory import MailboxStatistics

STATISTICS = "exo/Get-MailboxStatistics"
SKUS = "graph/subscribedSkus"
#: The service plan of Exchange Online Plan 2.
EXCHANGE_PLAN_2 = "exchange_s_enterprise"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
GB = 1024**3

NEEDS_LICENCE = CheckInfo(
    id="shared-mailbox-needs-licence",
    reads_mailbox=True,
    title="A shared mailbox needs an Exchange Online Plan 2 licence it does not have",
    severity=Severity.MEDIUM,
    scope=Scope.MAILBOX,
    passes="The shared mailbox holds 50 GB or less, has no archive and is not on litigation "
    "hold, or its account holds a licence with Exchange Online Plan 2.",
    fails="The shared mailbox is over 50 GB, has an in-place archive or is on litigation hold, "
    "and no licence of its account carries Exchange Online Plan 2.",
    needs=(MAILBOXES, STATISTICS, USERS, SKUS),
    fields=(f"{STATISTICS}:TotalItemSize", f"{MAILBOXES}:ArchiveStatus",
            f"{MAILBOXES}:LitigationHoldEnabled", f"{USERS}:assignedLicenses"),
    controls=mapped("CIS Controls v8 3.4"),
    remediation=Remediation(
        summary="Assign the mailbox's account a licence with Exchange Online Plan 2 (sign-in "
        "stays blocked: a licence does not need it).",
        powershell=(
            "Set-MgUserLicense -UserId '<id>' -AddLicenses @(@{SkuId = '<sku with "
            "EXCHANGE_S_ENTERPRISE>'}) -RemoveLicenses @()",
        ),
        graph=(
            "POST https://graph.microsoft.com/v1.0/users/<id>/assignLicense "
            '{"addLicenses": [{"skuId": "<sku with EXCHANGE_S_ENTERPRISE>"}], '
            '"removeLicenses": []}',
        ),
        note="Microsoft's terms require the licence; without it archive and hold run outside "
        "what the tenant paid for, and an audit of licences finds it.",
    ),
    risk="Retention the organisation relies on (a hold, an archive, a mailbox over the free "
    "quota) runs unlicensed: a licensing audit finding, and a hold Microsoft may not honour.",
)

LICENCE_UNUSED = CheckInfo(
    id="shared-mailbox-licence-unused",
    reads_mailbox=True,
    title="A shared mailbox holds a licence it does not need",
    severity=Severity.INFO,
    scope=Scope.MAILBOX,
    passes="The shared mailbox holds no licence, or needs one (over 50 GB, an archive, "
    "litigation hold or another hold).",
    fails="The shared mailbox's account holds a licence while the mailbox is 50 GB or less, "
    "has no archive and no hold.",
    needs=(MAILBOXES, STATISTICS, USERS),
    fields=(f"{STATISTICS}:TotalItemSize", f"{USERS}:assignedLicenses"),
    controls=mapped("CIS Controls v8 5.1"),
    remediation=Remediation(
        summary="Remove the licence from the shared mailbox's account (Microsoft 365 admin "
        "center: Users > Active users > Licenses and apps).",
        powershell=(
            "Set-MgUserLicense -UserId '<id>' -AddLicenses @() -RemoveLicenses @('<sku id>')",
        ),
        graph=(
            "POST https://graph.microsoft.com/v1.0/users/<id>/assignLicense "
            '{"addLicenses": [], "removeLicenses": ["<sku id>"]}',
        ),
        note="A shared mailbox keeps working without a licence; check first that nobody "
        "signs in to it directly (it should not be able to).",
    ),
    risk="Cost: a paid seat on a mailbox that needs none. A licensed shared account is also "
    "easier to mistake for a person's, and to sign in to.",
)

INACTIVE = CheckInfo(
    id="mailbox-inactive",
    reads_mailbox=False,
    title="No activity on the ownerless mailbox for 180 days",
    severity=Severity.LOW,
    scope=Scope.MAILBOX,
    passes="Get-MailboxStatistics records activity (LastInteractionTime, LastUserActionTime "
    "or LastLogonTime) within the last 180 days.",
    fails="The latest activity Get-MailboxStatistics records is more than 180 days old.",
    needs=(MAILBOXES, STATISTICS),
    fields=(f"{STATISTICS}:LastInteractionTime",),
    controls=mapped("CIS Controls v8 5.3"),
    remediation=Remediation(
        summary="Ask the custodian whether the mailbox is still needed; if not, export what "
        "must be kept and remove it (a removed mailbox can be recovered for 30 days).",
        powershell=("Remove-Mailbox -Identity '<upn>' -Confirm:$false",),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Remove-Mailbox", "Parameters": '
            '{"Identity": "<upn>"}}}',
        ),
        note="Removal is a business decision: mailwarden never plans it.",
    ),
    risk="A mailbox nobody uses is one nobody watches: its account, delegates and mail stay "
    "reachable for whoever takes it over, and nobody notices.",
)


def _statistics(facts: MailboxFacts, context: Context) -> MailboxStatistics | Verdict:
    upn = facts.subject.upn
    failed_here = context.snapshot.mailbox_problem(STATISTICS, facts.subject.mailbox)
    if failed_here is not None:
        return errored(f"The statistics of {upn} could not be read.", problem=failed_here)
    rows = context.index.statistics.get(facts.subject.position)
    if not rows:
        return errored(f"Get-MailboxStatistics returned nothing for {upn}.")
    return rows[0]


def _needs(facts: MailboxFacts, stats: MailboxStatistics | None,
           context: Context) -> tuple[list[str], list[str]]:
    """(why the mailbox needs a licence, what could not be told)."""
    mailbox = facts.subject.mailbox
    reasons: list[str] = []
    unknown: list[str] = []
    limit = context.options.shared_mailbox_free_bytes
    if stats is None or stats.total_item_size is None:
        unknown.append("its size")
    elif stats.total_item_size > limit:
        reasons.append(f"it holds {stats.total_item_size / GB:.1f} GB, over the "
                       f"{limit / GB:.0f} GB free")
    archive_guid = (mailbox.archive_guid or "").strip()
    if mailbox.archive_status is None and not archive_guid:
        unknown.append("whether it has an archive")
    elif (mailbox.archive_status or "").lower() == "active" or archive_guid not in {"",
                                                                                   ZERO_GUID}:
        reasons.append("it has an in-place archive")
    if mailbox.litigation_hold_enabled is None:
        unknown.append("whether it is on litigation hold")
    elif mailbox.litigation_hold_enabled:
        reasons.append("it is on litigation hold")
    return reasons, unknown


def _plans(context: Context) -> dict[str, frozenset[str]]:
    return {sku.sku_id.lower(): frozenset(p.lower() for p in sku.service_plans)
            for sku in context.snapshot.subscribed_skus}


def needs_licence(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    if facts.subject.kind is not MailboxKind.SHARED:
        return not_applicable(f"{upn} is not a shared mailbox.")
    found = _statistics(facts, context)
    stats = found if isinstance(found, MailboxStatistics) else None
    reasons, unknown = _needs(facts, stats, context)
    account = facts.subject.account
    licences = account.licenses if account is not None else None
    evidence = {"needs_licence_because": reasons, "unknown": unknown,
                "licences": list(licences or ()),
                "total_item_size": stats.total_item_size if stats else None}
    if not reasons:
        if unknown:
            return errored(f"Whether {upn} needs a licence is unknown: {listing(unknown)} "
                           "could not be read.", evidence)
        return passed(f"{upn} needs no licence.", evidence)
    if licences is None:
        return errored(f"{upn} needs an Exchange Online Plan 2 licence ({listing(reasons)}), "
                       "but its account's licences are unknown.", evidence)
    plans = _plans(context)
    covered = [sku for sku in licences if EXCHANGE_PLAN_2 in plans.get(sku.lower(), ())]
    if covered:
        return passed(f"{upn} needs Exchange Online Plan 2 ({listing(reasons)}) and holds it.",
                      evidence)
    unread = [sku for sku in licences if sku.lower() not in plans]
    if unread:
        return errored(f"{upn} needs Exchange Online Plan 2 ({listing(reasons)}); what its "
                       f"licences {', '.join(unread)} provide is unknown.", evidence)
    return failed(f"{upn} needs an Exchange Online Plan 2 licence and has none: "
                  f"{listing(reasons)}.", evidence)


def licence_unused(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    if facts.subject.kind is not MailboxKind.SHARED:
        return not_applicable(f"{upn} is not a shared mailbox.")
    account = facts.subject.account
    if account is None or account.licenses is None:
        return errored(f"The licences of the account behind {upn} are unknown.")
    if not account.licenses:
        return passed(f"{upn} holds no licence.")
    found = _statistics(facts, context)
    stats = found if isinstance(found, MailboxStatistics) else None
    reasons, unknown = _needs(facts, stats, context)
    if facts.subject.mailbox.in_place_holds:
        reasons.append("it is on an in-place or retention hold")
    evidence = {"licences": list(account.licenses), "needs_licence_because": reasons,
                "unknown": unknown}
    if reasons:
        return passed(f"{upn} needs its licence: {listing(reasons)}.", evidence)
    if unknown:
        return errored(f"Whether {upn} needs its licence is unknown: {listing(unknown)} "
                       "could not be read.", evidence)
    return failed(f"{upn} holds a licence it does not need ({len(account.licenses)} "
                  "assigned; 50 GB or less, no archive, no hold).", evidence)


def _latest(stats: MailboxStatistics) -> datetime | None:
    times = [t for t in (stats.last_interaction_time, stats.last_user_action_time,
                         stats.last_logon_time) if t is not None]
    return max(times) if times else None


def inactive(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    found = _statistics(facts, context)
    if isinstance(found, Verdict):
        return found
    latest = _latest(found)
    evidence = {"last_interaction_time": when(found.last_interaction_time),
                "last_user_action_time": when(found.last_user_action_time),
                "last_logon_time": when(found.last_logon_time)}
    if latest is None:
        return errored(f"Get-MailboxStatistics records no activity time for {upn}.", evidence)
    days = days_ago(latest, context)
    if days is None:
        return errored(f"When {upn} was collected is unknown, so its idle time is too.",
                       evidence)
    limit = context.options.inactive_days
    if days > limit:
        return failed(f"{upn} has had no activity for {days} days (last {when(latest)}).",
                      evidence, idle_days=days)
    return passed(f"{upn} was last active {ago(days)}.", evidence, idle_days=days)


CHECKS = (
    Check(info=NEEDS_LICENCE, mailbox=needs_licence),
    Check(info=LICENCE_UNUSED, mailbox=licence_unused),
    Check(info=INACTIVE, mailbox=inactive),
)
