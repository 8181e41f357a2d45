"""Exchange Online's admin API: `POST /adminapi/beta/{tenant}/InvokeCommand`.

The body names a cmdlet and its parameters; the answer is an OData page of rows, with
`@odata.nextLink` to POST the same body to for the next page. Page size follows
`Prefer: odata.maxpagesize=N` (at most 1000; 100 when absent), `?$select=` projects
rows, `-Identity` / `-Mailbox` accept any identity form, and an unknown identity or
cmdlet fails as Exchange fails it. Every 200 page carries `@adminapi.warnings` (empty
unless configured), and `@adminapi.errors` when configured.

The caller's Exchange role (`exchange_roles`) decides which cmdlets run; Get-InboxRule
returns hidden rules only with `-IncludeHidden` (`tenant.hidden_rules`); configured
mailboxes have vanished since Get-Mailbox listed them, or lie outside the caller's scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from mailwarden.emulator.answers import EXO_NOT_FOUND, exo_error_body
from mailwarden.emulator.exchange_roles import out_of_read_scope, role_refusal, scope_refusal
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.state import (
    CMDLET_SOURCES,
    MAILBOX_CMDLETS,
    RECIPIENT_CMDLETS,
    SINGLE_OBJECT_CMDLETS,
    Recipient,
)
from mailwarden.emulator.tokens import b64url, b64url_decode
from mailwarden.emulator.writes_exo import WRITE_CMDLETS, write_cmdlet
from mailwarden.tenant.hidden_rules import is_hidden_rule, without_mark
from mailwarden.tenant.self_permission import is_self_row, self_permission_row

MAX_PAGE_SIZE = 1000
#: The domain controller Exchange names in "couldn't be found on" messages.
_SERVER = "AM0PR01A001DC001.EURPR01A001.PROD.OUTLOOK.COM"
Answer = tuple[int, dict[str, str], dict[str, Any]]
_PAGE_SIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)
#: The cmdlets called once per mailbox, which a management scope can refuse per mailbox.
PER_MAILBOX_CMDLETS = frozenset(
    {"Get-MailboxPermission", "Get-InboxRule", "Get-CalendarProcessing", "Get-MailboxStatistics"}
)
_TRUE = {"true", "$true", "1"}


def _ci(parameters: Mapping[str, Any], name: str) -> Any:
    lowered = name.lower()
    return next((v for k, v in parameters.items() if str(k).lower() == lowered), None)


def _project(row: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    if select is None:
        return dict(row)
    wanted = {s.lower() for s in select}
    return {k: v for k, v in row.items() if k.lower() in wanted}


def _error(status: int, code: str, message: str, detail: str | None = None) -> Answer:
    return status, {}, exo_error_body(code, message, detail)


def _not_found(identity: str) -> Answer:
    return _error(
        404, "NotFound", "Error executing cmdlet",
        f"{EXO_NOT_FOUND}|The operation couldn't be performed because object '{identity}' "
        f"couldn't be found on '{_SERVER}'.",
    )


def _refused(status: int, cmdlet: str) -> Answer:
    if status == 403:
        return _error(
            403, "Forbidden", "Error executing cmdlet",
            f"|Microsoft.Exchange.Management.Tasks.AccessDeniedException|The application "
            f"doesn't have the permissions required to run '{cmdlet}'.",
        )
    return _error(status, "InternalServerError", "Error executing cmdlet",
                     f"|Microsoft.Exchange.Data.StoreTransientException|{cmdlet} failed.")


class Invocation:
    """One InvokeCommand call (a request, or a `$batch` sub-request): the cmdlet, its
    parameters, and how to page the answer."""

    def __init__(self, url: str, body: Any, prefer: str) -> None:
        parts = urlsplit(url)
        self.endpoint = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self.base = f"{parts.scheme}://{parts.netloc}"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        cmdlet_input = body.get("CmdletInput") if isinstance(body, Mapping) else None
        self.valid = isinstance(cmdlet_input, Mapping)
        cmdlet_input = cmdlet_input if isinstance(cmdlet_input, Mapping) else {}
        self.cmdlet = str(cmdlet_input.get("CmdletName") or "")
        parameters = cmdlet_input.get("Parameters")
        self.parameters: Mapping[str, Any] = parameters if isinstance(parameters, Mapping) else {}
        raw_select = query.get("$select")
        self.select = [s for s in raw_select.split(",") if s.strip()] if raw_select else None
        self.skiptoken = query.get("$skiptoken")
        self.prefer = prefer

    @property
    def route(self) -> str:
        """The cmdlet, its parameters and the page: what a fault or its count is keyed on."""
        parameters = json.dumps(self.parameters, sort_keys=True, default=str)
        return f"{self.cmdlet} {parameters} {self.skiptoken or ''}".strip()

    def page_size(self, default: int) -> int:
        match = _PAGE_SIZE.search(self.prefer)
        return min(MAX_PAGE_SIZE, max(1, int(match.group(1)))) if match else default

    def next_link(self, offset: int) -> str:
        options = []
        if self.select is not None:
            options.append("$select=" + quote(",".join(self.select), safe=","))
        options.append("$skiptoken=" + b64url(json.dumps({"o": offset}).encode()))
        return f"{self.endpoint}?{'&'.join(options)}"


def _switch(parameters: Mapping[str, Any], name: str) -> bool:
    value = _ci(parameters, name)
    return value is True or str(value).strip().lower() in _TRUE


def _inbox_rules(rows: list[dict[str, Any]], call: Invocation) -> list[dict[str, Any]]:
    """Rules as Get-InboxRule returns them: hidden ones only with -IncludeHidden."""
    hidden = _switch(call.parameters, "IncludeHidden")
    return [without_mark(r) for r in rows if hidden or not is_hidden_rule(r)]


def _named(emulator: Emulator, identities: tuple[str, ...], recipient: Recipient) -> bool:
    return any(emulator.state.resolve(i, mailbox=False) is recipient for i in identities)


def _unreachable(
    emulator: Emulator, call: Invocation, recipient: Recipient, identity: str
) -> Answer | None:
    """Why this mailbox's call fails although the mailbox was listed, or None."""
    config = emulator.config
    if _named(emulator, config.vanished_mailboxes, recipient):
        return _not_found(identity)
    if call.cmdlet not in PER_MAILBOX_CMDLETS:
        return None
    if _named(emulator, config.out_of_scope_mailboxes, recipient):
        return out_of_read_scope(recipient.display)
    recorded = emulator.state.mailbox_error(CMDLET_SOURCES[call.cmdlet][0], recipient)
    if recorded is not None:
        # The tenant was recorded without this mailbox's rows: fail as the recording did.
        return _error(400, "BadRequest", "Error executing cmdlet",
                      f"|System.InvalidOperationException|{recorded}")
    return scope_refusal(emulator.exchange_role, call.cmdlet, recipient.display)


def _rows(emulator: Emulator, call: Invocation) -> list[dict[str, Any]] | Answer:
    """The rows the cmdlet answers with, before paging, or the error it fails with."""
    rows = _cmdlet_rows(emulator, call)
    if not isinstance(rows, list) or call.cmdlet != "Get-InboxRule":
        return rows
    shown = _inbox_rules(rows, call)
    rule = _ci(call.parameters, "Identity")
    if rule and _ci(call.parameters, "Mailbox") is None and not shown:
        return _not_found(str(rule))  # a hidden rule, asked for without -IncludeHidden
    return shown


def _cmdlet_rows(emulator: Emulator, call: Invocation) -> list[dict[str, Any]] | Answer:
    cmdlet = call.cmdlet
    state = emulator.state
    source = CMDLET_SOURCES[cmdlet][0]
    if cmdlet in SINGLE_OBJECT_CMDLETS:
        value = state.data.get(source)
        return [dict(value)] if isinstance(value, Mapping) else state.rows(source)
    if cmdlet == "Get-AuthenticationPolicy":
        name = _ci(call.parameters, "Identity")
        rows = state.rows(source)
        if name is None:
            return rows
        found = [r for r in rows if str(name).lower() in
                 {str(_ci(r, "Identity")).lower(), str(_ci(r, "Name")).lower()}]
        return found or _not_found(str(name))
    identity = _ci(call.parameters, "Mailbox" if cmdlet == "Get-InboxRule" else "Identity")
    if identity is None and cmdlet == "Get-InboxRule" and _ci(call.parameters, "Identity"):
        rule = str(_ci(call.parameters, "Identity"))
        return state.rule_rows(rule) or _not_found(rule)
    if identity is None:
        rows = state.rows(source)
    else:
        recipient = state.resolve(str(identity), mailbox=cmdlet in MAILBOX_CMDLETS)
        if recipient is None:
            return _not_found(str(identity))
        unreachable = _unreachable(emulator, call, recipient, str(identity))
        if unreachable is not None:
            return unreachable
        rows = state.cmdlet_rows(cmdlet, recipient)
        if cmdlet == "Get-MailboxPermission" and not any(map(is_self_row, rows)):
            # Exchange lists SELF on every mailbox (tenant.self_permission), whatever the
            # recorded tenant kept of its rows.
            rows = [self_permission_row(recipient.display), *rows]
    assignee = _ci(call.parameters, "RoleAssigneeType")
    if assignee and cmdlet == "Get-ManagementRoleAssignment":
        rows = [r for r in rows if str(_ci(r, "RoleAssigneeType")).lower() == str(assignee).lower()]
    kinds = _ci(call.parameters, "RecipientTypeDetails")
    if kinds:
        wanted = {str(k).lower() for k in (kinds if isinstance(kinds, list) else [kinds])}
        rows = [r for r in rows if str(_ci(r, "RecipientTypeDetails")).lower() in wanted]
    return rows


def _result_size(parameters: Mapping[str, Any]) -> int | None:
    value = _ci(parameters, "ResultSize")
    if value is None or str(value).lower() == "unlimited":
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def answer_call(emulator: Emulator, call: Invocation, tenant: str) -> Answer:
    """An InvokeCommand call as Exchange answers it: status, headers, body."""
    if not call.valid or not call.cmdlet:
        return _error(400, "BadRequest", "The request body must hold CmdletInput.CmdletName.")
    write = call.cmdlet in WRITE_CMDLETS
    if write or call.cmdlet in CMDLET_SOURCES:
        refused_role = role_refusal(emulator.exchange_role, call.cmdlet, write=write)
        if refused_role is not None:
            return refused_role
    if write:
        return write_cmdlet(emulator, call.cmdlet, call.parameters)
    if call.cmdlet not in CMDLET_SOURCES:
        return _error(
            400, "BadRequest", "Error executing cmdlet",
            f"|System.Management.Automation.CommandNotFoundException|The term '{call.cmdlet}' "
            "is not recognized as the name of a cmdlet, function, script file, or operable "
            "program. Check the spelling of the name, or if a path was included, verify that "
            "the path is correct and try again.",
        )
    refused = emulator.refusal_status(CMDLET_SOURCES[call.cmdlet][0])
    if refused is not None:
        return _refused(refused, call.cmdlet)
    rows = _rows(emulator, call)
    if isinstance(rows, tuple):
        return rows
    limit = _result_size(call.parameters)
    if limit is not None and call.cmdlet in RECIPIENT_CMDLETS:
        rows = rows[:limit]
    offset = 0
    if call.skiptoken:
        try:
            offset = int(json.loads(b64url_decode(call.skiptoken))["o"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "BadRequest", "The $skiptoken is not valid.")
    size = call.page_size(emulator.config.exo_default_page_size)
    body: dict[str, Any] = {
        "@odata.context": f"{call.base}/adminapi/beta/{tenant}/$metadata"
        "#Collection(Exchange.GenericHashTable)",
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": _notes(emulator.config.exo_page_warnings, call),
        "value": [_project(r, call.select) for r in rows[offset : offset + size]],
    }
    errors = _notes(emulator.config.exo_page_errors, call)
    if errors:
        # No capture of this annotation is published; it is spelled like the warnings.
        body["adminapi.errors@odata.type"] = "#Collection(String)"
        body["@adminapi.errors"] = errors
    if offset + size < len(rows):
        body["@odata.nextLink"] = call.next_link(offset + size)
    return 200, {"Preference-Applied": f"odata.maxpagesize={size}"}, body


def _notes(configured: Mapping[str, tuple[str, ...]], call: Invocation) -> list[str]:
    return [text for pattern, texts in configured.items() if re.search(pattern, call.route)
            for text in texts]
