"""Thresholds an assessment uses. The defaults are the ones the SPEC and its synthetic
ground truth are written against; change them per organisation, not per run."""

from __future__ import annotations

from dataclasses import dataclass

#: Actions each logon type must audit to show abuse of a mailbox: reading mail
#: (MailItemsAccessed), sending as it (Send, SendAs, SendOnBehalf), hiding traces
#: (UpdateInboxRules, HardDelete).
REQUIRED_AUDIT_ACTIONS: dict[str, frozenset[str]] = {
    "AuditOwner": frozenset({"MailItemsAccessed", "Send", "UpdateInboxRules", "HardDelete"}),
    "AuditDelegate": frozenset(
        {"MailItemsAccessed", "SendAs", "SendOnBehalf", "UpdateInboxRules", "HardDelete"}
    ),
    "AuditAdmin": frozenset(
        {"MailItemsAccessed", "Send", "SendAs", "SendOnBehalf", "UpdateInboxRules", "HardDelete"}
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AssessOptions:
    #: A disabled delegate "left recently" when their leave date (or, without one, their
    #: last successful sign-in) is at most this many days before the snapshot.
    left_recently_days: int = 30
    #: A group with at least this many people (through nested groups) is a broad grant.
    broad_group_min: int = 100
    #: More distinct delegates (people and orphaned SIDs) than this is broad delegation.
    max_delegates: int = 25
    #: A password changed more than this long after the account was created was set by
    #: someone: Exchange sets the first one itself within seconds.
    password_reset_grace_seconds: int = 86_400
    #: Smart lockout: Microsoft's defaults are 10 failures and 60 seconds.
    lockout_threshold_max: int = 10
    lockout_duration_min_seconds: int = 60
    #: Infer custodians from group-derived FullAccess too (after direct grants). Off by
    #: default: membership of a team group says little about who answers for a mailbox.
    infer_custodian_from_groups: bool = False
    #: No activity for this many days makes an ownerless mailbox a candidate for removal.
    inactive_days: int = 180
    #: What a shared mailbox holds without a licence: "up to 50 GB" (Microsoft 365 admin
    #: docs, "Remove a license from a shared mailbox"); Exchange's GB is 1024^3 bytes.
    shared_mailbox_free_bytes: int = 50 * 1024**3
    #: A grant not used for this many days before the snapshot is dormant
    #: (`dormant-delegate`), when the audit log covers those days.
    dormant_days: int = 90
    required_audit_actions: tuple[tuple[str, frozenset[str]], ...] = tuple(
        REQUIRED_AUDIT_ACTIONS.items()
    )
