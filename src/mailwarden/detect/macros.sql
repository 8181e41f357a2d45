-- SQL macros the readers and rules share. Loaded into every detection connection.
CREATE OR REPLACE MACRO mw_null(x) AS nullif(trim(CAST(x AS VARCHAR)), '');
CREATE OR REPLACE MACRO mw_jget(x, p) AS CASE WHEN json_valid(x) THEN json_extract_string(x, p) END;
CREATE OR REPLACE MACRO mw_jlist(x, p) AS
    coalesce(CASE WHEN json_valid(x) THEN json_extract_string(x, p) END, []::VARCHAR[]);
CREATE OR REPLACE MACRO mw_jlist_json(x, p) AS
    coalesce(CASE WHEN json_valid(x) THEN json_extract(x, p) END, []::JSON[]);
CREATE OR REPLACE MACRO mw_clean_list(l) AS
    list_distinct(list_filter(l, lambda v: v IS NOT NULL AND trim(v) <> ''));
-- Booleans as JSON, CSV and PowerShell write them ('$false' when a cmdlet line is logged).
CREATE OR REPLACE MACRO mw_bool(x) AS CASE
    WHEN ltrim(lower(trim(x)), '$') IN ('true', 'yes', '1') THEN true
    WHEN ltrim(lower(trim(x)), '$') IN ('false', 'no', '0') THEN false END;
CREATE OR REPLACE MACRO mw_upn(x) AS CASE WHEN contains(x, '@') THEN lower(x) ELSE x END;

-- Times: ISO 8601 (any offset), PowerShell's /Date(ms)/, the Azure portal's display format.
CREATE OR REPLACE MACRO mw_ts(x) AS CASE
    WHEN x IS NULL THEN NULL
    WHEN regexp_matches(x, '^/Date\(-?[0-9]+') THEN
        make_timestamp(CAST(regexp_extract(x, '^/Date\((-?[0-9]+)', 1) AS BIGINT) * 1000)
    ELSE coalesce(
        CAST(TRY_CAST(x AS TIMESTAMPTZ) AS TIMESTAMP),
        try_strptime(x, ['%m/%d/%Y, %I:%M:%S.%g %p', '%m/%d/%Y, %I:%M:%S %p',
                         '%m/%d/%Y %I:%M:%S %p', '%m/%d/%Y %I:%M %p',
                         '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M']))
    END;

-- IP addresses: drop ports and brackets, unwrap IPv4-mapped IPv6, drop zone ids.
CREATE OR REPLACE MACRO mw_ip_unport(s) AS CASE
    WHEN s IS NULL THEN NULL
    WHEN starts_with(s, '[') THEN regexp_extract(s, '^\[([^\]]*)\]', 1)
    WHEN regexp_matches(s, '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+$') THEN split_part(s, ':', 1)
    ELSE s END;
CREATE OR REPLACE MACRO mw_ip(x) AS nullif(regexp_replace(regexp_replace(
    mw_ip_unport(lower(trim(x))),
    '^::ffff:([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$', '\1'), '%.*$', ''), '');
CREATE OR REPLACE MACRO mw_ip6_side(s) AS
    CASE WHEN s = '' THEN []::VARCHAR[] ELSE string_split(s, ':') END;
CREATE OR REPLACE MACRO mw_ip6_groups(ip) AS CASE
    WHEN contains(ip, '::') THEN list_concat(
        mw_ip6_side(split_part(ip, '::', 1)),
        list_transform(range(greatest(0, 8 - len(mw_ip6_side(split_part(ip, '::', 1)))
                                        - len(mw_ip6_side(split_part(ip, '::', 2))))), lambda g: '0'),
        mw_ip6_side(split_part(ip, '::', 2)))
    ELSE string_split(ip, ':') END;
CREATE OR REPLACE MACRO mw_ip_prefix(ip) AS CASE
    WHEN ip IS NULL THEN NULL
    WHEN regexp_matches(ip, '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$') THEN
        regexp_replace(ip, '\.[0-9]+$', '.0/24')
    WHEN contains(ip, ':') THEN array_to_string(list_transform(mw_ip6_groups(ip)[1:4],
        lambda g: coalesce(nullif(ltrim(g, '0'), ''), '0')), ':') || '::/64'
    END;

-- Sign-in client apps (clientAppUsed) by protocol; everything but browser and modern
-- clients can carry basic authentication.
CREATE OR REPLACE MACRO mw_protocol(c) AS CASE
    WHEN c IS NULL THEN NULL
    WHEN lower(c) = 'browser' THEN 'browser'
    WHEN lower(c) LIKE 'mobile apps and desktop clients%' THEN 'modern'
    WHEN lower(c) LIKE '%activesync%' THEN 'activesync'
    WHEN lower(c) LIKE 'imap%' THEN 'imap'
    WHEN lower(c) LIKE 'pop%' THEN 'pop'
    WHEN lower(c) LIKE '%smtp%' THEN 'smtp'
    WHEN lower(c) LIKE '%web services%' AND lower(c) LIKE 'reporting%' THEN 'reporting'
    WHEN lower(c) LIKE '%web services%' OR lower(c) = 'ews' THEN 'ews'
    WHEN lower(c) LIKE 'mapi%' THEN 'mapi'
    WHEN lower(c) LIKE 'outlook anywhere%' THEN 'rpc'
    WHEN lower(c) LIKE 'autodiscover%' THEN 'autodiscover'
    WHEN lower(c) LIKE 'offline address book%' THEN 'oab'
    WHEN lower(c) LIKE '%powershell%' THEN 'powershell'
    ELSE 'other' END;
CREATE OR REPLACE MACRO mw_is_legacy(c) AS
    CASE WHEN mw_protocol(c) IS NULL THEN NULL ELSE mw_protocol(c) NOT IN ('browser', 'modern') END;

CREATE OR REPLACE MACRO mw_portal_country(x) AS CASE
    WHEN x IS NULL OR json_valid(x) THEN NULL
    WHEN length(x) = 2 THEN upper(x)
    ELSE nullif(upper(trim(split_part(x, ',', -1))), '') END;

-- Unified Audit Log helpers.
CREATE OR REPLACE MACRO mw_params(x) AS coalesce(
    CASE WHEN json_valid(x) THEN list_transform(
        list_filter(from_json(x, '[{"Name":"VARCHAR","Value":"VARCHAR"}]'), lambda p: p.Name IS NOT NULL),
        lambda p: {'name': lower(p.Name), 'value': p.Value}) END,
    []::STRUCT(name VARCHAR, value VARCHAR)[]);
CREATE OR REPLACE MACRO mw_param(params, n) AS list_filter(params, lambda p: p.name = n)[1].value;
CREATE OR REPLACE MACRO mw_mailbox_ref(x) AS split_part(regexp_replace(x, '^.*/', ''), '\', 1);
CREATE OR REPLACE MACRO mw_record_type(x) AS CASE x
    WHEN '1' THEN 'ExchangeAdmin' WHEN '2' THEN 'ExchangeItem' WHEN '3' THEN 'ExchangeItemGroup'
    WHEN '4' THEN 'SharePoint' WHEN '6' THEN 'SharePointFileOperation'
    WHEN '8' THEN 'AzureActiveDirectory' WHEN '9' THEN 'AzureActiveDirectoryAccountLogon'
    WHEN '14' THEN 'SharePointSharingOperation' WHEN '15' THEN 'AzureActiveDirectoryStsLogon'
    WHEN '18' THEN 'SecurityComplianceCenterEOPCmdlet' WHEN '25' THEN 'MicrosoftTeams'
    WHEN '36' THEN 'SharePointListOperation' WHEN '50' THEN 'ExchangeItemAggregated'
    ELSE x END;
CREATE OR REPLACE MACRO mw_logon_type(x) AS CASE lower(x)
    WHEN '0' THEN 'owner' WHEN '1' THEN 'admin' WHEN '2' THEN 'delegate'
    WHEN '3' THEN 'transport' WHEN '4' THEN 'systemservice' WHEN '5' THEN 'bestaccess'
    WHEN '6' THEN 'delegatedadmin' ELSE lower(x) END;
