-- ownerless-owner-logon: Mailbox opened as its own ownerless account.
-- Its metadata, thresholds and summary are in signin.py.
SELECT ownerless_upn AS target, [ownerless_upn] AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       NULL AS severity, NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'operations': list(DISTINCT operation ORDER BY operation),
                'clients': list(DISTINCT client_info ORDER BY client_info)
                           FILTER (WHERE client_info IS NOT NULL)})
         AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_mailbox
WHERE ownerless_upn IS NOT NULL AND NOT is_system AND time IS NOT NULL
  AND logon_type = 'owner'
  AND actor IN (SELECT key FROM ctx_ownerless_keys k WHERE k.upn = v_mailbox.ownerless_upn)
  AND NOT EXISTS (SELECT 1 FROM ctx_departed d WHERE d.upn = v_mailbox.ownerless_upn
                  AND d.since IS NOT NULL AND v_mailbox.time <= d.since)
GROUP BY ownerless_upn, date_trunc('day', time)
