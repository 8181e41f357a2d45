-- sign-in-unblocked: Ownerless account enabled again.
-- Its metadata, thresholds and summary are in directory.py.
SELECT ownerless_upn AS target,
       list_distinct(list_filter(list_prepend(ownerless_upn, list(initiator)),
                                 lambda x: x IS NOT NULL)) AS targets,
       list(DISTINCT initiator_ip) FILTER (WHERE initiator_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       NULL AS severity, NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'by': coalesce(array_to_string(list(DISTINCT initiator ORDER BY initiator), ', '),
                               'unknown')})
         AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_directory_target
WHERE lower(activity) = 'enable account'
   OR (lower(activity) = 'update user' AND len(list_filter(modified_properties,
        lambda p: lower(p.name) = 'accountenabled'
                  AND regexp_matches(coalesce(p.new_value, ''), '(?i)true'))) > 0)
GROUP BY ownerless_upn, date_trunc('day', time)
