"""Password spray and brute force over the sign-in log.

A spray is grouped by its source (one IP, one /24 or /64, or one user agent across
IPs) into campaigns: failed guesses from the source with no gap longer than
`max_gap_hours`, so a low-and-slow spray (one guess per account per hour or per day)
stays one campaign. A campaign is a spray when enough accounts failed there without
a quick success from the same source (a typo followed by the right password is not a
guess) and those accounts are a large share of everyone signing in from the source
(an office NAT, where hundreds sign in in the same week and a few mistype, is not a
spray). A success or a code that shows the password was right (MFA required, blocked
by conditional access, ...) from the source during or after the campaign escalates it.
"""

from __future__ import annotations

from mailwarden.detect.rules.base import Rule, threshold
from mailwarden.model.findings import Severity

_SPRAY_KEYS = {"ip": "IP address", "ip_prefix": "network", "user_agent": "user agent"}


def _spray_sql(key: str) -> str:
    if key not in _SPRAY_KEYS:
        raise ValueError(f"unknown spray key {key!r}")
    return f"""
WITH att AS (
  SELECT event_id, time, upn, ip, {key} AS k FROM v_signin
  WHERE is_attempt AND time IS NOT NULL AND upn IS NOT NULL AND {key} IS NOT NULL
), marked AS (
  SELECT *, CASE WHEN time - lag(time) OVER w <= to_seconds($max_gap_hours * 3600)
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
  HAVING count(DISTINCT upn) >= $min_accounts AND count(DISTINCT ip) >= $min_ips
), fails AS (
  SELECT camp.k, camp.cid, camp.upn, camp.event_id, camp.time
  FROM camp SEMI JOIN c USING (k, cid)
), seen AS (
  SELECT c.k, c.cid, count(DISTINCT s.upn) AS seen_accounts
  FROM c JOIN v_signin s ON s.{key} = c.k
   AND s.time BETWEEN c.first_seen - to_seconds($population_hours * 3600)
                  AND c.last_seen + to_seconds(greatest($population_hours,
                                                        $followup_hours) * 3600)
  WHERE s.upn IS NOT NULL
  GROUP BY c.k, c.cid
), oks AS (
  -- Successes, and answers that show the password was right, from the sources: they
  -- resolve a typo or prove a guess.
  SELECT s.{key} AS k, s.upn, s.time, s.event_id
  FROM v_signin s
  WHERE (s.success OR s.is_password_ok) AND s.time IS NOT NULL AND s.upn IS NOT NULL
    AND s.{key} IN (SELECT k FROM c)
), typos AS (
  -- A failure followed within typo_minutes by a success of the same account from the
  -- same source. Joined on the typo window's bucket (the next one may hold the success
  -- too) rather than on the account alone, which would pair every failure with every
  -- success of the account.
  SELECT DISTINCT f.k, f.cid, f.upn
  FROM (SELECT *, floor(epoch(time) / ($typo_minutes * 60)) + unnest([0, 1]) AS bucket
        FROM fails) f
  JOIN (SELECT *, floor(epoch(time) / ($typo_minutes * 60)) AS bucket FROM oks) o
    ON o.k = f.k AND o.upn = f.upn AND o.bucket = f.bucket
   AND (o.time > f.time OR (o.time = f.time AND o.event_id > f.event_id))
   AND o.time <= f.time + to_seconds($typo_minutes * 60)
), proofs AS (
  -- Any account the source got into during or after the campaign, failed or not: a
  -- guess may be right the first time.
  SELECT c.k, c.cid, o.upn, min_by(o.event_id, o.time, 3) AS ok_events
  FROM c JOIN oks o ON o.k = c.k
   AND o.time BETWEEN c.first_seen AND c.last_seen + to_seconds($followup_hours * 3600)
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
       to_json({{'source': c.k, 'source_kind': '{_SPRAY_KEYS[key]}', 'accounts': c.n_failed,
                'unresolved': s.unresolved, 'seen': s.seen_accounts, 'ips': len(c.ips),
                'proven': coalesce(s.proven, []),
                'proven_text': CASE WHEN len(coalesce(s.proven, [])) > 0
                    THEN '; the password was right for ' || array_to_string(s.proven[1:5], ', ')
                    ELSE '' END,
                'ownerless_targets': list_filter(coalesce(s.failed_accounts, []),
                    lambda u: list_contains(o.ownerless, u))}}) AS facts,
       list_concat(coalesce(s.proof_events, [])[1:10], c.ev[1:$evidence_limit]) AS evidence
FROM c JOIN stats s USING (k, cid) CROSS JOIN v_ownerless_list o
WHERE s.unresolved >= $min_accounts AND s.unresolved >= $min_failed_share * s.seen_accounts
"""


_SPRAY_THRESHOLDS = (
    threshold("min_accounts", 10, "accounts that failed without a quick success"),
    threshold("max_gap_hours", 48, "longest pause inside one campaign"),
    threshold("min_failed_share", 0.3, "share of the source's accounts that failed"),
    threshold("typo_minutes", 30, "a success this soon after a failure makes it a typo"),
    threshold("followup_hours", 72, "how long after the campaign a success still counts"),
    threshold("population_hours", 168, "the source's other users are counted this long "
              "before and after the campaign"),
)
_SPRAY_SUMMARY = (
    "Password spray from {source_kind} {source}: {accounts} accounts failed "
    "({unresolved} never got in), {event_count} guesses between {first_seen} and "
    "{last_seen}{proven_text}"
)


def _spray(rule_id: str, key: str, min_ips: int, title: str, description: str) -> Rule:
    return Rule(
        id=rule_id, category="password-spray", severity=Severity.HIGH, title=title,
        description=description + " Escalated to critical when a targeted account then "
        "signs in, or answers with a code that shows the password was right.",
        mitre=("T1110.003",), tables=("signins",), uses=("ownerless",),
        thresholds=(*_SPRAY_THRESHOLDS,
                    threshold("min_ips", min_ips, "distinct IPs the source used")),
        sql=_spray_sql(key), summary=_SPRAY_SUMMARY,
    )


SPRAY_BY_IP = _spray("spray-ip", "ip", 1, "Password spray from one IP address",
                     "One IP address fails against many accounts, fast or slow.")
SPRAY_BY_NETWORK = _spray("spray-network", "ip_prefix", 2,
                          "Password spray from rotating addresses in one network",
                          "Several addresses of one /24 (IPv6: /64) fail against many accounts.")
SPRAY_BY_USER_AGENT = _spray("spray-user-agent", "user_agent", 3,
                             "Password spray with one user agent across IPs",
                             "One user agent, from several IPs, fails against many accounts.")

BRUTE_FORCE = Rule(
    id="brute-force-account", category="brute-force", severity=Severity.MEDIUM,
    title="Many failed sign-ins against one account",
    description="Failed password guesses against one account in a burst (no pause longer "
    "than max_gap_minutes). A few typos followed by the right password stay below the "
    "threshold. High when the account is ownerless; critical when a guess then succeeds.",
    mitre=("T1110.001",), tables=("signins",), uses=("ownerless",),
    thresholds=(
        threshold("min_failures", 10, "failed guesses in one burst"),
        threshold("max_gap_minutes", 60, "longest pause inside one burst"),
        threshold("followup_minutes", 60, "how long after the burst a success counts"),
    ),
    sql="""
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
                'succeeded_text': CASE WHEN ok.ok_events IS NOT NULL
                    THEN '; a sign-in from the same source then succeeded' ELSE '' END}) AS facts,
       list_concat(coalesce(ok.ok_events, [])[1:5], c.ev[1:$evidence_limit]) AS evidence
FROM c LEFT JOIN ok USING (upn, cid)
""",
    summary="{failures} failed sign-ins against {target} between {first_seen} and "
            "{last_seen}{succeeded_text}",
)

LOCKOUT = Rule(
    id="account-lockout", category="brute-force", severity=Severity.MEDIUM,
    title="Account locked by smart lockout",
    description="Entra answered 50053 (account locked): someone kept guessing the password. "
    "High when the account is ownerless.",
    mitre=("T1110",), tables=("signins",), uses=("ownerless",),
    sql="""
SELECT upn AS target, [upn] AS targets,
       list(DISTINCT ip) FILTER (WHERE ip IS NOT NULL) AS source_ips,
       min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
       CASE WHEN bool_or(is_ownerless) THEN 'high' END AS severity,
       NULL AS group_key, date_trunc('day', min(time)) AS window_start,
       to_json({'lockouts': count(*)}) AS facts,
       list(event_id ORDER BY time)[1:$evidence_limit] AS evidence
FROM v_signin WHERE is_lockout AND upn IS NOT NULL AND time IS NOT NULL
GROUP BY upn, date_trunc('day', time)
""",
    summary="{target} was locked out {lockouts} times on {window_day} by repeated failed "
            "sign-ins",
)

RULES: tuple[Rule, ...] = (SPRAY_BY_IP, SPRAY_BY_NETWORK, SPRAY_BY_USER_AGENT, BRUTE_FORCE,
                           LOCKOUT)
