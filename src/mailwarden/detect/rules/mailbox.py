"""Mailbox changes from the Unified Audit Log: inbox rules, forwarding, permissions, auditing."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule
from mailwarden.detect.rules.wording import actor_or_someone
from mailwarden.model.findings import Severity

MALICIOUS_INBOX_RULE = Rule(
    id="malicious-inbox-rule", category="malicious-inbox-rule", severity=Severity.MEDIUM,
    title="Inbox rule that deletes, hides or forwards mail outside",
    description="New-InboxRule / Set-InboxRule / UpdateInboxRules that deletes messages, marks "
    "them read, moves them to a folder nobody reads (Deleted Items, Junk, RSS, Archive, "
    "Conversation History, ...), or forwards or redirects outside the verified domains. High "
    "on an ownerless mailbox, critical when it also forwards outside.",
    mitre=("T1564.008", "T1114.003"), tables=("mailbox_audits",),
    uses=("ownerless", "verified_domains"),
    summary="{inbox_rule} on {target}{set_by} {behaviour}",
    wording=lambda fields: {
        # The query names a rule without a name `(unnamed)`.
        "inbox_rule": "An unnamed inbox rule" if fields["rule"] == "(unnamed)"
                      else f"Inbox rule '{fields['rule']}'",
        "set_by": f", set by {fields['actor']}," if fields.get("actor") else ""},
)

EXTERNAL_FORWARDING = Rule(
    id="external-forwarding-set", category="external-forwarding-set", severity=Severity.HIGH,
    title="Forwarding to an outside address configured",
    description="Set-Mailbox sets ForwardingSmtpAddress (or ForwardingAddress) to an address "
    "outside the verified domains, or a transport rule redirects or copies mail outside. "
    "Critical on an ownerless mailbox.",
    mitre=("T1114.003",), tables=("mailbox_audits",), needs=("verified_domains",),
    uses=("ownerless",),
    summary="{operation}{by_actor} {forwards} outside to {destinations}",
    wording=lambda fields: {
        "by_actor": f" by {fields['actor']}" if fields.get("actor") else "",
        # A transport rule has no mailbox: it routes whatever mail it matches.
        "forwards": "routes mail" if "transportrule" in str(fields["operation"]).lower()
                    else f"forwards mail of {fields['target']}"},
)

PERMISSION_CHANGE = Rule(
    id="mailbox-permission-change", category="mailbox-permission-change", severity=Severity.MEDIUM,
    title="Access granted on an ownerless mailbox",
    description="FullAccess, SendAs or SendOnBehalf granted on an ownerless mailbox. High when "
    "the new trustee is a guest, outside the verified domains, or a departed person.",
    mitre=("T1098.002",), tables=("mailbox_audits",), needs=("ownerless",),
    uses=("guests", "departed", "verified_domains"),
    summary="{grantor} granted {rights} on ownerless mailbox {target} to "
            "{trustee}{trustee_kind}",
    wording=lambda fields: {"grantor": actor_or_someone(fields.get("actor"))},
)

AUDIT_TAMPERING = Rule(
    id="audit-tampering", category="audit-tampering", severity=Severity.HIGH,
    title="Mailbox or organisation auditing turned off or bypassed",
    description="Set-Mailbox -AuditEnabled $false, Set-OrganizationConfig -AuditDisabled $true, "
    "Set-MailboxAuditBypassAssociation -AuditBypassEnabled $true, or Set-AdminAuditLogConfig "
    "turning off audit log ingestion. Critical organisation-wide or on an ownerless mailbox.",
    mitre=("T1562.008",), tables=("mailbox_audits",), uses=("ownerless",),
    summary="{changer} {change}{scope}",
    wording=lambda fields: {"changer": actor_or_someone(fields.get("actor"))},
)

RULES: tuple[Rule, ...] = (MALICIOUS_INBOX_RULE, EXTERNAL_FORWARDING, PERMISSION_CHANGE,
                           AUDIT_TAMPERING)
