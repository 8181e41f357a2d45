-- leaver-sign-in: Successful sign-in by a departed person.
-- Its metadata, thresholds and summary are in leaver.py.
SELECT s.upn AS target, [s.upn] AS targets,
       list(DISTINCT s.ip) FILTER (WHERE s.ip IS NOT NULL) AS source_ips,
       min(s.time) AS first_seen, max(s.time) AS last_seen, count(*) AS event_count,
       NULL AS severity, NULL AS group_key, date_trunc('day', min(s.time)) AS window_start,
       to_json({'apps': list(DISTINCT s.app ORDER BY s.app) FILTER (WHERE s.app IS NOT NULL),
                'since': any_value(d.since)}) AS facts,
       list(s.event_id ORDER BY s.time)[1:$evidence_limit] AS evidence
FROM v_signin s JOIN ctx_departed d ON d.upn = s.upn
WHERE s.success AND s.time IS NOT NULL AND (d.since IS NULL OR s.time > d.since)
GROUP BY s.upn, date_trunc('day', s.time)
