"""Directory changes to ownerless accounts: password resets and unblocked sign-in."""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule
from mailwarden.model.findings import Severity

PASSWORD_RESET = Rule(
    id="password-reset", category="password-reset", severity=Severity.HIGH,
    title="Password of an ownerless account reset or changed",
    description="An admin reset or changed the password of an ownerless account: someone now "
    "knows it. Critical when the account changed its own password (someone signed in as it).",
    mitre=("T1098",), tables=("directory_audits",), needs=("ownerless",),
    sql="""
SELECT ownerless_upn AS target,
       list_distinct(list_filter(list_prepend(ownerless_upn, list(initiator)),
                                 lambda x: x IS NOT NULL)) AS targets,
       list(DISTINCT initiator_ip) FILTER (WHERE initiator_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(initiator = ownerless_upn) THEN 'critical' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'activities': array_to_string(list(DISTINCT activity ORDER BY activity), ', '),
                'by': coalesce(array_to_string(list(DISTINCT initiator ORDER BY initiator), ', '),
                               'unknown')})
         AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_directory_target
WHERE lower(activity) IN ('reset user password', 'reset password (by admin)',
        'change user password', 'set force change user password',
        'change password (self-service)', 'reset password (self-service)',
        'user changed default security info', 'update user password')
   OR (lower(activity) LIKE '%password%' AND (lower(activity) LIKE '%reset%'
        OR lower(activity) LIKE '%change%'))
GROUP BY ownerless_upn, date_trunc('day', time)
""",
    summary="{activities} on ownerless account {target} by {by}",
)

SIGN_IN_UNBLOCKED = Rule(
    id="sign-in-unblocked", category="sign-in-unblocked", severity=Severity.HIGH,
    title="Ownerless account enabled again",
    description="'Enable account', or 'Update user' setting AccountEnabled to true, on the "
    "account of an ownerless mailbox: it can sign in again.",
    mitre=("T1098",), tables=("directory_audits",), needs=("ownerless",),
    sql="""
SELECT ownerless_upn AS target,
       list_distinct(list_filter(list_prepend(ownerless_upn, list(initiator)),
                                 lambda x: x IS NOT NULL)) AS targets,
       list(DISTINCT initiator_ip) FILTER (WHERE initiator_ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       NULL AS severity, NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'by': coalesce(array_to_string(list(DISTINCT initiator ORDER BY initiator), ', '),
                               'unknown')})
         AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_directory_target
WHERE lower(activity) = 'enable account'
   OR (lower(activity) = 'update user' AND len(list_filter(modified_properties,
        lambda p: lower(p.name) = 'accountenabled'
                  AND regexp_matches(coalesce(p.new_value, ''), '(?i)true'))) > 0)
GROUP BY ownerless_upn, date_trunc('day', time)
""",
    summary="Ownerless account {target} was enabled for sign-in by {by}",
)

RULES: tuple[Rule, ...] = (PASSWORD_RESET, SIGN_IN_UNBLOCKED)
