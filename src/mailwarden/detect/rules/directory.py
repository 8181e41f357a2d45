"""Directory changes to ownerless accounts: password resets and unblocked sign-in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.detect.rules.base import Rule
from mailwarden.model.findings import Severity


def _by_whom(fields: Mapping[str, Any]) -> dict[str, str]:
    # The query says `unknown` when no audit record names who did it.
    by = fields["by"]
    return {"by_whom": " by someone the audit log does not name" if by == "unknown"
            else f" by {by}"}

PASSWORD_RESET = Rule(
    id="password-reset", category="password-reset", severity=Severity.HIGH,
    title="Password of an ownerless account reset or changed",
    description="An admin reset or changed the password of an ownerless account: someone now "
    "knows it. Critical when the account changed its own password (someone signed in as it).",
    mitre=("T1098",), tables=("directory_audits",), needs=("ownerless",),
    summary="{activities} on ownerless account {target}{by_whom}",
    wording=_by_whom,
)

SIGN_IN_UNBLOCKED = Rule(
    id="sign-in-unblocked", category="sign-in-unblocked", severity=Severity.HIGH,
    title="Ownerless account enabled again",
    description="'Enable account', or 'Update user' setting AccountEnabled to true, on the "
    "account of an ownerless mailbox: it can sign in again.",
    mitre=("T1098",), tables=("directory_audits",), needs=("ownerless",),
    summary="Ownerless account {target} was enabled for sign-in{by_whom}",
    wording=_by_whom,
)

RULES: tuple[Rule, ...] = (PASSWORD_RESET, SIGN_IN_UNBLOCKED)
