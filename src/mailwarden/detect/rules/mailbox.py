"""Mailbox changes from the Unified Audit Log: inbox rules, forwarding, permissions, auditing."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule
from mailwarden.model.findings import Severity

#: Folders a hiding rule moves mail to (Sentinel and Elastic watch the same ones).
_HIDING_FOLDERS = ("deleted items", "junk email", "rss feeds", "rss subscriptions",
                   "conversation history", "archive", "notes", "sync issues", "outbox",
                   "junk e-mail", "recoverable items")
_FOLDER_LIST = "[" + ", ".join(f"'{name}'" for name in _HIDING_FOLDERS) + "]"

MALICIOUS_INBOX_RULE = Rule(
    id="malicious-inbox-rule", category="malicious-inbox-rule", severity=Severity.MEDIUM,
    title="Inbox rule that deletes, hides or forwards mail outside",
    description="New-InboxRule / Set-InboxRule / UpdateInboxRules that deletes messages, marks "
    "them read, moves them to a folder nobody reads (Deleted Items, Junk, RSS, Archive, "
    "Conversation History, ...), or forwards or redirects outside the verified domains. High "
    "on an ownerless mailbox, critical when it also forwards outside.",
    mitre=("T1564.008", "T1114.003"), tables=("mailbox_audits",),
    uses=("ownerless", "verified_domains"),
    sql=f"""
WITH r AS (
  SELECT *,
    coalesce(mw_bool(mw_param(parameters, 'deletemessage')), false)
      OR coalesce(mw_bool(mw_param(parameters, 'softdeletemessage')), false)
      OR regexp_matches(coalesce(mw_param(parameters, 'ruleactions'), ''), '(?i)delete')
      AS deletes,
    coalesce(mw_bool(mw_param(parameters, 'markasread')), false)
      OR regexp_matches(coalesce(mw_param(parameters, 'ruleactions'), ''), '(?i)markasread')
      AS marks_read,
    list_contains({_FOLDER_LIST},
      lower(regexp_replace(coalesce(mw_param(parameters, 'movetofolder'), ''), '^.*[\\\\:]', '')))
      AS hides,
    mw_addresses(concat_ws(' ', mw_param(parameters, 'forwardto'),
      mw_param(parameters, 'forwardasattachmentto'), mw_param(parameters, 'redirectto'),
      CASE WHEN regexp_matches(coalesce(mw_param(parameters, 'ruleactions'), ''),
                               '(?i)forward|redirect')
           THEN mw_param(parameters, 'ruleactions') END)) AS forwards,
    coalesce(mw_param(parameters, 'name'), mw_param(parameters, 'rulename'),
             regexp_extract(coalesce(object_id, ''), '\\\\([^\\\\]+)$', 1)) AS rule_name
  FROM v_mailbox
  WHERE operation IN ('New-InboxRule', 'Set-InboxRule', 'UpdateInboxRules', 'Enable-InboxRule')
), j AS (
  SELECT r.*, CASE WHEN len(d.domains) > 0 THEN mw_external(forwards, d.domains)
                   ELSE []::VARCHAR[] END AS external
  FROM r CROSS JOIN v_domains d
)
SELECT coalesce(ownerless_upn, target_mailbox) AS target,
       list_distinct(list_prepend(coalesce(ownerless_upn, target_mailbox),
                                  list(actor) FILTER (WHERE actor IS NOT NULL))) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(ownerless_upn IS NOT NULL) AND bool_or(len(external) > 0) THEN 'critical'
            WHEN bool_or(ownerless_upn IS NOT NULL) OR bool_or(len(external) > 0) THEN 'high'
       END AS severity,
       coalesce(rule_name, '') AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({{'rule': coalesce(any_value(rule_name), '(unnamed)'), 'actor': any_value(actor),
                'behaviour': array_to_string(list_filter(
                    [CASE WHEN bool_or(deletes) THEN 'deletes mail' END,
                     CASE WHEN bool_or(marks_read) THEN 'marks mail read' END,
                     CASE WHEN bool_or(hides) THEN 'moves mail to '
                       || any_value(mw_param(parameters, 'movetofolder')) END,
                     CASE WHEN bool_or(len(external) > 0) THEN 'forwards outside to '
                       || array_to_string(list_distinct(flatten(list(external))), ', ') END],
                    lambda x: x IS NOT NULL), ', '),
                'ownerless': bool_or(ownerless_upn IS NOT NULL)}}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM j
WHERE deletes OR marks_read OR hides OR len(external) > 0
GROUP BY coalesce(ownerless_upn, target_mailbox), coalesce(rule_name, ''),
         date_trunc('day', time)
""",
    summary="Inbox rule '{rule}' on {target} by {actor} {behaviour}",
)

EXTERNAL_FORWARDING = Rule(
    id="external-forwarding-set", category="external-forwarding-set", severity=Severity.HIGH,
    title="Forwarding to an outside address configured",
    description="Set-Mailbox sets ForwardingSmtpAddress (or ForwardingAddress) to an address "
    "outside the verified domains, or a transport rule redirects or copies mail outside. "
    "Critical on an ownerless mailbox.",
    mitre=("T1114.003",), tables=("mailbox_audits",), needs=("verified_domains",),
    uses=("ownerless",),
    sql="""
WITH f AS (
  SELECT *, mw_external(mw_addresses(concat_ws(' ',
      mw_param(parameters, 'forwardingsmtpaddress'), mw_param(parameters, 'forwardingaddress'),
      mw_param(parameters, 'redirectmessageto'), mw_param(parameters, 'blindcopyto'),
      mw_param(parameters, 'copyto'), mw_param(parameters, 'addtorecipients'))), d.domains)
      AS external
  FROM v_mailbox CROSS JOIN v_domains d
  WHERE operation IN ('Set-Mailbox', 'New-Mailbox', 'New-TransportRule', 'Set-TransportRule')
)
SELECT CASE WHEN operation ILIKE '%transportrule%' THEN NULL
            ELSE coalesce(ownerless_upn, target_mailbox) END AS target,
       list_distinct(list_concat([coalesce(ownerless_upn, target_mailbox)], external)) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(ownerless_upn IS NOT NULL) THEN 'critical' END AS severity,
       array_to_string(external, ',') AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'destinations': array_to_string(external, ', '), 'actor': any_value(actor),
                'operation': operation}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM f WHERE len(external) > 0
GROUP BY operation, coalesce(ownerless_upn, target_mailbox), external, date_trunc('day', time)
""",
    summary="{operation} by {actor} forwards mail of {target} outside to {destinations}",
)

PERMISSION_CHANGE = Rule(
    id="mailbox-permission-change", category="mailbox-permission-change", severity=Severity.MEDIUM,
    title="Access granted on an ownerless mailbox",
    description="FullAccess, SendAs or SendOnBehalf granted on an ownerless mailbox. High when "
    "the new trustee is a guest, outside the verified domains, or a departed person.",
    mitre=("T1098.002",), tables=("mailbox_audits",), needs=("ownerless",),
    uses=("guests", "departed", "verified_domains"),
    sql="""
WITH g AS (
  SELECT *,
    lower(coalesce(mw_param(parameters, 'user'), mw_param(parameters, 'trustee'),
                   mw_param(parameters, 'grantsendonbehalfto'))) AS trustee,
    CASE WHEN operation = 'Add-RecipientPermission' THEN 'SendAs'
         WHEN operation = 'Set-Mailbox' THEN 'SendOnBehalf'
         ELSE coalesce(mw_param(parameters, 'accessrights'), 'FullAccess') END AS access_right
  FROM v_mailbox
  WHERE ownerless_upn IS NOT NULL AND (operation IN ('Add-MailboxPermission',
        'Add-RecipientPermission', 'Add-MailboxFolderPermission')
     OR (operation = 'Set-Mailbox' AND mw_param(parameters, 'grantsendonbehalfto') IS NOT NULL))
), judged AS (
  SELECT *,
    trustee LIKE '%#ext#%' OR trustee IN (SELECT upn FROM ctx_guests) AS guest,
    trustee IN (SELECT upn FROM ctx_departed) AS departed,
    len(d.domains) > 0 AND contains(trustee, '@')
      AND len(mw_external([trustee], d.domains)) > 0 AS external
  FROM g CROSS JOIN v_domains d
)
SELECT ownerless_upn AS target, list_distinct([ownerless_upn, trustee]) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(guest OR departed OR external) THEN 'high' END AS severity,
       coalesce(trustee, '') AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'trustee': coalesce(trustee, 'an unnamed trustee'),
                'rights': array_to_string(list(DISTINCT access_right ORDER BY access_right), ', '),
                'actor': any_value(actor),
                'trustee_kind': CASE WHEN bool_or(guest) THEN ' (a guest)'
                                     WHEN bool_or(departed) THEN ' (a departed person)'
                                     WHEN bool_or(external) THEN ' (outside the organisation)'
                                     ELSE '' END}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM judged GROUP BY ownerless_upn, trustee, date_trunc('day', time)
""",
    summary="{actor} granted {rights} on ownerless mailbox {target} to {trustee}{trustee_kind}",
)

AUDIT_TAMPERING = Rule(
    id="audit-tampering", category="audit-tampering", severity=Severity.HIGH,
    title="Mailbox or organisation auditing turned off or bypassed",
    description="Set-Mailbox -AuditEnabled $false, Set-OrganizationConfig -AuditDisabled $true, "
    "Set-MailboxAuditBypassAssociation -AuditBypassEnabled $true, or Set-AdminAuditLogConfig "
    "turning off audit log ingestion. Critical organisation-wide or on an ownerless mailbox.",
    mitre=("T1562.008",), tables=("mailbox_audits",), uses=("ownerless",),
    sql="""
WITH t AS (
  SELECT *, CASE
    WHEN operation = 'Set-Mailbox'
         AND mw_bool(mw_param(parameters, 'auditenabled')) = false
      THEN 'turned mailbox auditing off'
    WHEN operation = 'Set-MailboxAuditBypassAssociation'
         AND mw_bool(mw_param(parameters, 'auditbypassenabled'))
      THEN 'added an audit bypass'
    WHEN operation = 'Set-OrganizationConfig'
         AND mw_bool(mw_param(parameters, 'auditdisabled'))
      THEN 'turned mailbox auditing off for the organisation'
    WHEN operation = 'Set-AdminAuditLogConfig' AND (
         mw_bool(mw_param(parameters, 'unifiedauditlogingestionenabled')) = false
      OR mw_bool(mw_param(parameters, 'adminauditlogenabled')) = false)
      THEN 'turned audit log ingestion off'
    END AS change
  FROM v_mailbox
)
SELECT CASE WHEN operation IN ('Set-Mailbox', 'Set-MailboxAuditBypassAssociation')
            THEN coalesce(ownerless_upn, target_mailbox) END AS target,
       list_distinct(list_filter(list_prepend(coalesce(ownerless_upn, target_mailbox),
                                              list(actor)), lambda x: x IS NOT NULL)) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN operation IN ('Set-OrganizationConfig', 'Set-AdminAuditLogConfig')
              OR bool_or(ownerless_upn IS NOT NULL) THEN 'critical' END AS severity,
       change AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'change': change, 'actor': any_value(actor),
                'scope': CASE WHEN operation IN ('Set-Mailbox', 'Set-MailboxAuditBypassAssociation')
                              THEN ' on ' || coalesce(any_value(ownerless_upn),
                                                      any_value(target_mailbox), '?')
                              ELSE '' END}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM t WHERE change IS NOT NULL
GROUP BY operation, change, coalesce(ownerless_upn, target_mailbox), date_trunc('day', time)
""",
    summary="{actor} {change}{scope}",
)

RULES: tuple[Rule, ...] = (MALICIOUS_INBOX_RULE, EXTERNAL_FORWARDING, PERMISSION_CHANGE,
                           AUDIT_TAMPERING)
