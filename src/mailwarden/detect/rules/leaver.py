"""Access by people who left, from their addresses or devices, or right after probing them."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule, threshold
from mailwarden.model.findings import Severity

LEAVER_MAILBOX_ACTIVITY = Rule(
    id="leaver-mailbox-activity", category="leaver-access", severity=Severity.HIGH,
    title="Mailbox activity by a departed person",
    description="The mailbox audit records actions by a disabled or departed person after "
    "they left (any time, when the departure date is unknown). Critical on an ownerless "
    "mailbox.",
    mitre=("T1078",), tables=("mailbox_audits",), needs=("departed",), uses=("ownerless",),
    sql="""
SELECT coalesce(m.target_mailbox, m.actor) AS target,
       list_distinct([m.actor, coalesce(m.target_mailbox, m.actor)]) AS targets,
       list(DISTINCT m.client_ip) FILTER (WHERE m.client_ip IS NOT NULL) AS source_ips,
       min(m.time) AS first_seen, max(m.time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(m.ownerless_upn IS NOT NULL) THEN 'critical' END AS severity,
       m.actor AS group_key, date_trunc('day', min(m.time)) AS window_start,
       to_json({'person': m.actor, 'operations': list(DISTINCT m.operation ORDER BY m.operation),
                'since': any_value(d.since)}) AS facts,
       list(m.event_id ORDER BY m.time)[1:$evidence_limit] AS evidence
FROM v_mailbox m JOIN ctx_departed d ON d.upn = m.actor
WHERE m.time IS NOT NULL AND (d.since IS NULL OR m.time > d.since)
GROUP BY coalesce(m.target_mailbox, m.actor), m.actor, date_trunc('day', m.time)
""",
    summary="Departed person {person} acted on mailbox {target} on {window_day}: {operations}",
)

LEAVER_SIGN_IN = Rule(
    id="leaver-sign-in", category="leaver-access", severity=Severity.HIGH,
    title="Successful sign-in by a departed person",
    description="A disabled or departed person's account signed in successfully after they "
    "left: the account was not blocked, or a token outlived the departure.",
    mitre=("T1078",), tables=("signins",), needs=("departed",),
    sql="""
SELECT s.upn AS target, [s.upn] AS targets,
       list(DISTINCT s.ip) FILTER (WHERE s.ip IS NOT NULL) AS source_ips,
       min(s.time) AS first_seen, max(s.time) AS last_seen, count(*) AS event_count,
       NULL AS severity, NULL AS group_key, date_trunc('day', min(s.time)) AS window_start,
       to_json({'apps': list(DISTINCT s.app ORDER BY s.app) FILTER (WHERE s.app IS NOT NULL),
                'since': any_value(d.since)}) AS facts,
       list(s.event_id ORDER BY s.time)[1:$evidence_limit] AS evidence
FROM v_signin s JOIN ctx_departed d ON d.upn = s.upn
WHERE s.success AND s.time IS NOT NULL AND (d.since IS NULL OR s.time > d.since)
GROUP BY s.upn, date_trunc('day', s.time)
""",
    summary="Departed person {target} signed in successfully {event_count} times on "
            "{window_day} ({apps})",
)

LEAVER_ADDRESS_ON_OWNERLESS = Rule(
    id="leaver-address-on-ownerless", category="leaver-access", severity=Severity.CRITICAL,
    title="Ownerless account used from a departed person's address or device",
    description="An ownerless account signs in from an IP address or device that a departed "
    "person used, after they left. Addresses many people share (an office NAT) are ignored.",
    mitre=("T1078",), tables=("signins",), needs=("ownerless", "departed"),
    thresholds=(threshold("max_ip_accounts", 3, "an IP used by more accounts is shared"),),
    sql="""
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
""",
    summary="Ownerless account {target} signed in on {window_day} from the {marks} of "
            "departed person {person} ({source_ips})",
)

DISABLED_PROBE_THEN_OWNERLESS = Rule(
    id="disabled-probe-then-ownerless", category="leaver-access", severity=Severity.CRITICAL,
    title="An address that tried a disabled account then signed in to an ownerless one",
    description="An IP address tries a disabled or departed account (error 50057, or any "
    "attempt after the departure) and then signs in to an ownerless account: the departed "
    "person, locked out of their own account, using a shared mailbox's password.",
    mitre=("T1078",), tables=("signins",), needs=("ownerless",), uses=("departed",),
    thresholds=(threshold("window_hours", 168, "how long after the probe the sign-in counts"),),
    sql="""
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
""",
    summary="{source_ips} tried disabled account {probed} and then signed in to ownerless "
            "account {target}",
)

RULES: tuple[Rule, ...] = (LEAVER_MAILBOX_ACTIVITY, LEAVER_SIGN_IN, LEAVER_ADDRESS_ON_OWNERLESS,
                           DISABLED_PROBE_THEN_OWNERLESS)
