-- account-lockout: Account locked by smart lockout.
-- Its metadata, thresholds and summary are in spray.py.
SELECT upn AS target, [upn] AS targets,
       list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(is_ownerless) THEN 'high' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'lockouts': count(*)}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_signin WHERE is_lockout AND upn IS NOT NULL AND time IS NOT NULL
GROUP BY upn, date_trunc('day', time)
