-- leaver-mailbox-activity: Mailbox activity by a departed person.
-- Its metadata, thresholds and summary are in leaver.py.
SELECT coalesce(m.target_mailbox, m.actor) AS target,
       list_distinct([m.actor, coalesce(m.target_mailbox, m.actor)]) AS targets,
       list(DISTINCT m.client_ip) FILTER (WHERE m.client_ip IS NOT NULL) AS source_ips,
       min(m.time) AS first_seen, max(m.time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(m.ownerless_upn IS NOT NULL) THEN 'critical' END AS severity,
       m.actor AS group_key, date_trunc('day', min(m.time)) AS window_start,
       to_json({'person': m.actor, 'operations': list(DISTINCT m.operation ORDER BY m.operation),
                'since': any_value(d.since)}) AS facts,
       list(m.event_id ORDER BY m.time)[1:$evidence_limit] AS evidence
FROM v_mailbox m JOIN ctx_departed d ON d.upn = m.actor
WHERE m.time IS NOT NULL AND (d.since IS NULL OR m.time > d.since)
GROUP BY coalesce(m.target_mailbox, m.actor), m.actor, date_trunc('day', m.time)
