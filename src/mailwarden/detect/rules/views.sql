-- Views the rules share, created after the logs and the tenant context are loaded.
CREATE OR REPLACE MACRO mw_is_system(actor, client_info) AS
    coalesce(actor, '') LIKE 's-1-5-18%'
    OR coalesce(actor, '') LIKE 'nt authority\%'
    OR regexp_matches(coalesce(client_info, ''),
        '(?i)(TimeBasedAssistant|ResourceBookingAssistant|CalendarRepairAssistant|Client=TBA|'
        || 'Client=Monitoring|Client=ELC|MailboxAssistant|Action=ConfigureGroup)');
CREATE OR REPLACE MACRO mw_addresses(x) AS
    list_distinct(list_transform(regexp_extract_all(coalesce(x, ''),
        '[A-Za-z0-9._%+''-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'), lambda a: lower(a)));
-- Addresses outside `domains` (a list column: lambdas cannot hold subqueries).
CREATE OR REPLACE MACRO mw_external(addresses, domains) AS
    list_filter(addresses, lambda a: NOT list_contains(domains, split_part(a, '@', 2)));
CREATE OR REPLACE VIEW v_domains AS
SELECT coalesce(list(domain), []::VARCHAR[]) AS domains FROM ctx_domains;
CREATE OR REPLACE VIEW v_ownerless_list AS
SELECT coalesce(list(upn), []::VARCHAR[]) AS ownerless FROM ctx_ownerless;

CREATE OR REPLACE VIEW v_signin AS
SELECT s.*,
    s.result_code IN (SELECT code FROM mw_codes WHERE class = 'attempt') AS is_attempt,
    s.result_code IN (SELECT code FROM mw_codes WHERE class = 'password_ok') AS is_password_ok,
    s.result_code IN (SELECT code FROM mw_codes WHERE class = 'lockout') AS is_lockout,
    s.result_code IN (SELECT code FROM mw_codes WHERE class = 'disabled') AS is_disabled_code,
    k.upn AS ownerless_upn,
    k.upn IS NOT NULL AS is_ownerless
FROM signins s
LEFT JOIN ctx_ownerless_keys k ON k.key = coalesce(s.upn, lower(s.user_id));

CREATE OR REPLACE VIEW v_mailbox AS
SELECT m.*, k.upn AS ownerless_upn, o.kind AS ownerless_kind,
    mw_is_system(m.actor, m.client_info) AS is_system
FROM mailbox_audits m
LEFT JOIN ctx_ownerless_keys k ON k.key = m.target_mailbox
LEFT JOIN ctx_ownerless o ON o.upn = k.upn;

CREATE OR REPLACE VIEW v_directory_target AS
SELECT DISTINCT a.event_id, a.time, a.activity, a.initiator, a.initiator_id, a.initiator_ip,
    a.modified_properties, k.upn AS ownerless_upn
FROM directory_audits a,
    unnest(list_concat(a.target_upns, list_transform(a.target_ids, lambda x: lower(x)))) AS t(ref)
JOIN ctx_ownerless_keys k ON k.key = t.ref;
