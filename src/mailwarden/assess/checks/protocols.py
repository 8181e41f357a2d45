"""Client protocols and the ways they accept a password: IMAP, POP, EWS, ActiveSync,
SMTP AUTH, basic authentication, and conditional access for legacy clients."""

from __future__ import annotations

from dataclasses import replace

from mailwarden.assess.checks.base import (
    LEGACY_PATH,
    MAILBOXES,
    USERS,
    Check,
    Verdict,
    errored,
    failed,
    no_account,
    passed,
)
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, Remediation, Scope, Severity

#: CIS Controls v8 4.8, "Uninstall or Disable Unnecessary Services on Enterprise Assets and
#: Software": a protocol nobody uses on a mailbox nobody owns.
UNNEEDED_SERVICE = "CIS Controls v8 4.8"


def _cas_remediation(parameter: str, label: str) -> Remediation:
    return Remediation(
        summary=f"Turn {label} off for the mailbox; delegates read it through Outlook.",
        powershell=(f"Set-CASMailbox -Identity '<upn>' -{parameter} $false",),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-CASMailbox", "Parameters": '
            f'{{"Identity": "<upn>", "{parameter}": false}}}}}}',
        ),
        note="Graph has no API for client access settings; the call goes to the Exchange "
        "Online admin API. New mailboxes get these defaults from Set-CASMailboxPlan.",
    )


def _protocol_check(check_id: str, label: str, attribute: str, parameter: str) -> Check:
    info = CheckInfo(
        id=check_id,
        reads_mailbox=False,
        title=f"{label} is enabled on the ownerless mailbox",
        severity=Severity.MEDIUM,
        scope=Scope.MAILBOX,
        passes=f"{label} is disabled on the mailbox.",
        fails=f"{label} is enabled on the mailbox ({parameter} is true in Get-CASMailbox).",
        needs=(MAILBOXES, "exo/Get-CASMailbox"),
        uses=(USERS,),  # an account that can sign in raises the severity
        controls=mapped(UNNEEDED_SERVICE),
        remediation=_cas_remediation(parameter, label),
        risk=f"{label} accepts a password from anywhere; nobody reads a shared mailbox with it.",
    )

    def rule(facts: MailboxFacts, context: Context) -> Verdict:
        if facts.subject.cas is None:
            return errored(f"No Get-CASMailbox row for {facts.subject.upn} was collected.")
        value = facts.protocol(attribute)
        if value is None:
            return errored(f"{parameter} of {facts.subject.upn} is unknown.")
        if not value:
            return passed(f"{label} is disabled on {facts.subject.upn}.", {parameter: False})
        severity = Severity.HIGH if facts.sign_in_enabled else None
        return failed(
            f"{label} is enabled on {facts.subject.upn}.", {parameter: True}, severity=severity
        )

    return Check(info=info, mailbox=rule)


SMTP_AUTH = CheckInfo(
    id="smtp-auth-enabled",
    reads_mailbox=False,
    title="SMTP AUTH is effectively enabled for the ownerless mailbox",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="SMTP AUTH is disabled for the mailbox, by its own setting or the organisation's.",
    fails="SMTP AUTH is enabled: SmtpClientAuthenticationDisabled is false on the mailbox, or "
    "unset there and false in Get-TransportConfig.",
    needs=(MAILBOXES, "exo/Get-CASMailbox"),
    uses=("exo/Get-TransportConfig",),
    controls=mapped("CIS M365 6.0.0 6.5.4", "CISA SCuBA MS.EXO.5.1v1", UNNEEDED_SERVICE),
    remediation=Remediation(
        summary="Disable SMTP AUTH for the mailbox, and for the organisation unless a device "
        "still needs it (then allow it only on that device's mailbox).",
        powershell=(
            "Set-CASMailbox -Identity '<upn>' -SmtpClientAuthenticationDisabled $true",
            "Set-TransportConfig -SmtpClientAuthenticationDisabled $true",
        ),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-CASMailbox", "Parameters": '
            '{"Identity": "<upn>", "SmtpClientAuthenticationDisabled": true}}}',
        ),
        note="Graph has no API for SMTP AUTH; the call goes to the Exchange Online admin API.",
    ),
    risk="SMTP AUTH is the last Exchange Online protocol that still takes a plain password "
    "(basic auth), so it is where password spray lands; it also sends mail as the mailbox.",
)


def smtp_auth(facts: MailboxFacts, context: Context) -> Verdict:
    smtp = facts.smtp
    evidence = {"source": smtp.source, "reason": smtp.reason}
    if smtp.enabled is None:
        verdict = errored(
            f"Whether SMTP AUTH is enabled for {facts.subject.upn} is unknown.", evidence
        )
    elif not smtp.enabled:
        verdict = passed(f"SMTP AUTH is disabled for {facts.subject.upn}.", evidence)
    else:
        origin = "its own setting" if smtp.source == "mailbox" else "the organisation's setting"
        verdict = failed(f"SMTP AUTH is enabled for {facts.subject.upn} by {origin}.", evidence)
    if smtp.source == "mailbox":
        # CIS 6.5.4 and MS.EXO.5.1v1 audit the organisation's setting (Get-TransportConfig);
        # CIS allows "a per-mailbox setting ... that overrides the tenant-wide setting ...
        # for special cases" (6.5.4, Impact). A mailbox's own setting says nothing of it.
        return replace(verdict, controls=(UNNEEDED_SERVICE,))
    return verdict


BASIC_AUTH = CheckInfo(
    id="basic-auth-allowed",
    reads_mailbox=False,
    title="The effective authentication policy allows basic auth",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="The authentication policy that applies (the account's, else the organisation "
    "default) allows basic auth for no protocol, or no policy applies (Microsoft has retired "
    "basic auth for every protocol but SMTP AUTH, which smtp-auth-enabled judges).",
    fails="The authentication policy that applies allows basic auth (AllowBasicAuth* true) for "
    "at least one protocol.",
    needs=(MAILBOXES, "exo/Get-User"),
    uses=("exo/Get-OrganizationConfig", "exo/Get-AuthenticationPolicy", USERS),
    controls=mapped(UNNEEDED_SERVICE),
    remediation=Remediation(
        summary="Assign a policy that blocks basic auth for every protocol, and make it the "
        "organisation default.",
        powershell=(
            "New-AuthenticationPolicy -Name 'Block Basic Auth'",
            "Set-User -Identity '<upn>' -AuthenticationPolicy 'Block Basic Auth'",
            "Set-OrganizationConfig -DefaultAuthenticationPolicy 'Block Basic Auth'",
        ),
        exchange_api=(
            "POST https://outlook.office365.com/adminapi/beta/<tenant>/InvokeCommand "
            '{"CmdletInput": {"CmdletName": "Set-User", "Parameters": '
            '{"Identity": "<upn>", "AuthenticationPolicy": "Block Basic Auth"}}}',
        ),
        note="A new authentication policy allows no basic auth unless told to. Graph has no "
        "API for authentication policies.",
    ),
    risk="Basic auth takes a password without MFA; an exception for devices opens the mailbox "
    "to password spray.",
)


def basic_auth(facts: MailboxFacts, context: Context) -> Verdict:
    basic = facts.basic
    evidence = {"policy": basic.policy, "source": basic.source, "reason": basic.reason}
    if basic.allowed is None:
        return errored(f"The authentication policy of {facts.subject.upn} is unknown.", evidence)
    if not basic.allowed:
        return passed(f"Basic auth is not allowed for {facts.subject.upn}.", evidence)
    return failed(
        f"Policy '{basic.policy}' allows basic auth for {facts.subject.upn} "
        f"({', '.join(basic.allowed)}).",
        evidence,
        allowed_protocols=list(basic.allowed),
    )


LEGACY_NOT_BLOCKED = CheckInfo(
    id="legacy-auth-not-blocked",
    reads_mailbox=False,
    title="No conditional-access policy blocks legacy clients for the account",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Security defaults are on (they block legacy authentication for everyone), or an "
    "enabled conditional-access policy blocks legacy clients (exchangeActiveSync and other) "
    "for the account, which it does not exclude.",
    fails="Security defaults are off and no enabled policy blocks legacy clients for the "
    "account: none exists, it is report-only or disabled, or it excludes this account.",
    needs=(MAILBOXES, USERS, "graph/conditionalAccessPolicies"),
    uses=tuple(s for s in LEGACY_PATH if s != "graph/conditionalAccessPolicies"),
    controls=mapped("CIS M365 6.0.0 5.2.2.3", "CISA SCuBA MS.AAD.1.1v1"),
    remediation=Remediation(
        summary="Take the account out of the legacy-auth block's exclusions: remove its id "
        "from conditions.users.excludeUsers of that policy, sending back the rest of the users "
        "condition as read (excluded through a group: check what else the group does first). "
        "Where no block exists, create one policy for all users, report-only, with the "
        "break-glass accounts excluded; never one policy per mailbox. `mailwarden remediate "
        "plan` groups the change per policy.",
        powershell=(
            "Get-MgIdentityConditionalAccessPolicy -All | Where-Object { "
            "$_.Conditions.Users.ExcludeUsers -contains '<id>' } | Select-Object Id, "
            "DisplayName, State",
        ),
        graph=(
            "GET https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies",
            "PATCH https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies/"
            '{policy-id} {"conditions": {"users": {...the users condition as read, '
            'without <id> in excludeUsers}}}',
        ),
        note="Needs Policy.Read.All and Policy.ReadWrite.ConditionalAccess. A new block is "
        "created report-only (enabledForReportingButNotEnforced): read its results in the "
        "sign-in logs before turning it on. Name the break-glass accounts once (setting "
        "break_glass): they stay excluded from every change.",
    ),
    risk="Legacy clients never meet MFA; an account they can reach can be password-sprayed.",
)


def legacy_not_blocked(facts: MailboxFacts, context: Context) -> Verdict:
    if facts.subject.account is None or facts.legacy is None:
        return no_account(facts)
    legacy = facts.legacy
    evidence = {
        "blocked_by": list(legacy.blocked_by),
        "excluded_from": list(legacy.excluded_from),
        "report_only": list(legacy.report_only),
        "disabled": list(legacy.disabled),
        "exclusions": [
            {"policy_id": e.policy_id, "policy": e.policy, "state": e.state, "via": e.via,
             "via_id": e.via_id, "via_name": e.via_name}
            for e in legacy.exclusions
        ],
    }
    if legacy.by_security_defaults:
        return passed(
            f"Legacy clients are blocked for {facts.subject.upn} by security defaults.",
            evidence,
            security_defaults=True,
        )
    if legacy.blocked:
        return passed(
            f"Legacy clients are blocked for {facts.subject.upn} by '{legacy.blocked_by[0]}'.",
            evidence,
        )
    if legacy.blocked is None:
        if legacy.security_defaults is None:
            return errored(
                f"Whether legacy clients are blocked for {facts.subject.upn} is unknown: "
                f"{legacy.unknown[-1]}.",
                evidence,
                unknown=list(legacy.unknown),
            )
        return errored(
            f"Whether conditional access blocks legacy clients for {facts.subject.upn} is unknown.",
            evidence,
            unknown=list(legacy.unknown),
        )
    first = legacy.exclusions[0] if legacy.exclusions else None
    through = (
        f" through {first.via} '{first.via_name or first.via_id}'"
        if first is not None and first.via != "user"
        else ""
    )
    why = (
        f"it is excluded from '{legacy.excluded_from[0]}'{through}"
        if legacy.excluded_from
        else "the only blocking policies are report-only or disabled"
        if legacy.report_only or legacy.disabled
        else "no policy blocks them"
    )
    critical = facts.sign_in_enabled is True and bool(facts.reachable_legacy())
    return failed(
        f"Legacy clients are not blocked for {facts.subject.upn}: {why}.",
        evidence,
        severity=Severity.CRITICAL if critical else None,
    )


CHECKS = (
    _protocol_check("imap-enabled", "IMAP", "imap_enabled", "ImapEnabled"),
    _protocol_check("pop-enabled", "POP", "pop_enabled", "PopEnabled"),
    _protocol_check("ews-enabled", "EWS", "ews_enabled", "EwsEnabled"),
    _protocol_check("activesync-enabled", "ActiveSync", "activesync_enabled", "ActiveSyncEnabled"),
    Check(info=SMTP_AUTH, mailbox=smtp_auth),
    Check(info=BASIC_AUTH, mailbox=basic_auth),
    Check(info=LEGACY_NOT_BLOCKED, mailbox=legacy_not_blocked),
)
