"""Unified Audit Log records onto the `mailbox_audits` table.

Accepted shapes: Log Analytics OfficeActivity (fields at the top level), the Purview
audit search CSV export and `Search-UnifiedAuditLog` output (details in an `AuditData`
JSON string), and Graph audit log query records (details in an `auditData` object).
Only Exchange records are kept; the others are counted as skipped.
"""

from __future__ import annotations

from mailwarden.detect.inputs.access import Accessor, nested

#: Where the details of a record sit, when they are not at its top level.
INNER_DOCUMENT_FIELDS = ("AuditData",)


def ual_columns(f: Accessor) -> tuple[str, dict[str, str]]:
    time_raw = f.text("CreationTime", "TimeGenerated", "TimeGenerated [UTC]", "createdDateTime",
                      "CreationDate", "Start_Time [UTC]", "Start_Time")
    item = f.text("Item")
    parameters = (
        f"list_concat(mw_params({f.text('Parameters')}), "
        f"mw_params({f.text('OperationProperties')}))"
    )
    # A Graph audit log query record's top-level userId is the classic UserKey (an opaque
    # key); its userPrincipalName is the classic UserId, so it is asked first.
    actor = f"lower({f.text('userPrincipalName', 'UserId', 'UserIds')})"
    operation = f.text("Operation", "Operations")
    send_as = f"lower({f.text('SendAsUserSmtp')})"
    send_on_behalf = f"lower({f.text('SendOnBehalfOfUserSmtp')})"
    mailbox_upn = f"lower({f.text('MailboxOwnerUPN')})"
    client_ip = f.text("ClientIP", "ClientIPAddress", "Client_IPAddress", "clientIp",
                       "ActorIpAddress")
    columns = {
        "operation": operation,
        "workload": f.text("Workload", "OfficeWorkload", "service"),
        "record_type": f"mw_record_type({f.text('RecordType', 'auditLogRecordType')})",
        "actor": actor,
        "actor_sid": f.text("LogonUserSid"),
        "mailbox_upn": mailbox_upn,
        "client_ip": f"mw_ip({client_ip})",
        "client_info": f.text("ClientInfoString"),
        "app_id": f.text("AppId"),
        "client_app_id": f.text("ClientAppId"),
        "logon_type": f"mw_logon_type({f.text('LogonType', 'Logon_Type', 'InternalLogonType')})",
        "result_status": f.text("ResultStatus"),
        "parameters": parameters,
        "object_id": f.text("ObjectId", "OfficeObjectId"),
        "item_subject": f"coalesce(mw_null({nested(item, '$.Subject')}), "
                        f"mw_null({nested(f.text('AffectedItems'), '$[0].Subject')}))",
        "folder": f"coalesce(mw_null({nested(item, '$.ParentFolder.Path')}), "
                  f"mw_null({nested(f.text('Folder'), '$.Path')}), "
                  f"mw_null({nested(f.text('Folders'), '$[0].Path')}), "
                  f"mw_null({nested(f.text('DestFolder'), '$.Path')}))",
        "send_as_upn": send_as,
        "send_on_behalf_upn": send_on_behalf,
        "recipient_count": f"coalesce(TRY_CAST({f.text('RecipientCount')} AS INTEGER), "
                           f"TRY_CAST(mw_null({nested(item, '$.RecipientCount')}) AS INTEGER), "
                           f"nullif(len(mw_jlist({item}, '$.Recipients[*]')), 0))",
        "record_id": f.text("Id", "OfficeId", "RecordId"),
    }
    return time_raw, columns


def ual_derived() -> dict[str, str]:
    return {
        "target_mailbox": (
            "lower(mw_mailbox_ref(coalesce(send_as_upn, send_on_behalf_upn, mailbox_upn, "
            "mw_param(parameters, 'mailbox'), mw_param(parameters, 'identity'), "
            "CASE WHEN operation ILIKE '%inboxrule%' THEN actor END)))"
        ),
    }


#: Rows outside Exchange (SharePoint, Teams, Entra...) are counted and skipped.
SKIP_CONDITION = (
    "NOT (coalesce(workload, '') ILIKE 'exchange%' OR coalesce(record_type, '') ILIKE 'exchange%' "
    "OR (workload IS NULL AND record_type IS NULL))"
)
SKIP_REASON = "records of other workloads (SharePoint, OneDrive, Teams, Entra ID) are not used"
