-- ownerless-sign-in: Successful sign-in by an ownerless mailbox's account.
-- Its metadata, thresholds and summary are in signin.py.
SELECT ownerless_upn AS target, [ownerless_upn] AS targets,
       list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(legacy_protocol) THEN 'critical' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'protocols': list(DISTINCT coalesce(client_app, 'unknown client')
                                  ORDER BY coalesce(client_app, 'unknown client')),
                'apps': list(DISTINCT app ORDER BY app) FILTER (WHERE app IS NOT NULL),
                'countries': list(DISTINCT country ORDER BY country)
                             FILTER (WHERE country IS NOT NULL),
                'legacy': bool_or(legacy_protocol)}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_signin WHERE is_ownerless AND success AND time IS NOT NULL
  -- A leaver's unlicensed mailbox was their own until they left.
  AND NOT EXISTS (SELECT 1 FROM ctx_departed d WHERE d.upn = v_signin.ownerless_upn
                  AND d.since IS NOT NULL AND v_signin.time <= d.since)
GROUP BY ownerless_upn, date_trunc('day', time)
