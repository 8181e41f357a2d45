"""The check catalogue (SPEC section 5), registered explicitly, in the SPEC's order.

Each module declares its checks' `CheckInfo` next to their rules. A finding carries the
check's severity unless the rule raises it: `sign-in-enabled` and `legacy-auth-not-blocked`
become critical on the sprayable path (sign-in enabled with a legacy protocol that takes a
password), `privileged-account` when the account can sign in, and the protocol checks
high when it can.
"""

from __future__ import annotations

from mailwarden.assess.checks import (
    apps,
    audit,
    delegation,
    dormant,
    lockout,
    mailflow,
    privilege,
    protocols,
    rooms,
    signin,
    upkeep,
)
from mailwarden.assess.checks.base import Check, Verdict
from mailwarden.model.findings import CheckInfo

_BY_ID: dict[str, Check] = {
    check.info.id: check
    for module in (signin, protocols, audit, delegation, mailflow, privilege, lockout, apps,
                   rooms, upkeep, dormant)
    for check in module.CHECKS
}
#: SPEC section 5's ids, in its order.
CHECK_ORDER = (
    "sign-in-enabled",
    "direct-sign-in-observed",
    "password-reset-by-admin",
    "imap-enabled",
    "pop-enabled",
    "ews-enabled",
    "activesync-enabled",
    "smtp-auth-enabled",
    "basic-auth-allowed",
    "legacy-auth-not-blocked",
    "audit-disabled-org",
    "mailbox-audit-disabled",
    "audit-actions-missing",
    "audit-bypass-enabled",
    "stale-delegate",
    "broad-delegation",
    "no-custodian",
    "external-forwarding",
    "hiding-inbox-rule",
    "remote-powershell-enabled",
    "privileged-account",
    "no-mfa-on-enabled-account",
    "weak-smart-lockout",
    "resource-account-enabled",
    "app-mail-access-unscoped",
    "direct-send-allowed",
    "room-external-booking",
    "room-delegate-left",
    "shared-mailbox-needs-licence",
    "shared-mailbox-licence-unused",
    "mailbox-inactive",
    "dormant-delegate",
)
if set(CHECK_ORDER) != set(_BY_ID) or len(_BY_ID) != len(CHECK_ORDER):
    raise RuntimeError(
        f"the catalogue and CHECK_ORDER disagree: {sorted(set(_BY_ID) ^ set(CHECK_ORDER))}"
    )

CATALOGUE: tuple[Check, ...] = tuple(_BY_ID[check_id] for check_id in CHECK_ORDER)


def list_checks() -> tuple[CheckInfo, ...]:
    """Every check's metadata, in catalogue order."""
    return tuple(check.info for check in CATALOGUE)


def check(check_id: str) -> Check:
    return _BY_ID[check_id]


__all__ = ["CATALOGUE", "CHECK_ORDER", "Check", "Verdict", "check", "list_checks"]
