-- Password spray campaigns: one table macro the three spray rules share (sql/spray-*.sql),
-- each grouping the guesses by its own source. `source_key` names that source (a column
-- of v_signin: ip, ip_prefix or user_agent), `source_kind` says it in words for the
-- facts; the thresholds are the rules' bound parameters, passed through. See spray.py
-- for what a campaign, a typo and a proof are.
CREATE OR REPLACE MACRO mw_password_spray(source_key, source_kind, min_accounts, min_ips,
    max_gap_hours, min_failed_share, typo_minutes, followup_hours, population_hours,
    evidence_limit) AS TABLE
WITH src AS NOT MATERIALIZED (
  SELECT *, CASE source_key WHEN 'ip' THEN ip WHEN 'ip_prefix' THEN ip_prefix
                            WHEN 'user_agent' THEN user_agent
                            ELSE error('unknown spray source ' || source_key) END AS k
  FROM v_signin
), att AS (
  SELECT event_id, time, upn, ip, k FROM src
  WHERE is_attempt AND time IS NOT NULL AND upn IS NOT NULL AND k IS NOT NULL
), marked AS (
  SELECT *, CASE WHEN time - lag(time) OVER w <= to_seconds(max_gap_hours * 3600)
            THEN 0 ELSE 1 END AS brk
  FROM att WINDOW w AS (PARTITION BY k ORDER BY time, event_id)
), camp AS (
  SELECT *, sum(brk) OVER (PARTITION BY k ORDER BY time, event_id
                           ROWS UNBOUNDED PRECEDING) AS cid FROM marked
), c AS (
  SELECT k, cid, min(time) AS first_seen, max(time) AS last_seen, count(*) AS attempts,
         count(DISTINCT upn) AS n_failed, list(DISTINCT ip) AS ips,
         list(event_id ORDER BY time, event_id) AS ev
  FROM camp GROUP BY k, cid
  HAVING count(DISTINCT upn) >= min_accounts AND count(DISTINCT ip) >= min_ips
), fails AS (
  SELECT camp.k, camp.cid, camp.upn, camp.event_id, camp.time
  FROM camp SEMI JOIN c USING (k, cid)
), seen AS (
  SELECT c.k, c.cid, count(DISTINCT s.upn) AS seen_accounts
  FROM c JOIN src s ON s.k = c.k
   AND s.time BETWEEN c.first_seen - to_seconds(population_hours * 3600)
                  AND c.last_seen + to_seconds(greatest(population_hours,
                                                        followup_hours) * 3600)
  WHERE s.upn IS NOT NULL
  GROUP BY c.k, c.cid
), oks AS (
  -- Successes, and answers that show the password was right, from the sources: they
  -- resolve a typo or prove a guess.
  SELECT s.k, s.upn, s.time, s.event_id
  FROM src s
  WHERE (s.success OR s.is_password_ok) AND s.time IS NOT NULL AND s.upn IS NOT NULL
    AND s.k IN (SELECT k FROM c)
), typos AS (
  -- A failure followed within typo_minutes by a success of the same account from the
  -- same source. Joined on the typo window's bucket (the next one may hold the success
  -- too) rather than on the account alone, which would pair every failure with every
  -- success of the account.
  SELECT DISTINCT f.k, f.cid, f.upn
  FROM (SELECT *, floor(epoch(time) / (typo_minutes * 60)) + unnest([0, 1]) AS bucket
        FROM fails) f
  JOIN (SELECT *, floor(epoch(time) / (typo_minutes * 60)) AS bucket FROM oks) o
    ON o.k = f.k AND o.upn = f.upn AND o.bucket = f.bucket
   AND (o.time > f.time OR (o.time = f.time AND o.event_id > f.event_id))
   AND o.time <= f.time + to_seconds(typo_minutes * 60)
), proofs AS (
  -- Any account the source got into during or after the campaign, failed or not: a
  -- guess may be right the first time.
  SELECT c.k, c.cid, o.upn, min_by(o.event_id, o.time, 3) AS ok_events
  FROM c JOIN oks o ON o.k = c.k
   AND o.time BETWEEN c.first_seen AND c.last_seen + to_seconds(followup_hours * 3600)
  GROUP BY c.k, c.cid, o.upn
), per_account AS (
  SELECT k, cid, upn, f.upn IS NOT NULL AS failed, t.upn IS NOT NULL AS resolved,
         p.ok_events
  FROM (SELECT DISTINCT k, cid, upn FROM fails) f
  FULL JOIN proofs p USING (k, cid, upn)
  LEFT JOIN typos t USING (k, cid, upn)
), stats AS (
  SELECT k, cid,
         count(*) FILTER (WHERE failed AND NOT resolved) AS unresolved,
         any_value(seen.seen_accounts) AS seen_accounts,
         list(upn ORDER BY upn) FILTER (WHERE failed) AS failed_accounts,
         list(upn ORDER BY upn) FILTER (WHERE ok_events IS NOT NULL) AS proven,
         flatten(list(ok_events ORDER BY upn) FILTER (WHERE ok_events IS NOT NULL))
           AS proof_events
  FROM per_account JOIN seen USING (k, cid) GROUP BY k, cid
)
SELECT NULL::VARCHAR AS target,
       list_distinct(list_concat(coalesce(s.failed_accounts, []), coalesce(s.proven, [])))
         AS targets,
       c.ips AS source_ips, c.first_seen, c.last_seen, c.attempts AS event_count,
       CASE WHEN len(coalesce(s.proven, [])) > 0 THEN 'critical' END AS severity,
       c.k AS group_key, c.first_seen AS window_start,
       to_json({'source': c.k, 'source_kind': source_kind, 'accounts': c.n_failed,
                'unresolved': s.unresolved, 'seen': s.seen_accounts, 'ips': len(c.ips),
                'proven': coalesce(s.proven, []),
                -- An older wording of the proof, kept for readers of the facts; the
                -- summary is worded from `proven` in spray.py.
                'proven_text': CASE WHEN len(coalesce(s.proven, [])) > 0
                    THEN '; the password was right for ' || array_to_string(s.proven[1:5], ', ')
                    ELSE '' END,
                'ownerless_targets': list_filter(coalesce(s.failed_accounts, []),
                    lambda u: list_contains(o.ownerless, u))}) AS facts,
       list_concat(coalesce(s.proof_events, [])[1:10], c.ev[1:evidence_limit]) AS evidence
FROM c JOIN stats s USING (k, cid) CROSS JOIN v_ownerless_list o
WHERE s.unresolved >= min_accounts AND s.unresolved >= min_failed_share * s.seen_accounts;
