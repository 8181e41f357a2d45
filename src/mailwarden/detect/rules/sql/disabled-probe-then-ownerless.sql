-- disabled-probe-then-ownerless: An address that tried a disabled account then signed in
-- to an ownerless one.
-- Its metadata, thresholds and summary are in leaver.py.
WITH probes AS (
  SELECT s.event_id, s.time, s.ip, s.upn FROM v_signin s
  LEFT JOIN ctx_departed d ON d.upn = s.upn
  WHERE s.ip IS NOT NULL AND s.time IS NOT NULL
    -- Shared and resource accounts are disabled by design; a departed person's own
    -- account counts even when their mailbox became ownerless.
    AND ((s.is_disabled_code AND NOT s.is_ownerless)
         OR (d.upn IS NOT NULL AND (d.since IS NULL OR s.time > d.since)))
), hits AS (
  SELECT o.event_id AS hit_id, o.time AS hit_time, o.ownerless_upn, o.ip,
         p.event_id AS probe_id, p.time AS probe_time, p.upn AS probed
  FROM v_signin o JOIN probes p ON p.ip = o.ip
  WHERE o.is_ownerless AND o.success AND o.time >= p.time AND o.upn <> p.upn
    AND o.time <= p.time + to_seconds($window_hours * 3600)
)
SELECT ownerless_upn AS target, list_distinct(list_prepend(ownerless_upn, list(probed))) AS targets,
       list(DISTINCT ip) AS source_ips, min(probe_time) AS first_seen, max(hit_time) AS last_seen,
       count(DISTINCT hit_id) + count(DISTINCT probe_id) AS event_count, NULL AS severity,
       NULL AS group_key, date_trunc('day', min(hit_time)) AS window_start,
       to_json({'probed': list(DISTINCT probed ORDER BY probed)}) AS facts,
       list_concat(list(DISTINCT probe_id)[1:10], list(DISTINCT hit_id))[1:$evidence_limit]
         AS evidence
FROM hits GROUP BY ownerless_upn, date_trunc('day', hit_time)
