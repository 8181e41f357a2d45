"""How an ownerless mailbox and its account are set up: hardened, or left the way
Exchange and busy admins leave them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from mailwarden.synth.constants import COLLECTED_AT, DEFAULT_AUDIT_ACTIONS
from mailwarden.synth.context import Context
from mailwarden.synth.model import Account, MailboxSettings

#: Audit sets an admin script configured before auditing was on by default: no
#: MailItemsAccessed, no Send, no UpdateInboxRules.
LEGACY_AUDIT_ACTIONS = {
    "AuditOwner": ("Update", "Move", "MoveToDeletedItems", "SoftDelete", "HardDelete", "Create"),
    "AuditDelegate": ("Update", "Move", "MoveToDeletedItems", "SoftDelete", "HardDelete",
                      "FolderBind", "SendAs", "SendOnBehalf", "Create"),
    "AuditAdmin": ("Update", "Move", "MoveToDeletedItems", "SoftDelete", "HardDelete",
                   "FolderBind", "SendAs", "SendOnBehalf", "Create"),
}
#: Probability that a new account of each kind was left able to sign in.
ENABLED_SHARE = {"shared": 0.25, "room": 0.15, "equipment": 0.1, "scheduling": 0.0}


def default_settings() -> MailboxSettings:
    """A mailbox nobody touched: every protocol on, Microsoft's default audit set."""
    return MailboxSettings(
        audit_owner=DEFAULT_AUDIT_ACTIONS["AuditOwner"],
        audit_delegate=DEFAULT_AUDIT_ACTIONS["AuditDelegate"],
        audit_admin=DEFAULT_AUDIT_ACTIONS["AuditAdmin"],
    )


def hardened_settings(ctx: Context) -> MailboxSettings:
    """Every client protocol off, SMTP AUTH off (explicitly, or by the organisation's
    setting), auditing on with the full default set."""
    return replace(
        default_settings(), imap=False, pop=False, ews=False, activesync=False, mapi=False,
        owa=False, smtp_auth_disabled=ctx.rng.choice((True, None)),
    )


def loose_settings(ctx: Context, account: Account) -> MailboxSettings:
    rng = ctx.rng
    settings = default_settings()
    changes: dict[str, Any] = {
        "imap": rng.random() < 0.8, "pop": rng.random() < 0.8, "ews": rng.random() < 0.9,
        "activesync": rng.random() < 0.85,
        "smtp_auth_disabled": None if rng.random() < 0.9 else True,
        "audit_enabled": rng.random() >= (0.1 if account.kind == "room" else 0.04),
    }
    if rng.random() < 0.2:
        # An old hardening script replaced the defaults for one or all logon types.
        legacy = rng.sample(sorted(LEGACY_AUDIT_ACTIONS), rng.randrange(1, 4))
        for logon_type in legacy:
            changes[_field(logon_type)] = LEGACY_AUDIT_ACTIONS[logon_type]
        changes["default_audit_set"] = tuple(
            name for name in ("Admin", "Delegate", "Owner") if f"Audit{name}" not in legacy
        )
    return replace(settings, **changes)


def legacy_audit() -> dict[str, Any]:
    """MailboxSettings changes for a mailbox whose three audit sets an old script replaced."""
    changes: dict[str, Any] = {_field(name): actions for name, actions in
                               LEGACY_AUDIT_ACTIONS.items()}
    changes["default_audit_set"] = ()
    return changes


def _field(logon_type: str) -> str:
    return {"AuditOwner": "audit_owner", "AuditDelegate": "audit_delegate",
            "AuditAdmin": "audit_admin"}[logon_type]


def hardened_account(account: Account) -> Account:
    return replace(account, enabled=False, remote_powershell=False, auth_policy=None)


def loose_account(ctx: Context, account: Account) -> Account:
    """Sign-in left enabled on some, passwords reset by admins and handed out, sign-ins
    and spray attempts on record, remote PowerShell on as Exchange creates it."""
    rng = ctx.rng
    enabled = account.enabled if account.kind in {"service", "leaver"} else (
        rng.random() < ENABLED_SHARE.get(account.kind, 0.0))
    changes: dict[str, Any] = {
        "enabled": enabled, "remote_powershell": rng.random() < 0.85,
    }
    if account.kind in {"service", "leaver"}:
        return replace(account, **changes)
    if rng.random() < (0.5 if enabled else 0.08):
        earliest = account.created + timedelta(days=20)
        if earliest < COLLECTED_AT - timedelta(days=2):
            changes["password_changed"] = ctx.moment(earliest, COLLECTED_AT - timedelta(days=1))
    if enabled and rng.random() < 0.4:
        used = ctx.days_ago(0, 60)
        changes.update(last_sign_in=used, last_success=used,
                       last_non_interactive=used - timedelta(minutes=rng.randrange(1, 300)))
    elif enabled and rng.random() < 0.4:
        changes["last_sign_in"] = ctx.days_ago(0, 30)  # failed attempts only: sprayed
    return replace(account, **changes)
