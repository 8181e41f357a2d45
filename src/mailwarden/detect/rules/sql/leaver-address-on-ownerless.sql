-- leaver-address-on-ownerless: Ownerless account used from a departed person's address or device.
-- Its metadata, thresholds and summary are in leaver.py.
WITH popularity AS (
  -- A leaver's own sign-ins count even when their mailbox became ownerless.
  SELECT ip, count(DISTINCT upn) AS accounts FROM v_signin
  WHERE success AND ip IS NOT NULL
    AND (NOT is_ownerless OR upn IN (SELECT upn FROM ctx_departed))
  GROUP BY ip
), leaver_marks AS (
  SELECT DISTINCT 'ip' AS mark, s.ip AS value, d.upn AS leaver, d.since
  FROM v_signin s JOIN ctx_departed d ON d.upn = s.upn
  JOIN popularity p ON p.ip = s.ip
  WHERE s.success AND p.accounts <= $max_ip_accounts
  UNION
  SELECT DISTINCT 'device', s.device_id, d.upn, d.since
  FROM v_signin s JOIN ctx_departed d ON d.upn = s.upn
  WHERE s.success AND s.device_id IS NOT NULL
), hits AS (
  SELECT o.*, l.leaver, l.mark, l.since FROM v_signin o JOIN leaver_marks l
    ON (l.mark = 'ip' AND o.ip = l.value) OR (l.mark = 'device' AND o.device_id = l.value)
  WHERE o.is_ownerless AND o.success AND o.time IS NOT NULL AND o.upn <> l.leaver
    AND (l.since IS NULL OR o.time > l.since)
)
SELECT ownerless_upn AS target, list_distinct([ownerless_upn, leaver]) AS targets,
       list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(DISTINCT event_id) AS event_count,
       NULL AS severity, leaver AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'person': leaver, 'marks': list(DISTINCT mark ORDER BY mark)}) AS facts,
       list(DISTINCT event_id)[1:$evidence_limit] AS evidence
FROM hits GROUP BY ownerless_upn, leaver, date_trunc('day', time)
