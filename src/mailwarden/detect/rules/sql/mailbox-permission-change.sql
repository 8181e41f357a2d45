-- mailbox-permission-change: Access granted on an ownerless mailbox.
-- Its metadata, thresholds and summary are in mailbox.py.
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
