-- malicious-inbox-rule: Inbox rule that deletes, hides or forwards mail outside.
-- Its metadata, thresholds and summary are in mailbox.py.
WITH r AS (
  SELECT *,
    coalesce(mw_bool(mw_param(parameters, 'deletemessage')), false)
      OR coalesce(mw_bool(mw_param(parameters, 'softdeletemessage')), false)
      OR regexp_matches(coalesce(mw_param(parameters, 'ruleactions'), ''), '(?i)delete')
      AS deletes,
    coalesce(mw_bool(mw_param(parameters, 'markasread')), false)
      OR regexp_matches(coalesce(mw_param(parameters, 'ruleactions'), ''), '(?i)markasread')
      AS marks_read,
    -- Folders a hiding rule moves mail to (Sentinel and Elastic watch the same ones).
    list_contains(['deleted items', 'junk email', 'rss feeds', 'rss subscriptions',
                   'conversation history', 'archive', 'notes', 'sync issues', 'outbox',
                   'junk e-mail', 'recoverable items'],
      lower(regexp_replace(coalesce(mw_param(parameters, 'movetofolder'), ''), '^.*[\\:]', '')))
      AS hides,
    mw_addresses(concat_ws(' ', mw_param(parameters, 'forwardto'),
      mw_param(parameters, 'forwardasattachmentto'), mw_param(parameters, 'redirectto'),
      CASE WHEN regexp_matches(coalesce(mw_param(parameters, 'ruleactions'), ''),
                               '(?i)forward|redirect')
           THEN mw_param(parameters, 'ruleactions') END)) AS forwards,
    coalesce(mw_param(parameters, 'name'), mw_param(parameters, 'rulename'),
             regexp_extract(coalesce(object_id, ''), '\\([^\\]+)$', 1)) AS rule_name
  FROM v_mailbox
  WHERE operation IN ('New-InboxRule', 'Set-InboxRule', 'UpdateInboxRules', 'Enable-InboxRule')
), j AS (
  SELECT r.*, CASE WHEN len(d.domains) > 0 THEN mw_external(forwards, d.domains)
                   ELSE []::VARCHAR[] END AS external
  FROM r CROSS JOIN v_domains d
)
SELECT coalesce(ownerless_upn, target_mailbox) AS target,
       list_distinct(list_prepend(coalesce(ownerless_upn, target_mailbox),
                                  list(actor) FILTER (WHERE actor IS NOT NULL))) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(ownerless_upn IS NOT NULL) AND bool_or(len(external) > 0) THEN 'critical'
            WHEN bool_or(ownerless_upn IS NOT NULL) OR bool_or(len(external) > 0) THEN 'high'
       END AS severity,
       coalesce(rule_name, '') AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'rule': coalesce(any_value(rule_name), '(unnamed)'), 'actor': any_value(actor),
                'behaviour': array_to_string(list_filter(
                    [CASE WHEN bool_or(deletes) THEN 'deletes mail' END,
                     CASE WHEN bool_or(marks_read) THEN 'marks mail read' END,
                     CASE WHEN bool_or(hides) THEN 'moves mail to '
                       || any_value(mw_param(parameters, 'movetofolder')) END,
                     CASE WHEN bool_or(len(external) > 0) THEN 'forwards outside to '
                       || array_to_string(list_distinct(flatten(list(external))), ', ') END],
                    lambda x: x IS NOT NULL), ', '),
                'ownerless': bool_or(ownerless_upn IS NOT NULL)}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM j
WHERE deletes OR marks_read OR hides OR len(external) > 0
GROUP BY coalesce(ownerless_upn, target_mailbox), coalesce(rule_name, ''),
         date_trunc('day', time)
