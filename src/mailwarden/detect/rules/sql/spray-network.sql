-- spray-network: Password spray from rotating addresses in one network.
-- Its metadata, thresholds and summary are in spray.py; the campaigns, grouped here by
-- source network (a /24, IPv6: a /64), are found by mw_password_spray (../spray.sql).
SELECT * FROM mw_password_spray('ip_prefix', 'network', $min_accounts, $min_ips,
                                $max_gap_hours, $min_failed_share, $typo_minutes,
                                $followup_hours, $population_hours, $evidence_limit)
