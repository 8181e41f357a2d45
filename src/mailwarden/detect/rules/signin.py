"""Sign-ins by the accounts of ownerless mailboxes, and legacy-protocol attempts on them."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule
from mailwarden.model.findings import Severity

OWNERLESS_SIGN_IN = Rule(
    id="ownerless-sign-in", category="ownerless-sign-in", severity=Severity.HIGH,
    title="Successful sign-in by an ownerless mailbox's account",
    description="Nobody should sign in as a shared, room or equipment mailbox or an unlicensed "
    "account. Critical over a legacy protocol (IMAP, POP, SMTP, EWS, ...), the sprayable path. "
    "A leaver's unlicensed mailbox counts from the day they left.",
    mitre=("T1078",), tables=("signins",), needs=("ownerless",), uses=("departed",),
    sql="""
SELECT ownerless_upn AS target, [ownerless_upn] AS targets,
       list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(legacy_protocol) THEN 'critical' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'protocols': list(DISTINCT coalesce(client_app, 'unknown client')
                                  ORDER BY coalesce(client_app, 'unknown client')),
                'apps': list(DISTINCT app ORDER BY app) FILTER (WHERE app IS NOT NULL),
                'countries': list(DISTINCT country ORDER BY country)
                             FILTER (WHERE country IS NOT NULL),
                'legacy': bool_or(legacy_protocol)}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_signin WHERE is_ownerless AND success AND time IS NOT NULL
  -- A leaver's unlicensed mailbox was their own until they left.
  AND NOT EXISTS (SELECT 1 FROM ctx_departed d WHERE d.upn = v_signin.ownerless_upn
                  AND d.since IS NOT NULL AND v_signin.time <= d.since)
GROUP BY ownerless_upn, date_trunc('day', time)
""",
    summary="{event_count} successful sign-ins as ownerless account {target} on {window_day} "
            "({protocols}) from {source_ips}",
)

OWNERLESS_OWNER_LOGON = Rule(
    id="ownerless-owner-logon", category="ownerless-sign-in", severity=Severity.HIGH,
    title="Mailbox opened as its own ownerless account",
    description="The mailbox audit shows an owner logon to an ownerless mailbox by the "
    "mailbox's own account (not a delegate, not calendar processing): someone holds its "
    "password or a token for it.",
    mitre=("T1078",), tables=("mailbox_audits",), needs=("ownerless",), uses=("departed",),
    sql="""
SELECT ownerless_upn AS target, [ownerless_upn] AS targets,
       list(DISTINCT client_ip) FILTER (WHERE client_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       NULL AS severity, NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'operations': list(DISTINCT operation ORDER BY operation),
                'clients': list(DISTINCT client_info ORDER BY client_info)
                           FILTER (WHERE client_info IS NOT NULL)})
         AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_mailbox
WHERE ownerless_upn IS NOT NULL AND NOT is_system AND time IS NOT NULL
  AND logon_type = 'owner'
  AND actor IN (SELECT key FROM ctx_ownerless_keys k WHERE k.upn = v_mailbox.ownerless_upn)
  AND NOT EXISTS (SELECT 1 FROM ctx_departed d WHERE d.upn = v_mailbox.ownerless_upn
                  AND d.since IS NOT NULL AND v_mailbox.time <= d.since)
GROUP BY ownerless_upn, date_trunc('day', time)
""",
    summary="{target} was used as its own account on {window_day}: {operations} from "
            "{source_ips}",
)

LEGACY_PROTOCOL = Rule(
    id="legacy-protocol-auth", category="legacy-protocol-auth", severity=Severity.MEDIUM,
    title="Legacy-protocol authentication against an ownerless account",
    description="Attempts over IMAP, POP, SMTP AUTH, EWS, ActiveSync or other legacy clients, "
    "which basic authentication and password spraying use. High when one succeeded.",
    mitre=("T1078", "T1110"), tables=("signins",), needs=("ownerless",),
    sql="""
SELECT ownerless_upn AS target, [ownerless_upn] AS targets,
       list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(success) THEN 'high' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'protocols': list(DISTINCT client_app),
                'successes': count(*) FILTER (WHERE success),
                'failures': count(*) FILTER (WHERE NOT coalesce(success, false)),
                'codes': list(DISTINCT result_code)}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_signin WHERE is_ownerless AND legacy_protocol AND time IS NOT NULL
GROUP BY ownerless_upn, date_trunc('day', time)
""",
    summary="{event_count} legacy-protocol sign-in attempts ({protocols}) against ownerless "
            "account {target} on {window_day}: {successes} succeeded, {failures} failed",
)

RULES: tuple[Rule, ...] = (OWNERLESS_SIGN_IN, OWNERLESS_OWNER_LOGON, LEGACY_PROTOCOL)
