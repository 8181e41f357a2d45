"""Can the mailbox's own account sign in, has it, and does anything stop a password?"""

from __future__ import annotations

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
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.findings import CheckInfo, MailboxKind, Remediation, Scope, Severity

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
#: Strong methods in userRegistrationDetails.methodsRegistered (email only serves SSPR).
STRONG_METHODS = frozenset(
    {
        "microsoftauthenticatorpush",
        "softwareonetimepasscode",
        "hardwareonetimepasscode",
        "mobilephone",
        "alternatemobilephone",
        "officephone",
        "fido2",
        "windowshelloforbusiness",
        "microsoftauthenticatorpasswordless",
        "passkeydevicebound",
        "passkeydevicebound authenticator",
        "temporaryaccesspass",
    }
)

SIGN_IN_ENABLED = CheckInfo(
    id="sign-in-enabled",
    title="The ownerless mailbox's account can sign in",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Sign-in is blocked for the account behind the mailbox.",
    fails="The account behind the mailbox can sign in with a password (accountEnabled is true).",
    needs=(MAILBOXES, USERS),
    uses=LEGACY_PATH,
    fields=("graph/users:accountEnabled",),
    controls=("CIS M365 5.0.0 1.2.2",),
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
    title="Someone signed in to the ownerless account directly",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="No successful sign-in to the account is on record.",
    fails="The account has a successful sign-in on record (signInActivity): someone used its "
    "password instead of their own delegated access.",
    needs=(MAILBOXES, USERS),
    # signInActivity needs Entra ID P1 and AuditLog.Read.All; lastSuccessfulSignInDateTime
    # exists from December 2023 and is not backfilled.
    fields=("graph/users:signInActivity",
            "graph/users:signInActivity/lastSuccessfulSignInDateTime"),
    controls=("CIS M365 5.0.0 1.2.2",),
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
        "none is on record (and reading it needs AuditLog.Read.All with Entra ID P1).",
    ),
    risk="A shared password is in use: people who left, or whoever they told, may still have it.",
)


def direct_sign_in(facts: MailboxFacts, context: Context) -> Verdict:
    account = facts.subject.account
    if account is None:
        return no_account(facts)
    if account.last_successful_sign_in is None:
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
    title="An admin set the ownerless account's password",
    severity=Severity.MEDIUM,
    scope=Scope.MAILBOX,
    passes="The password is still the one Exchange generated when the account was created.",
    fails="The password was set or reset after the account was created "
    "(lastPasswordChangeDateTime): somebody knows it.",
    needs=(MAILBOXES, USERS),
    fields=("graph/users:lastPasswordChangeDateTime",),
    controls=("CIS M365 5.0.0 1.2.2",),
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
    title="The ownerless account can sign in without a strong method registered",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Sign-in is blocked, or the account has a strong authentication method registered.",
    fails="Sign-in is enabled and no strong method (authenticator, phone, FIDO2, Windows Hello) is "
    "registered: a password alone opens it.",
    needs=(MAILBOXES, USERS, "graph/userRegistrationDetails"),
    fields=(
        "graph/users:accountEnabled",
        "graph/userRegistrationDetails:methodsRegistered",
        "graph/userRegistrationDetails:isMfaRegistered",
    ),
    controls=("CIS M365 5.0.0 5.2.3.4", "CIS M365 5.0.0 5.2.2.2", "CISA SCuBA MS.AAD.3.2v1"),
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
    methods = tuple(registration.methods_registered)
    strong = sorted(m for m in methods if m.lower() in STRONG_METHODS)
    if strong or (not methods and registration.is_mfa_registered):
        return passed(
            f"{facts.subject.upn} can sign in but has a strong method registered.",
            methods_registered=list(methods),
        )
    return failed(
        f"{facts.subject.upn} can sign in and has no strong authentication method registered.",
        methods_registered=list(methods),
        is_mfa_registered=registration.is_mfa_registered,
    )


RESOURCE_ENABLED = CheckInfo(
    id="resource-account-enabled",
    title="A room or equipment account can sign in",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="The room or equipment mailbox's account cannot sign in.",
    fails="The room or equipment account is enabled (accountEnabled / RoomMailboxAccountEnabled).",
    needs=(MAILBOXES, USERS),
    fields=("graph/users:accountEnabled",),
    controls=("CIS M365 5.0.0 1.2.2",),
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
