-- password-reset: Password of an ownerless account reset or changed.
-- Its metadata, thresholds and summary are in directory.py.
SELECT ownerless_upn AS target,
       list_distinct(list_filter(list_prepend(ownerless_upn, list(initiator)),
                                 lambda x: x IS NOT NULL)) AS targets,
       list(DISTINCT initiator_ip) FILTER (WHERE initiator_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(initiator = ownerless_upn) THEN 'critical' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'activities': array_to_string(list(DISTINCT activity ORDER BY activity), ', '),
                'by': coalesce(array_to_string(list(DISTINCT initiator ORDER BY initiator), ', '),
                               'unknown')})
         AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_directory_target
WHERE lower(activity) IN ('reset user password', 'reset password (by admin)',
        'change user password', 'set force change user password',
        'change password (self-service)', 'reset password (self-service)',
        'user changed default security info', 'update user password')
   OR (lower(activity) LIKE '%password%' AND (lower(activity) LIKE '%reset%'
        OR lower(activity) LIKE '%change%'))
GROUP BY ownerless_upn, date_trunc('day', time)
