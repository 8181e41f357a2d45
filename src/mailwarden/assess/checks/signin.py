"""Can the mailbox's own account sign in, has it, and does anything stop a password?"""

from __future__ import annotations

from mailwarden.assess.checks.activity import (
    SUCCESS_RECORDED_SINCE,
    attempts_of_unknown_outcome,
)
from mailwarden.assess.checks.base import (
    LEGACY_PATH,
    MAILBOXES,
    USERS,
    Check,
    Verdict,
    ago,
    days_ago,
    errored,
    failed,
    listing,
    no_account,
    not_applicable,
    passed,
    when,
)
from mailwarden.assess.checks.registration import MfaState, judge_registration
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, MailboxKind, Remediation, Scope, Severity
from mailwarden.model.inventory import SIGN_IN_ACTIVITY

BLOCK_SIGN_IN = Remediation(
    summary="Block sign-in for the account and end its sessions; delegates keep their access.",
    powershell=(
        "Update-MgUser -UserId '<upn>' -AccountEnabled:$false",
        "Revoke-MgUserSignInSession -UserId '<upn>'",
    ),
    graph=(
        'PATCH https://graph.microsoft.com/v1.0/users/<id> {"accountEnabled": false}',
        "POST https://graph.microsoft.com/v1.0/users/<id>/revokeSignInSessions",
    ),
)
SIGN_IN_ENABLED = CheckInfo(
    id="sign-in-enabled",
    reads_mailbox=False,
    title="The ownerless mailbox's account can sign in",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Sign-in is blocked for the account behind the mailbox.",
    fails="The account behind the mailbox can sign in with a password (accountEnabled is true).",
    needs=(MAILBOXES, USERS),
    uses=LEGACY_PATH,
    fields=("graph/users:accountEnabled",),
    controls=mapped("CIS M365 6.0.0 1.2.2"),
    remediation=BLOCK_SIGN_IN,
    risk="Anyone who has or guesses the password signs in as the mailbox; nobody owns it, so "
    "nobody notices. With a legacy protocol reachable it is critical: password spray needs no MFA.",
)


def sign_in_enabled(facts: MailboxFacts, context: Context) -> Verdict:
    enabled = facts.sign_in_enabled
    if enabled is None:
        return errored(f"Whether {facts.subject.upn} can sign in is unknown.")
    if not enabled:
        return passed(f"Sign-in is blocked for {facts.subject.upn}.", account_enabled=False)
    reachable = facts.reachable_legacy()
    if reachable:
        return failed(
            f"{facts.subject.upn} can sign in, and {listing(reachable)} "
            f"{'takes' if len(reachable) == 1 else 'take'} a password: it can be "
            "password-sprayed without MFA.",
            severity=Severity.CRITICAL,
            account_enabled=True,
            reachable_protocols=list(reachable),
        )
    return failed(f"{facts.subject.upn} can sign in although nobody owns it.", account_enabled=True)


DIRECT_SIGN_IN = CheckInfo(
    id="direct-sign-in-observed",
    reads_mailbox=False,
    title="Someone signed in to the ownerless account directly",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="No successful sign-in to the account is on record, and no attempt older than Graph's "
    "record of successes (1 December 2023) leaves it in doubt.",
    fails="The account has a successful sign-in on record (signInActivity): someone used its "
    "password instead of their own delegated access.",
    needs=(MAILBOXES, USERS, SIGN_IN_ACTIVITY),
    # signInActivity needs Entra ID P1 and AuditLog.Read.All; lastSuccessfulSignInDateTime
    # exists from December 2023 and is not backfilled.
    fields=("graph/users:signInActivity",
            "graph/users:signInActivity/lastSuccessfulSignInDateTime"),
    controls=mapped("MITRE ATT&CK T1078.004"),
    remediation=Remediation(
        summary="Find out who signed in and from where, then block sign-in and end sessions.",
        powershell=(
            "Get-MgAuditLogSignIn -Filter \"userId eq '<id>'\" -Top 50",
            *BLOCK_SIGN_IN.powershell,
        ),
        graph=(
            "GET https://graph.microsoft.com/v1.0/auditLogs/signIns"
            "?$filter=userId eq '<id>'&$top=50",
            *BLOCK_SIGN_IN.graph,
        ),
        note="Graph omits signInActivity for accounts that never signed in, so a pass means "
        "none is on record (and reading it needs AuditLog.Read.All with Entra ID P1). Graph "
        "records successful sign-ins only since 1 December 2023: an older attempt without a "
        "success since cannot be judged, and the finding says error.",
    ),
    risk="A shared password is in use: people who left, or whoever they told, may still have it.",
)


def direct_sign_in(facts: MailboxFacts, context: Context) -> Verdict:
    account = facts.subject.account
    if account is None:
        return no_account(facts)
    if account.last_successful_sign_in is None:
        unknown = attempts_of_unknown_outcome(account)
        if unknown:
            name, moment = max(unknown, key=lambda attempt: attempt[1])
            return errored(
                f"Whether anyone signed in to {facts.subject.upn} cannot be told: its last "
                f"sign-in attempt on record ({name}, {moment.date().isoformat()}) is older "
                "than Graph's record of successful sign-ins, which starts on 1 December 2023 "
                "and is not backfilled. No sign-in has succeeded since then.",
                last_sign_in_attempt=when(account.last_sign_in),
                last_non_interactive_sign_in=when(account.last_non_interactive_sign_in),
                successes_recorded_since=when(SUCCESS_RECORDED_SINCE),
            )
        return passed(
            f"No successful sign-in to {facts.subject.upn} is on record.",
            last_sign_in_attempt=when(account.last_sign_in),
        )
    return failed(
        f"Someone signed in to {facts.subject.upn} directly "
        f"{ago(days_ago(account.last_successful_sign_in, context))}.",
        last_successful_sign_in=when(account.last_successful_sign_in),
        last_non_interactive_sign_in=when(account.last_non_interactive_sign_in),
    )


PASSWORD_RESET = CheckInfo(
    id="password-reset-by-admin",
    reads_mailbox=False,
    title="An admin set the ownerless account's password",
    severity=Severity.MEDIUM,
    scope=Scope.MAILBOX,
    passes="The password is still the one Exchange generated when the account was created.",
    fails="The password was set or reset after the account was created "
    "(lastPasswordChangeDateTime): somebody knows it.",
    needs=(MAILBOXES, USERS),
    fields=("graph/users:lastPasswordChangeDateTime",),
    controls=mapped("MITRE ATT&CK T1098"),
    remediation=Remediation(
        summary="Set a long random password nobody keeps, block sign-in and end sessions.",
        powershell=(
            "Update-MgUser -UserId '<upn>' -PasswordProfile @{ForceChangePasswordNextSignIn ="
            " $false; Password = -join ((33..126) | Get-Random -Count 64 | ForEach-Object"
            " {[char]$_})}",
            *BLOCK_SIGN_IN.powershell,
        ),
        graph=(
            'PATCH https://graph.microsoft.com/v1.0/users/<id> {"passwordProfile": {"password": '
            '"<64 random characters>", "forceChangePasswordNextSignIn": false}}',
            *BLOCK_SIGN_IN.graph,
        ),
    ),
    risk="A password someone chose was handed to people; it outlives their employment.",
)


def password_reset(facts: MailboxFacts, context: Context) -> Verdict:
    account = facts.subject.account
    if account is None:
        return no_account(facts)
    changed, created = account.last_password_change, account.created
    if changed is None or created is None:
        return errored(
            f"The password history of {facts.subject.upn} is unknown.",
            last_password_change=when(changed),
            created=when(created),
        )
    grace = context.options.password_reset_grace_seconds
    if (changed - created).total_seconds() <= grace:
        return passed(
            f"The password of {facts.subject.upn} was never changed after creation.",
            created=when(created),
            last_password_change=when(changed),
        )
    return failed(
        f"The password of {facts.subject.upn} was set {ago(days_ago(changed, context))}, "
        "long after the account was created.",
        created=when(created),
        last_password_change=when(changed),
        days_ago=days_ago(changed, context),
    )


NO_MFA = CheckInfo(
    id="no-mfa-on-enabled-account",
    reads_mailbox=False,
    title="The ownerless account can sign in without a strong method registered",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Sign-in is blocked, or the account has a strong authentication method registered.",
    fails="Sign-in is enabled and no strong method (authenticator, phone, passkey or FIDO2 key, "
    "Windows Hello) is registered that the authentication methods policy allows "
    "(userRegistrationDetails isMfaCapable): a password alone opens it.",
    needs=(MAILBOXES, USERS, "graph/userRegistrationDetails"),
    fields=(
        "graph/users:accountEnabled",
        "graph/userRegistrationDetails:methodsRegistered",
        "graph/userRegistrationDetails:isMfaCapable",
        "graph/userRegistrationDetails:isMfaRegistered",
    ),
    controls=mapped("CIS M365 6.0.0 5.2.3.4"),
    remediation=BLOCK_SIGN_IN,
    risk="The password is the only factor anyone needs; alerts about the account reach nobody.",
)


def no_mfa(facts: MailboxFacts, context: Context) -> Verdict:
    enabled = facts.sign_in_enabled
    if enabled is None:
        return errored(f"Whether {facts.subject.upn} can sign in is unknown.")
    if not enabled:
        return not_applicable(f"Sign-in is blocked for {facts.subject.upn}.")
    registration = facts.subject.registration
    if registration is None:
        return errored(f"No registration details for {facts.subject.upn} were collected.")
    judgement = judge_registration(registration)
    methods = list(registration.methods_registered)
    upn = facts.subject.upn
    evidence = {
        "methods_registered": methods,
        "is_mfa_registered": registration.is_mfa_registered,
        "is_mfa_capable": registration.is_mfa_capable,
        "reason": judgement.reason,
    }
    if judgement.unrecognised:
        evidence["unrecognised_methods"] = list(judgement.unrecognised)
    if judgement.state is MfaState.UNKNOWN:
        return errored(
            f"Whether {upn} has a strong method registered is unknown: "
            f"{listing(list(judgement.unrecognised))} "
            f"{'is a method' if len(judgement.unrecognised) == 1 else 'are methods'} "
            "mailwarden does not know, and the report does not say.",
            evidence,
        )
    if judgement.state is MfaState.STRONG:
        named = f" ({listing(methods)})" if methods else ""
        return passed(f"{upn} can sign in but has a strong method registered{named}.", evidence)
    disallowed = registration.is_mfa_capable is False and bool(
        judgement.strong or registration.is_mfa_registered
    )
    if not methods:
        message = f"{upn} can sign in and has no strong authentication method registered."
    elif disallowed:
        message = (
            f"{upn} can sign in, and the authentication methods policy does not allow the "
            f"strong methods it registered ({listing(methods)})."
        )
    else:
        message = (
            f"{upn} can sign in and has no strong authentication method registered, "
            f"only {listing(methods)}."
        )
    return failed(message, evidence)


RESOURCE_ENABLED = CheckInfo(
    id="resource-account-enabled",
    title="A room or equipment account can sign in",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="The room or equipment mailbox's account cannot sign in.",
    fails="The room or equipment account is enabled (accountEnabled / RoomMailboxAccountEnabled).",
    needs=(MAILBOXES, USERS),
    fields=("graph/users:accountEnabled",),
    controls=mapped("MITRE ATT&CK T1078.004"),
    remediation=Remediation(
        summary="Disable the resource account (Teams Rooms devices need a separate, "
        "protected account).",
        powershell=(
            "Set-Mailbox -Identity '<upn>' -RoomMailboxAccountEnabled $false",
            *BLOCK_SIGN_IN.powershell,
        ),
        graph=BLOCK_SIGN_IN.graph,
    ),
    risk="Room accounts are often enabled for meeting devices with a password on a sticky note.",
)
RESOURCE_KINDS = frozenset({MailboxKind.ROOM, MailboxKind.EQUIPMENT})


def resource_enabled(facts: MailboxFacts, context: Context) -> Verdict:
    if facts.subject.kind not in RESOURCE_KINDS:
        return not_applicable(f"{facts.subject.upn} is not a room or equipment mailbox.")
    enabled = facts.sign_in_enabled
    room_flag = facts.subject.mailbox.room_mailbox_account_enabled
    if enabled is None:
        enabled = room_flag
    if enabled is None:
        return errored(f"Whether {facts.subject.upn} can sign in is unknown.")
    if enabled:
        return failed(
            f"The {facts.subject.kind.value} account {facts.subject.upn} can sign in.",
            account_enabled=True,
            room_mailbox_account_enabled=room_flag,
        )
    return passed(f"The {facts.subject.kind.value} account {facts.subject.upn} cannot sign in.")


CHECKS = (
    Check(info=SIGN_IN_ENABLED, mailbox=sign_in_enabled),
    Check(info=DIRECT_SIGN_IN, mailbox=direct_sign_in),
    Check(info=PASSWORD_RESET, mailbox=password_reset),
    Check(info=NO_MFA, mailbox=no_mfa),
    Check(info=RESOURCE_ENABLED, mailbox=resource_enabled),
)
