"""Mailbox changes from the Unified Audit Log: inbox rules, forwarding, permissions, auditing."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule

MALICIOUS_INBOX_RULE = Rule(
    id="malicious-inbox-rule", category="malicious-inbox-rule", severity="medium",
    title="Inbox rule that deletes, hides or forwards mail outside",
    description="New-InboxRule / Set-InboxRule / UpdateInboxRules that deletes messages, marks "
    "them read, moves them to a folder nobody reads (Deleted Items, Junk, RSS, Archive, "
    "Conversation History, ...), or forwards or redirects outside the verified domains. High "
    "on an ownerless mailbox, critical when it also forwards outside.",
    mitre=("T1564.008", "T1114.003"), tables=("mailbox_audits",),
    uses=("ownerless", "verified_domains"),
    summary="Inbox rule '{rule}' on {target} by {actor} {behaviour}",
)

EXTERNAL_FORWARDING = Rule(
    id="external-forwarding-set", category="external-forwarding-set", severity="high",
    title="Forwarding to an outside address configured",
    description="Set-Mailbox sets ForwardingSmtpAddress (or ForwardingAddress) to an address "
    "outside the verified domains, or a transport rule redirects or copies mail outside. "
    "Critical on an ownerless mailbox.",
    mitre=("T1114.003",), tables=("mailbox_audits",), needs=("verified_domains",),
    uses=("ownerless",),
    summary="{operation} by {actor} forwards mail of {target} outside to {destinations}",
)

PERMISSION_CHANGE = Rule(
    id="mailbox-permission-change", category="mailbox-permission-change", severity="medium",
    title="Access granted on an ownerless mailbox",
    description="FullAccess, SendAs or SendOnBehalf granted on an ownerless mailbox. High when "
    "the new trustee is a guest, outside the verified domains, or a departed person.",
    mitre=("T1098.002",), tables=("mailbox_audits",), needs=("ownerless",),
    uses=("guests", "departed", "verified_domains"),
    summary="{actor} granted {rights} on ownerless mailbox {target} to {trustee}{trustee_kind}",
)

AUDIT_TAMPERING = Rule(
    id="audit-tampering", category="audit-tampering", severity="high",
    title="Mailbox or organisation auditing turned off or bypassed",
    description="Set-Mailbox -AuditEnabled $false, Set-OrganizationConfig -AuditDisabled $true, "
    "Set-MailboxAuditBypassAssociation -AuditBypassEnabled $true, or Set-AdminAuditLogConfig "
    "turning off audit log ingestion. Critical organisation-wide or on an ownerless mailbox.",
    mitre=("T1562.008",), tables=("mailbox_audits",), uses=("ownerless",),
    summary="{actor} {change}{scope}",
)

RULES: tuple[Rule, ...] = (MALICIOUS_INBOX_RULE, EXTERNAL_FORWARDING, PERMISSION_CHANGE,
                           AUDIT_TAMPERING)
