"""Directory changes to ownerless accounts: password resets and unblocked sign-in."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule

PASSWORD_RESET = Rule(
    id="password-reset", category="password-reset", severity="high",
    title="Password of an ownerless account reset or changed",
    description="An admin reset or changed the password of an ownerless account: someone now "
    "knows it. Critical when the account changed its own password (someone signed in as it).",
    mitre=("T1098",), tables=("directory_audits",), needs=("ownerless",),
    summary="{activities} on ownerless account {target} by {by}",
)

SIGN_IN_UNBLOCKED = Rule(
    id="sign-in-unblocked", category="sign-in-unblocked", severity="high",
    title="Ownerless account enabled again",
    description="'Enable account', or 'Update user' setting AccountEnabled to true, on the "
    "account of an ownerless mailbox: it can sign in again.",
    mitre=("T1098",), tables=("directory_audits",), needs=("ownerless",),
    summary="Ownerless account {target} was enabled for sign-in by {by}",
)

RULES: tuple[Rule, ...] = (PASSWORD_RESET, SIGN_IN_UNBLOCKED)
