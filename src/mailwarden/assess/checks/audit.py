"""Mailbox auditing: on for the organisation and the mailbox, covering the actions that
show abuse, and not bypassed by anyone who can reach the mailbox."""

from __future__ import annotations

from mailwarden.assess.checks.base import (
    ACCESS,
    MAILBOXES,
    Check,
    Verdict,
    errored,
    failed,
    passed,
    quoted,
)
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, Remediation, Scope, Severity
from mailwarden.model.findings.evidence import AuditGap, MissingAuditActions
from mailwarden.text import plural

AUDIT_ORG = CheckInfo(
    id="audit-disabled-org",
    title="Mailbox auditing is turned off for the organisation",
    severity=Severity.HIGH,
    scope=Scope.TENANT,
    passes="OrganizationConfig.AuditDisabled is false, so mailbox auditing is on by default.",
    fails="OrganizationConfig.AuditDisabled is true: no mailbox action is audited, whatever "
    "each mailbox says.",
    needs=("exo/Get-OrganizationConfig",),
    controls=mapped("CIS M365 6.0.0 6.1.1", "CISA SCuBA MS.EXO.13.1v1"),
    remediation=Remediation(
        summary="Turn mailbox auditing on by default for the organisation.",
        powershell=("Set-OrganizationConfig -AuditDisabled $false",),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-OrganizationConfig", "Parameters": '
            '{"AuditDisabled": false}}}',
        ),
        note="Graph has no API for this setting; the call goes to the Exchange Online admin API.",
    ),
    risk="Without auditing, nobody can tell who read or sent mail from any mailbox.",
)


def audit_org(context: Context) -> Verdict:
    config = context.snapshot.organization_config
    if config is None or config.audit_disabled is None:
        return errored("OrganizationConfig.AuditDisabled is unknown.")
    if config.audit_disabled:
        return failed(
            "Mailbox auditing is turned off for the whole organisation (AuditDisabled is true).",
            audit_disabled=True,
        )
    return passed("Mailbox auditing is on by default for the organisation.", audit_disabled=False)


MAILBOX_AUDIT = CheckInfo(
    id="mailbox-audit-disabled",
    title="Auditing is off on the ownerless mailbox",
    severity=Severity.MEDIUM,
    scope=Scope.MAILBOX,
    passes="AuditEnabled is true on the mailbox.",
    fails="AuditEnabled is false on the mailbox.",
    needs=("exo/Get-Mailbox",),
    controls=mapped("CIS M365 6.0.0 6.1.2", "CISA SCuBA MS.EXO.13.1v1"),
    remediation=Remediation(
        summary="Turn auditing on for the mailbox.",
        powershell=("Set-Mailbox -Identity '<upn>' -AuditEnabled $true",),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-Mailbox", "Parameters": '
            '{"Identity": "<upn>", "AuditEnabled": true}}}',
        ),
        note="Graph has no API for mailbox auditing; the call goes to the Exchange Online admin "
        "API.",
    ),
    risk="Abuse of the mailbox leaves no mailbox audit record to investigate.",
)


def mailbox_audit(facts: MailboxFacts, context: Context) -> Verdict:
    enabled = facts.subject.mailbox.audit_enabled
    if enabled is None:
        return errored(f"AuditEnabled of {facts.subject.upn} is unknown.")
    if enabled:
        return passed(f"Auditing is on for {facts.subject.upn}.", audit_enabled=True)
    return failed(f"Auditing is off for {facts.subject.upn}.", audit_enabled=False)


AUDIT_ACTIONS = CheckInfo(
    id="audit-actions-missing",
    title="The mailbox does not audit the actions that show abuse",
    severity=Severity.LOW,
    scope=Scope.MAILBOX,
    passes="AuditOwner, AuditDelegate and AuditAdmin include every action needed to see abuse.",
    fails="AuditOwner, AuditDelegate or AuditAdmin lacks an action needed to see abuse "
    "(MailItemsAccessed, Send, SendAs, SendOnBehalf, UpdateInboxRules, HardDelete).",
    needs=("exo/Get-Mailbox",),
    controls=mapped("CIS M365 6.0.0 6.1.2", "CIS Controls v8 8.5"),
    remediation=Remediation(
        summary="Add the missing actions to each logon type's audit set.",
        powershell=(
            "Set-Mailbox -Identity '<upn>' -AuditOwner @{Add = 'MailItemsAccessed', 'Send', "
            "'UpdateInboxRules', 'HardDelete'} -AuditDelegate @{Add = 'MailItemsAccessed', "
            "'SendAs', 'SendOnBehalf', 'UpdateInboxRules', 'HardDelete'} -AuditAdmin @{Add = "
            "'MailItemsAccessed', 'Send', 'SendAs', 'SendOnBehalf', 'UpdateInboxRules', "
            "'HardDelete'}",
        ),
        note="Graph has no API for mailbox audit actions. Set-Mailbox -DefaultAuditSet "
        "Admin,Delegate,Owner restores Microsoft's default actions.",
    ),
    risk="Reading mail, sending as the mailbox and hiding traces go unrecorded.",
)


def audit_actions(facts: MailboxFacts, context: Context) -> Verdict:
    mailbox = facts.subject.mailbox
    lists = {
        "AuditOwner": mailbox.audit_owner,
        "AuditDelegate": mailbox.audit_delegate,
        "AuditAdmin": mailbox.audit_admin,
    }
    unknown = [name for name, actions in lists.items() if actions is None]
    if unknown:
        return errored(
            f"The audit actions of {facts.subject.upn} are unknown ({', '.join(unknown)}).",
            unknown=unknown,
        )
    gaps: list[AuditGap] = []
    for name, required in context.options.required_audit_actions:
        have = {action.lower() for action in lists.get(name) or ()}
        lacking = sorted(a for a in required if a.lower() not in have)
        if lacking:
            gaps.append(AuditGap(audit_list=name, actions=tuple(lacking)))
    if not gaps:
        return passed(f"{facts.subject.upn} audits every action needed to see abuse.")
    summary = "; ".join(f"{g.audit_list} lacks {', '.join(g.actions)}" for g in gaps)
    return failed(
        f"{facts.subject.upn} does not audit everything: {summary}.",
        MissingAuditActions(gaps=tuple(gaps)).as_evidence(),
    )


AUDIT_BYPASS = CheckInfo(
    id="audit-bypass-enabled",
    title="An account that can reach the mailbox bypasses auditing",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Neither the mailbox's own account nor anyone holding access to it has "
    "AuditBypassEnabled (for the tenant: no account has it).",
    fails="The mailbox's account or a delegate has AuditBypassEnabled, so what they do in it "
    "is never audited (for the tenant: some account has it).",
    needs=("exo/Get-MailboxAuditBypassAssociation",),
    # Get-Mailbox is in `uses`, not `needs`: the tenant's summary needs no mailbox.
    uses=(MAILBOXES, *ACCESS),
    controls=mapped("CIS M365 6.0.0 6.1.3"),
    remediation=Remediation(
        summary="Remove the audit bypass from every account that has it.",
        powershell=(
            "Get-MailboxAuditBypassAssociation -ResultSize Unlimited | Where-Object "
            "AuditBypassEnabled | Set-MailboxAuditBypassAssociation -AuditBypassEnabled $false",
        ),
        note="Graph has no API for audit bypass associations.",
    ),
    risk="An account with an audit bypass can read or send from any mailbox it reaches "
    "without leaving a mailbox audit record.",
    tenant_summary=True,
)


def audit_bypass(facts: MailboxFacts, context: Context) -> Verdict:
    holders = []
    account = facts.subject.account
    if account is not None and account.id.lower() in context.bypass:
        holders.append(f"{account.upn} (the mailbox's own account)")
    holders += [person.upn for person in facts.access.people if person.account_id in context.bypass]
    commands = tuple(
        f"Set-MailboxAuditBypassAssociation -Identity {quoted(h.split(' ')[0])} "
        "-AuditBypassEnabled $false"
        for h in holders
    )
    if holders:
        return failed(
            f"{', '.join(holders)} can reach {facts.subject.upn} without being audited.",
            holders=holders,
            commands=commands,
        )
    if facts.access.unknown:
        return errored(
            f"Who can reach {facts.subject.upn} is not fully known, so an audit bypass cannot "
            "be ruled out.",
            unknown=list(facts.access.unknown),
        )
    return passed(f"Nobody who can reach {facts.subject.upn} bypasses auditing.")


def audit_bypass_tenant(context: Context) -> Verdict:
    if not context.bypass:
        return passed("No account has AuditBypassEnabled.")
    names = sorted(context.bypass.values())
    return failed(
        f"{plural(len(names), 'account')} {'bypasses' if len(names) == 1 else 'bypass'} "
        f"mailbox auditing: {', '.join(names[:5])}"
        f"{f' and {len(names) - 5} more' if len(names) > 5 else ''}.",
        accounts=names,
    )


CHECKS = (
    Check(info=AUDIT_ORG, tenant=audit_org),
    Check(info=MAILBOX_AUDIT, mailbox=mailbox_audit),
    Check(info=AUDIT_ACTIONS, mailbox=audit_actions),
    Check(info=AUDIT_BYPASS, mailbox=audit_bypass, tenant=audit_bypass_tenant),
)
