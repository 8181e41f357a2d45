-- external-forwarding-set: Forwarding to an outside address configured.
-- Its metadata, thresholds and summary are in mailbox.py.
WITH f AS (
  SELECT *, mw_external(mw_addresses(concat_ws(' ',
      mw_param(parameters, 'forwardingsmtpaddress'), mw_param(parameters, 'forwardingaddress'),
      mw_param(parameters, 'redirectmessageto'), mw_param(parameters, 'blindcopyto'),
      mw_param(parameters, 'copyto'), mw_param(parameters, 'addtorecipients'))), d.domains)
      AS external
  FROM v_mailbox CROSS JOIN v_domains d
  WHERE operation IN ('Set-Mailbox', 'New-Mailbox', 'New-TransportRule', 'Set-TransportRule')
)
SELECT CASE WHEN operation ILIKE '%transportrule%' THEN NULL
            ELSE coalesce(ownerless_upn, target_mailbox) END AS target,
       list_distinct(list_concat([coalesce(ownerless_upn, target_mailbox)], external)) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(ownerless_upn IS NOT NULL) THEN 'critical' END AS severity,
       array_to_string(external, ',') AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'destinations': array_to_string(external, ', '), 'actor': any_value(actor),
                'operation': operation}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM f WHERE len(external) > 0
GROUP BY operation, coalesce(ownerless_upn, target_mailbox), external, date_trunc('day', time)
