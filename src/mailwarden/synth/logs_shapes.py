"""Log records in Microsoft's shapes: Graph `signIn` and `directoryAudit` objects, and
Unified Audit Log records (the common schema with the AuditData fields merged in)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailwarden.synth.ids import new_guid
from mailwarden.synth.model import Account
from mailwarden.times import iso

#: Client applications as the sign-in log names them (clientAppUsed).
BROWSER = "Browser"
MODERN = "Mobile Apps and Desktop clients"
IMAP = "IMAP4"
SMTP = "Authenticated SMTP"

#: Error codes and the reasons Entra gives for them.
FAILURES = {
    50126: "Error validating credentials due to invalid username or password.",
    50053: "Account is locked because user tried to sign in too many times with an "
           "incorrect user ID or password.",
    50057: "User account is disabled. The account has been disabled by an administrator.",
    50076: "Due to a configuration change made by your administrator, or because you moved "
           "to a new location, you must use multi-factor authentication to access the resource.",
}
_APPS = {
    BROWSER: ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
    MODERN: ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
    IMAP: ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
    SMTP: ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
}
_RECORD_TYPES = {"admin": 1, "item": 2, "aggregated": 50}
_LOGON_TYPES = {"owner": 0, "admin": 1, "delegate": 2}


def stamp(moment: datetime) -> str:
    """Graph's timestamp: UTC with a Z."""
    return iso(moment, timespec="seconds")


def ual_stamp(moment: datetime) -> str:
    """The Unified Audit Log's CreationTime: UTC without a zone."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def sign_in(rng: random.Random, when: datetime, account: Account, ip: str, *,
            client: str = BROWSER, code: int = 0, agent: str, device: str | None = None,
            country: str = "GB", interactive: bool = True) -> dict[str, Any]:
    app, app_id = _APPS.get(client, _APPS[BROWSER])
    return {
        "id": new_guid(rng), "createdDateTime": stamp(when),
        "userDisplayName": account.display_name, "userPrincipalName": account.upn,
        "userId": account.id, "appId": app_id, "appDisplayName": app, "ipAddress": ip,
        "clientAppUsed": client, "userAgent": agent, "correlationId": new_guid(rng),
        "conditionalAccessStatus": "notApplied" if code else "success",
        "isInteractive": interactive, "resourceDisplayName": "Office 365 Exchange Online",
        "resourceId": "00000002-0000-0ff1-ce00-000000000000",
        "status": {"errorCode": code, "failureReason": FAILURES.get(code, "Other."),
                   "additionalDetails": None} if code else
                  {"errorCode": 0, "failureReason": None, "additionalDetails": None},
        "deviceDetail": {"deviceId": device or "", "displayName": "", "operatingSystem":
                         "Windows10" if client == BROWSER else "", "browser": "Edge 120.0.0"
                         if client == BROWSER else "", "isCompliant": bool(device),
                         "isManaged": bool(device), "trustType": "Azure AD joined"
                         if device else ""},
        "location": {"city": None, "state": None, "countryOrRegion": country},
    }


def directory_audit(rng: random.Random, when: datetime, activity: str, target: Account, *,
                    by: Account, ip: str, category: str = "UserManagement",
                    properties: Sequence[tuple[str, str, str]] = ()) -> dict[str, Any]:
    return {
        "id": f"Directory_{new_guid(rng)}", "category": category,
        "correlationId": new_guid(rng), "result": "success", "resultReason": "",
        "activityDisplayName": activity, "activityDateTime": stamp(when),
        "loggedByService": "Core Directory", "operationType": "Update",
        "initiatedBy": {"app": None, "user": {"id": by.id, "displayName": None,
                                              "userPrincipalName": by.upn, "ipAddress": ip}},
        "targetResources": [{
            "id": target.id, "displayName": None, "type": "User",
            "userPrincipalName": target.upn, "groupType": None,
            "modifiedProperties": [{"displayName": name, "oldValue": old, "newValue": new}
                                   for name, old, new in properties],
        }],
        "additionalDetails": [],
    }


def _common(rng: random.Random, when: datetime, operation: str, actor: str, ip: str, *,
            kind: str, tenant_id: str) -> dict[str, Any]:
    return {
        "CreationTime": ual_stamp(when), "Id": new_guid(rng), "Operation": operation,
        "OrganizationId": tenant_id, "RecordType": _RECORD_TYPES[kind],
        "ResultStatus": "True" if kind == "admin" else "Succeeded",
        "UserKey": actor, "UserType": 2 if kind == "admin" else 0, "Version": 1,
        "Workload": "Exchange", "ClientIP": ip, "UserId": actor,
    }


def cmdlet(rng: random.Random, when: datetime, operation: str, actor: str, ip: str, *,
           tenant_id: str, object_id: str, parameters: Sequence[tuple[str, str]]
           ) -> dict[str, Any]:
    """An Exchange admin cmdlet record (RecordType 1, ExchangeAdmin)."""
    record = _common(rng, when, operation, actor, ip, kind="admin", tenant_id=tenant_id)
    record.update({"ObjectId": object_id, "ExternalAccess": False,
                   "OriginatingServer": "AM0PR07MB4100 (15.20.8293.000)",
                   "Parameters": [{"Name": name, "Value": value} for name, value in parameters]})
    return record


def mailbox_item(rng: random.Random, when: datetime, operation: str, actor: str, ip: str, *,
                 tenant_id: str, mailbox: Account, logon: str, client: str,
                 subject: str | None = None, send_as: str | None = None,
                 folder: str = "\\Inbox") -> dict[str, Any]:
    """A mailbox audit record: MailItemsAccessed (aggregated), Send, SendAs, ..."""
    kind = "aggregated" if operation == "MailItemsAccessed" else "item"
    record = _common(rng, when, operation, actor, ip, kind=kind, tenant_id=tenant_id)
    record.update({
        "ClientIPAddress": ip, "ClientInfoString": client, "ExternalAccess": False,
        "InternalLogonType": 0, "LogonType": _LOGON_TYPES[logon],
        "MailboxGuid": mailbox.exchange_guid, "MailboxOwnerSid": mailbox.exo_sid,
        "MailboxOwnerUPN": mailbox.upn, "OrganizationName": mailbox.upn.split("@")[-1],
    })
    if operation == "MailItemsAccessed":
        record["OperationProperties"] = [{"Name": "MailAccessType", "Value": "Bind"},
                                         {"Name": "IsThrottled", "Value": "False"}]
        record["Folders"] = [{"Path": folder, "FolderItems": [
            {"InternetMessageId": f"<{new_guid(rng)}@{mailbox.upn.split('@')[-1]}>"}]}]
    else:
        record["Item"] = {"Id": new_guid(rng), "Subject": subject or "",
                          "ParentFolder": {"Path": "\\Sent Items" if "Send" in operation
                                           else folder}}
    if send_as:
        field = "SendOnBehalfOfUserSmtp" if operation == "SendOnBehalf" else "SendAsUserSmtp"
        record[field] = send_as
    return record
