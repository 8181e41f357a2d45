-- legacy-protocol-auth: Legacy-protocol authentication against an ownerless account.
-- Its metadata, thresholds and summary are in signin.py.
SELECT ownerless_upn AS target, [ownerless_upn] AS targets,
       list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(success) THEN 'high' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'protocols': list(DISTINCT client_app),
                'successes': count(*) FILTER (WHERE success),
                'failures': count(*) FILTER (WHERE NOT coalesce(success, false)),
                'codes': list(DISTINCT result_code)}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_signin WHERE is_ownerless AND legacy_protocol AND time IS NOT NULL
GROUP BY ownerless_upn, date_trunc('day', time)
