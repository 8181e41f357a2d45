-- audit-tampering: Mailbox or organisation auditing turned off or bypassed.
-- Its metadata, thresholds and summary are in mailbox.py.
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
