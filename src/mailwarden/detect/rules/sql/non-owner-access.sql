-- non-owner-access: Ownerless mailbox used by someone without a grant.
-- Its metadata, thresholds and summary are in access.py.
WITH a AS (
  SELECT *, CASE operation WHEN 'SendAs' THEN 'SendAs' WHEN 'SendOnBehalf' THEN 'SendOnBehalf'
                 ELSE 'FullAccess' END AS needed
  FROM v_mailbox
  WHERE ownerless_upn IS NOT NULL AND NOT is_system AND actor IS NOT NULL AND time IS NOT NULL
    AND operation IN ('MailItemsAccessed', 'FolderBind', 'MessageBind', 'Send', 'SendAs',
                      'SendOnBehalf', 'HardDelete', 'SoftDelete', 'MoveToDeletedItems', 'Move',
                      'Update', 'Create', 'Copy', 'UpdateInboxRules', 'SearchQueryInitiated')
    AND actor NOT IN (SELECT key FROM ctx_ownerless_keys k WHERE k.upn = ownerless_upn)
), judged AS (
  SELECT a.*,
    EXISTS (SELECT 1 FROM ctx_grants g WHERE g.mailbox = a.ownerless_upn AND g.trustee = a.actor
            AND g.access_right = a.needed
            AND (g.active OR (g.removed_at IS NOT NULL AND a.time < g.removed_at))) AS allowed,
    EXISTS (SELECT 1 FROM ctx_grants g WHERE g.mailbox = a.ownerless_upn AND g.trustee = a.actor
            AND NOT g.active) AS had_grant
  FROM a
)
SELECT ownerless_upn AS target, list_distinct([ownerless_upn, actor]) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       NULL AS severity, actor AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'actor': actor,
                'operations': array_to_string(list(DISTINCT operation ORDER BY operation), ', '),
                'why': CASE WHEN bool_or(had_grant) THEN 'whose grant was removed'
                            ELSE 'who holds no grant' END}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM judged WHERE NOT allowed
GROUP BY ownerless_upn, actor, date_trunc('day', time)
