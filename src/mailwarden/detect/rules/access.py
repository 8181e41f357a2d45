"""Who reads or sends from ownerless mailboxes: access without a grant, and mass sending."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule, threshold
from mailwarden.model.findings import Severity

NON_OWNER_ACCESS = Rule(
    id="non-owner-access", category="non-owner-access", severity=Severity.HIGH,
    title="Ownerless mailbox used by someone without a grant",
    description="Items read, moved or deleted, or mail sent, on an ownerless mailbox by a person "
    "who holds no FullAccess / SendAs / SendOnBehalf grant on it per the access map, or whose "
    "grant was removed before the access. Calendar processing and system accounts are ignored.",
    mitre=("T1114.002",), tables=("mailbox_audits",), needs=("ownerless", "grants"),
    sql="""
WITH a AS (
  SELECT *, CASE operation WHEN 'SendAs' THEN 'SendAs' WHEN 'SendOnBehalf' THEN 'SendOnBehalf'
                 ELSE 'FullAccess' END AS needed
  FROM v_mailbox
  WHERE ownerless_upn IS NOT NULL AND NOT is_system AND actor IS NOT NULL AND time IS NOT NULL
    AND operation IN ('MailItemsAccessed', 'FolderBind', 'MessageBind', 'Send', 'SendAs',
                      'SendOnBehalf', 'HardDelete', 'SoftDelete', 'MoveToDeletedItems', 'Move',
                      'Update', 'Create', 'Copy', 'UpdateInboxRules', 'SearchQueryInitiated')
    AND actor NOT IN (SELECT key FROM ctx_ownerless_keys k WHERE k.upn = ownerless_upn)
), judged AS (
  SELECT a.*,
    EXISTS (SELECT 1 FROM ctx_grants g WHERE g.mailbox = a.ownerless_upn AND g.trustee = a.actor
            AND g.access_right = a.needed
            AND (g.active OR (g.removed_at IS NOT NULL AND a.time < g.removed_at))) AS allowed,
    EXISTS (SELECT 1 FROM ctx_grants g WHERE g.mailbox = a.ownerless_upn AND g.trustee = a.actor
            AND NOT g.active) AS had_grant
  FROM a
)
SELECT ownerless_upn AS target, list_distinct([ownerless_upn, actor]) AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       NULL AS severity, actor AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'actor': actor,
                'operations': array_to_string(list(DISTINCT operation ORDER BY operation), ', '),
                'why': CASE WHEN bool_or(had_grant) THEN 'whose grant was removed'
                            ELSE 'who holds no grant' END}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM judged WHERE NOT allowed
GROUP BY ownerless_upn, actor, date_trunc('day', time)
""",
    summary="{actor}, {why}, used ownerless mailbox {target} on {window_day}: {operations}",
)

MASS_SEND = Rule(
    id="mass-send", category="mass-send", severity=Severity.HIGH,
    title="Ownerless mailbox sends far more than usual",
    description="Sends from an ownerless mailbox in one day against its own baseline (the mean "
    "of its earlier days), or without a baseline above an absolute count, or one message to "
    "many recipients. Calendar processing (a room's automatic replies) is not counted.",
    mitre=("T1534",), tables=("mailbox_audits",), needs=("ownerless",),
    thresholds=(
        threshold("min_sends", 20, "sends in a day before the baseline is compared"),
        threshold("factor", 5, "times the baseline"),
        threshold("min_history_days", 3, "days of history that make a baseline"),
        threshold("min_sends_without_baseline", 100, "sends in a day with no baseline"),
        threshold("min_recipients", 50, "recipients of one message"),
    ),
    sql="""
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
""",
    summary="Ownerless mailbox {target} sent {sends} messages on {window_day} (baseline "
            "{baseline} a day, largest message to {max_recipients} recipients) by {senders}",
)

RULES: tuple[Rule, ...] = (NON_OWNER_ACCESS, MASS_SEND)
