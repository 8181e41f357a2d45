-- mass-send: Ownerless mailbox sends far more than usual.
-- Its metadata, thresholds and summary are in access.py.
WITH sends AS (
  SELECT * FROM v_mailbox
  WHERE ownerless_upn IS NOT NULL AND NOT is_system AND time IS NOT NULL
    AND operation IN ('Send', 'SendAs', 'SendOnBehalf')
), daily AS (
  SELECT ownerless_upn, date_trunc('day', time) AS day, count(*) AS n,
         max(recipient_count) AS max_recipients, min(time) AS first_seen, max(time) AS last_seen,
         list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS ips,
         list(DISTINCT actor ORDER BY actor) FILTER (WHERE actor IS NOT NULL) AS actors,
         list(event_id ORDER BY time) AS ev
  FROM sends GROUP BY ownerless_upn, date_trunc('day', time)
), based AS (
  SELECT *, avg(n) OVER w AS baseline, count(*) OVER w AS history_days
  FROM daily WINDOW w AS (PARTITION BY ownerless_upn ORDER BY day
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT ownerless_upn AS target, list_distinct(list_prepend(ownerless_upn, actors)) AS targets,
       ips AS source_ips, first_seen, last_seen, n AS event_count, NULL AS severity,
       NULL AS group_key, day AS window_start,
       to_json({'sends': n, 'baseline': round(coalesce(baseline, 0), 1),
                'max_recipients': coalesce(max_recipients, 0),
                'senders': array_to_string(actors, ', ')}) AS facts,
       ev[1:$evidence_limit] AS evidence
FROM based
WHERE (history_days >= $min_history_days AND n >= $min_sends AND n >= $factor * baseline)
   OR (history_days < $min_history_days AND n >= $min_sends_without_baseline)
   OR coalesce(max_recipients, 0) >= $min_recipients
