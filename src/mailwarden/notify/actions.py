"""The one or two things to do now, per alert category (SPEC section 7)."""

from __future__ import annotations

_ACTIONS: dict[str, tuple[str, ...]] = {
    "password-spray": (
        "Block the source addresses with a conditional-access named location and check "
        "each targeted account for a successful sign-in.",
        "Block sign-in on the targeted ownerless accounts and disable IMAP, POP and SMTP AUTH "
        "on their mailboxes.",
    ),
    "brute-force": (
        "Block sign-in on the account (Update-MgUser -AccountEnabled:$false) and reset its "
        "password.",
        "Disable the legacy protocols the attempts used on the mailbox.",
    ),
    "ownerless-sign-in": (
        "Block sign-in on the account and revoke its sessions (Revoke-MgUserSignInSession).",
        "Ask the custodian whether anyone should be signing in; if not, treat it as a "
        "compromise and review the mailbox's audit log.",
    ),
    "legacy-protocol-auth": (
        "Disable IMAP, POP, SMTP AUTH and EWS on the mailbox (Set-CASMailbox).",
        "Block legacy authentication for the account with conditional access.",
    ),
    "leaver-access": (
        "Remove the person's FullAccess/SendAs grants and revoke their sessions.",
        "Reset the mailbox account's password if it was ever shared with them.",
    ),
    "malicious-inbox-rule": (
        "Remove the inbox rule (Remove-InboxRule) and find who created it.",
        "Revoke the sessions of the account that created it and review its sign-ins.",
    ),
    "external-forwarding-set": (
        "Remove the forwarding (Set-Mailbox -ForwardingSmtpAddress $null) unless the "
        "custodian approved it.",
        "Block automatic external forwarding with an outbound spam policy.",
    ),
    "mailbox-permission-change": (
        "Confirm with the custodian that the grant is wanted; remove it if not "
        "(Remove-MailboxPermission / Remove-RecipientPermission).",
    ),
    "non-owner-access": (
        "Check whether the person should still have access; remove the grant and revoke "
        "their sessions if not.",
    ),
    "mass-send": (
        "Block sign-in on the account and revoke its sessions until the sending is explained.",
        "Check the sent items and message trace for what was sent and to whom.",
    ),
    "password-reset": (
        "Ask who reset the password and why; nobody should sign in to an ownerless mailbox.",
        "Block sign-in on the account if it is not already blocked.",
    ),
    "sign-in-unblocked": (
        "Block sign-in on the account again unless the change was approved.",
    ),
    "audit-tampering": (
        "Turn auditing back on (Set-Mailbox -AuditEnabled $true / Set-OrganizationConfig "
        "-AuditDisabled $false) and remove any audit bypass.",
        "Find who made the change in the directory and Unified Audit Log.",
    ),
}

_DEFAULT = ("Review the evidence below and decide whether the activity was expected.",)


def actions_for_category(category: str) -> tuple[str, ...]:
    return _ACTIONS.get(category, _DEFAULT)


def categories_with_actions() -> frozenset[str]:
    return frozenset(_ACTIONS)
