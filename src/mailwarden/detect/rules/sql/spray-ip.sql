-- spray-ip: Password spray from one IP address.
-- Its metadata, thresholds and summary are in spray.py; the campaigns, grouped here by
-- source IP address, are found by mw_password_spray (../spray.sql).
SELECT * FROM mw_password_spray('ip', 'IP address', $min_accounts, $min_ips,
                                $max_gap_hours, $min_failed_share, $typo_minutes,
                                $followup_hours, $population_hours, $evidence_limit)
