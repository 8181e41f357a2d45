-- spray-user-agent: Password spray with one user agent across IPs.
-- Its metadata, thresholds and summary are in spray.py; the campaigns, grouped here by
-- user agent, are found by mw_password_spray (../spray.sql).
SELECT * FROM mw_password_spray('user_agent', 'user agent', $min_accounts, $min_ips,
                                $max_gap_hours, $min_failed_share, $typo_minutes,
                                $followup_hours, $population_hours, $evidence_limit)
