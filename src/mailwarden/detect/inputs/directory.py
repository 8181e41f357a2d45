"""Directory audit records (Graph directoryAudit, Log Analytics AuditLogs, Entra admin
center audit downloads) onto the `directory_audits` table."""

from __future__ import annotations

from mailwarden.detect.inputs.access import Accessor, nested, sql_string

#: The admin center's CSV flattens targets into Target1..TargetN columns.
_CSV_TARGETS = 6
_CSV_PROPERTIES = 10


def _json_list(document: str, path: str) -> str:
    return f"mw_jlist({document}, {sql_string(path)})"


def _csv_targets(f: Accessor, suffix: str) -> str:
    parts = [f.text(f"Target{n}{suffix}") for n in range(1, _CSV_TARGETS + 1)
             if f.has(f"Target{n}{suffix}")]
    return f"[{', '.join(parts)}]::VARCHAR[]" if parts else "[]::VARCHAR[]"


def _csv_properties(f: Accessor) -> str:
    triples = []
    for target in range(1, _CSV_TARGETS + 1):
        for number in range(1, _CSV_PROPERTIES + 1):
            stem = f"Target{target}ModifiedProperty{number}"
            if f.has(stem + "Name"):
                triples.append(
                    f"{{'name': {f.text(stem + 'Name')}, 'old_value': {f.text(stem + 'OldValue')}, "
                    f"'new_value': {f.text(stem + 'NewValue')}}}"
                )
    if not triples:
        return "[]"
    return f"list_filter([{', '.join(triples)}], lambda p: p.name IS NOT NULL)"


def directory_columns(f: Accessor) -> tuple[str, dict[str, str]]:
    time_raw = f.text("activityDateTime", "ActivityDateTime [UTC]", "TimeGenerated",
                      "TimeGenerated [UTC]", "Date (UTC)", "Date")
    initiated_by = f.text("initiatedBy")
    targets = f.text("targetResources")
    if targets == "NULL::VARCHAR":  # a CSV without the column: no JSON lists to read
        targets = "'[]'"
    json_properties = (
        f"list_transform(mw_jlist_json({targets}, '$[*].modifiedProperties[*]'), "
        "lambda p: {'name': json_extract_string(p, '$.displayName'), "
        "'old_value': json_extract_string(p, '$.oldValue'), "
        "'new_value': json_extract_string(p, '$.newValue')})"
    )
    if f.is_csv:
        properties = f"list_concat({json_properties}, {_csv_properties(f)})"
        upns = f"list_concat({_json_list(targets, '$[*].userPrincipalName')}, " \
               f"{_csv_targets(f, 'UserPrincipalName')})"
        ids = f"list_concat({_json_list(targets, '$[*].id')}, {_csv_targets(f, 'ObjectId')})"
        names = f"list_concat({_json_list(targets, '$[*].displayName')}, " \
                f"{_csv_targets(f, 'DisplayName')})"
    else:
        properties = json_properties
        upns = _json_list(targets, "$[*].userPrincipalName")
        ids = _json_list(targets, "$[*].id")
        names = _json_list(targets, "$[*].displayName")
    actor = f.text("ActorUserPrincipalName", "ActorServicePrincipalName", "InitiatingUserOrApp",
                   "ActorDisplayName")
    columns = {
        "activity": f"trim({f.text('activityDisplayName', 'OperationName', 'Activity')})",
        "category": f.text("category"),
        "service": f.text("loggedByService", "Service"),
        "result": f.text("result"),
        "result_reason": f.text("resultReason", "ResultDescription"),
        "initiator": "mw_upn(coalesce("
                     f"mw_null({nested(initiated_by, '$.user.userPrincipalName')}), "
                     f"mw_null({nested(initiated_by, '$.app.displayName')}), "
                     f"{actor}))",
        "initiator_id": "coalesce("
                        f"mw_null({nested(initiated_by, '$.user.id')}), "
                        f"mw_null({nested(initiated_by, '$.app.servicePrincipalId')}), "
                        f"{f.text('ActorObjectId', 'ActorServicePrincipalId')})",
        "initiator_ip": f"mw_ip(coalesce(mw_null({nested(initiated_by, '$.user.ipAddress')}), "
                        f"{f.text('InitiatingIpAddress', 'IPAddress', 'IP address')}))",
        "target_upns": f"mw_clean_list(list_transform({upns}, lambda x: lower(x)))",
        "target_ids": f"mw_clean_list({ids})",
        "target_names": f"mw_clean_list({names})",
        "modified_properties": properties,
        "correlation_id": f.text("correlationId"),
        "record_id": f.text("id"),
    }
    return time_raw, columns
