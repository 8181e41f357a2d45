-- brute-force-account: Many failed sign-ins against one account.
-- Its metadata, thresholds and summary are in spray.py.
WITH att AS (
  SELECT event_id, time, upn, ip, is_ownerless FROM v_signin
  WHERE is_attempt AND time IS NOT NULL AND upn IS NOT NULL
), marked AS (
  SELECT *, CASE WHEN time - lag(time) OVER w <= to_seconds($max_gap_minutes * 60)
            THEN 0 ELSE 1 END AS brk
  FROM att WINDOW w AS (PARTITION BY upn ORDER BY time, event_id)
), camp AS (
  SELECT *, sum(brk) OVER (PARTITION BY upn ORDER BY time, event_id
                           ROWS UNBOUNDED PRECEDING) AS cid FROM marked
), c AS (
  SELECT upn, cid, min(time) AS first_seen, max(time) AS last_seen, count(*) AS n,
         list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS ips, bool_or(is_ownerless) AS ownerless,
         list(event_id ORDER BY time, event_id) AS ev
  FROM camp GROUP BY upn, cid HAVING count(*) >= $min_failures
), ok AS (
  SELECT c.upn, c.cid, list(s.event_id ORDER BY s.time) AS ok_events
  FROM c JOIN v_signin s ON s.upn = c.upn AND (s.success OR s.is_password_ok)
   AND s.time BETWEEN c.first_seen AND c.last_seen + to_seconds($followup_minutes * 60)
   AND list_contains(c.ips, s.ip)
  GROUP BY c.upn, c.cid
)
SELECT c.upn AS target, [c.upn] AS targets, coalesce(c.ips, []) AS source_ips,
       c.first_seen, c.last_seen, c.n AS event_count,
       CASE WHEN ok.ok_events IS NOT NULL THEN 'critical' WHEN c.ownerless THEN 'high' END
         AS severity,
       NULL AS group_key, c.first_seen AS window_start,
       to_json({'failures': c.n, 'ownerless': c.ownerless,
                'succeeded': ok.ok_events IS NOT NULL,
                -- Kept for readers of the facts; the summary is worded in spray.py.
                'succeeded_text': CASE WHEN ok.ok_events IS NOT NULL
                    THEN '; a sign-in from the same source then succeeded' ELSE '' END}) AS facts,
       list_concat(coalesce(ok.ok_events, [])[1:5], c.ev[1:$evidence_limit]) AS evidence
FROM c LEFT JOIN ok USING (upn, cid)
