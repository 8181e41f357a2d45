"""The normalized log tables every reader fills and every rule reads.

Each input format (SPEC section 6) is mapped onto one of three tables. Their columns
are fixed and documented here, so that a rule written against them works on a Graph
export, a Sentinel download and a Purview CSV alike. Times are UTC (`TIMESTAMP`
without a zone, always meaning UTC); user principal names and mailbox addresses are
lower case; IP addresses are normalized (no port, no brackets, IPv4-mapped IPv6
unwrapped, IPv6 lower case). `event_id` is unique across all three tables, so an
alert's evidence is a list of event ids; `source_file` and `source_row` say where
each row came from (the data row of a CSV among its well-formed rows, counting from 1;
the line of a JSON Lines file; the element of a JSON array).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    name: str
    sql_type: str
    doc: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def create_sql(self) -> str:
        body = ",\n  ".join(f"{column.name} {column.sql_type}" for column in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {body}\n)"


def _c(name: str, sql_type: str, doc: str) -> Column:
    return Column(name=name, sql_type=sql_type, doc=doc)


_PROVENANCE = (
    _c("source_file", "VARCHAR", "path of the file the row was read from"),
    _c("source_row", "BIGINT", "row, line or element number in that file (from 1)"),
)

PARAMETER_LIST = "STRUCT(name VARCHAR, value VARCHAR)[]"
MODIFIED_PROPERTIES = "STRUCT(name VARCHAR, old_value VARCHAR, new_value VARCHAR)[]"

SIGNINS = Table(
    name="signins",
    doc="Entra ID sign-in attempts, interactive and non-interactive.",
    columns=(
        _c("event_id", "BIGINT", "unique across all tables"),
        _c("time", "TIMESTAMP", "when the sign-in happened (UTC)"),
        _c("upn", "VARCHAR", "user principal name, lower case"),
        _c("user_id", "VARCHAR", "Entra object id of the user"),
        _c("app", "VARCHAR", "application display name"),
        _c("app_id", "VARCHAR", "application (client) id"),
        _c("client_app", "VARCHAR", "clientAppUsed as Microsoft writes it, e.g. 'IMAP4'"),
        _c("protocol", "VARCHAR", "short protocol name: browser, modern, imap, pop, smtp, "
           "ews, activesync, mapi, rpc, autodiscover, oab, powershell, reporting, other"),
        _c("legacy_protocol", "BOOLEAN", "the client app is a legacy (basic-auth capable) one"),
        _c("auth_protocol", "VARCHAR", "authenticationProtocol, e.g. ropc, deviceCode"),
        _c("resource", "VARCHAR", "resource display name"),
        _c("ip", "VARCHAR", "client IP, normalized"),
        _c("ip_prefix", "VARCHAR", "the /24 (IPv4) or /64 (IPv6) network of ip"),
        _c("user_agent", "VARCHAR", "user agent string"),
        _c("result_code", "INTEGER", "Entra error code; 0 is success"),
        _c("failure_reason", "VARCHAR", "failure reason text"),
        _c("success", "BOOLEAN", "result_code = 0"),
        _c("interactive", "BOOLEAN", "interactive sign-in (false for the non-interactive log)"),
        _c("ca_status", "VARCHAR", "conditional-access status: success, failure, notApplied"),
        _c("country", "VARCHAR", "country or region code"),
        _c("device_id", "VARCHAR", "Entra device id, when the device is known"),
        _c("correlation_id", "VARCHAR", "correlation id"),
        _c("request_id", "VARCHAR", "sign-in (request) id"),
        *_PROVENANCE,
    ),
)

DIRECTORY_AUDITS = Table(
    name="directory_audits",
    doc="Entra ID audit log (directoryAudit) records.",
    columns=(
        _c("event_id", "BIGINT", "unique across all tables"),
        _c("time", "TIMESTAMP", "activityDateTime (UTC)"),
        _c("activity", "VARCHAR", "activity display name / operation name, trimmed"),
        _c("category", "VARCHAR", "e.g. UserManagement"),
        _c("service", "VARCHAR", "logged by service, e.g. Core Directory"),
        _c("result", "VARCHAR", "success, failure, ..."),
        _c("result_reason", "VARCHAR", "result reason text"),
        _c("initiator", "VARCHAR", "initiating user's UPN (lower case) or app's name"),
        _c("initiator_id", "VARCHAR", "initiating user's or service principal's id"),
        _c("initiator_ip", "VARCHAR", "initiator's IP, normalized"),
        _c("target_upns", "VARCHAR[]", "target users' UPNs, lower case"),
        _c("target_ids", "VARCHAR[]", "target objects' ids"),
        _c("target_names", "VARCHAR[]", "target objects' display names"),
        _c("modified_properties", MODIFIED_PROPERTIES, "every modified property of every target"),
        _c("correlation_id", "VARCHAR", "correlation id"),
        _c("record_id", "VARCHAR", "audit record id"),
        *_PROVENANCE,
    ),
)

MAILBOX_AUDITS = Table(
    name="mailbox_audits",
    doc="Exchange records of the Unified Audit Log: mailbox item actions and admin cmdlets.",
    columns=(
        _c("event_id", "BIGINT", "unique across all tables"),
        _c("time", "TIMESTAMP", "CreationTime (UTC)"),
        _c("operation", "VARCHAR", "e.g. MailItemsAccessed, Send, New-InboxRule"),
        _c("workload", "VARCHAR", "e.g. Exchange"),
        _c("record_type", "VARCHAR", "record type name (numbers are mapped to names)"),
        _c("actor", "VARCHAR", "UserId of the actor, lower case"),
        _c("actor_sid", "VARCHAR", "LogonUserSid"),
        _c("mailbox_upn", "VARCHAR", "MailboxOwnerUPN, lower case"),
        _c("target_mailbox", "VARCHAR", "the mailbox acted on: the send-as or send-on-behalf "
           "address, the mailbox owner, or the cmdlet's Mailbox/Identity parameter; lower case"),
        _c("client_ip", "VARCHAR", "client IP, normalized"),
        _c("client_info", "VARCHAR", "ClientInfoString, e.g. 'Client=REST;'"),
        _c("app_id", "VARCHAR", "AppId"),
        _c("client_app_id", "VARCHAR", "ClientAppId"),
        _c("logon_type", "VARCHAR", "owner, admin, delegate, transport, systemservice, ..."),
        _c("result_status", "VARCHAR", "ResultStatus"),
        _c("parameters", PARAMETER_LIST, "cmdlet Parameters and OperationProperties; "
           "names lower case"),
        _c("object_id", "VARCHAR", "ObjectId / OfficeObjectId"),
        _c("item_subject", "VARCHAR", "subject of the item acted on, when recorded"),
        _c("folder", "VARCHAR", "folder path of the item(s) acted on"),
        _c("send_as_upn", "VARCHAR", "SendAsUserSmtp, lower case"),
        _c("send_on_behalf_upn", "VARCHAR", "SendOnBehalfOfUserSmtp, lower case"),
        _c("recipient_count", "INTEGER", "recipients of a sent message, when recorded"),
        _c("record_id", "VARCHAR", "audit record id"),
        *_PROVENANCE,
    ),
)

TABLES: tuple[Table, ...] = (SIGNINS, DIRECTORY_AUDITS, MAILBOX_AUDITS)
TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
