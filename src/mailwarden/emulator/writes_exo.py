"""Exchange write cmdlets that remediation and its rollback run, over InvokeCommand.

    Set-CASMailbox   ImapEnabled, PopEnabled, EwsEnabled, ActiveSyncEnabled, MAPIEnabled,
                     OWAEnabled, SmtpClientAuthenticationDisabled
    Set-Mailbox      AuditEnabled, AuditOwner/AuditDelegate/AuditAdmin, GrantSendOnBehalfTo
                     (a list, or {"Add": [...]} / {"Remove": [...]}), ForwardingSmtpAddress,
                     ForwardingAddress, DeliverToMailboxAndForward
    Set-User         RemotePowerShellEnabled
    Set-CalendarProcessing  ProcessExternalMeetingMessages, ForwardRequestsToDelegates,
                     ResourceDelegates (a list, or {"Add": [...]} / {"Remove": [...]})
    Add-/Remove-MailboxPermission, Add-/Remove-RecipientPermission,
    Enable-/Disable-InboxRule
    Set-OrganizationConfig, New-/Remove-ApplicationAccessPolicy (writes_apps)

Each changes the served rows, so a rescan sees it, and counts as a write in the stats,
refused or not. Unknown identities and parameters fail the way Exchange fails them;
`failing_sources` {"exo/write": 403} refuses every write, as Exchange does for an app
without a role that may change recipients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mailwarden.emulator.config import Service
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.writes_apps import APP_CMDLETS
from mailwarden.emulator.writes_permissions import (
    PERMISSION_CMDLETS,
    Answer,
    WriteError,
    ok,
    principal,
)

#: `failing_sources` key that refuses every Exchange write.
EXO_WRITE_SOURCE = "exo/write"
_BOOL = "bool"
_NULLABLE_BOOL = "bool?"
_TEXT = "text?"
_LIST = "list"
#: cmdlet -> (source, the identity must be a mailbox, parameter -> kind)
SETTERS: Mapping[str, tuple[str, bool, Mapping[str, str]]] = {
    "Set-CASMailbox": (
        "exo/Get-CASMailbox",
        True,
        {
            "ImapEnabled": _BOOL,
            "PopEnabled": _BOOL,
            "EwsEnabled": _BOOL,
            "ActiveSyncEnabled": _BOOL,
            "MAPIEnabled": _BOOL,
            "OWAEnabled": _BOOL,
            "SmtpClientAuthenticationDisabled": _NULLABLE_BOOL,
        },
    ),
    "Set-Mailbox": (
        "exo/Get-Mailbox",
        True,
        {
            "AuditEnabled": _BOOL,
            "AuditOwner": _LIST,
            "AuditDelegate": _LIST,
            "AuditAdmin": _LIST,
            "GrantSendOnBehalfTo": _LIST,
            "ForwardingSmtpAddress": _TEXT,
            "ForwardingAddress": _TEXT,
            "DeliverToMailboxAndForward": _BOOL,
        },
    ),
    "Set-User": ("exo/Get-User", False, {"RemotePowerShellEnabled": _BOOL}),
    "Set-CalendarProcessing": (
        "exo/Get-CalendarProcessing",
        True,
        {
            "ProcessExternalMeetingMessages": _BOOL,
            "ForwardRequestsToDelegates": _BOOL,
            "ResourceDelegates": _LIST,
        },
    ),
}
WRITE_CMDLETS = frozenset(SETTERS) | frozenset(PERMISSION_CMDLETS) | frozenset(APP_CMDLETS)
_IGNORED = {"identity", "confirm"}


def write_cmdlet(emulator: Emulator, cmdlet: str, parameters: Mapping[str, Any]) -> Answer:
    """Run one write cmdlet against the emulator's state: status, headers, body."""
    emulator.stats.add(Service.EXCHANGE, "writes")
    status = emulator.config.failing_sources.get(EXO_WRITE_SOURCE)
    if status is not None:
        return WriteError(
            status, "Forbidden" if status == 403 else "InternalServerError",
            "|Microsoft.Exchange.Management.Tasks.AccessDeniedException|The application "
            f"doesn't have the permissions required to run '{cmdlet}'.",
        ).answer()
    try:
        with emulator.state.lock:
            if cmdlet in SETTERS:
                warnings = _set(emulator, cmdlet, parameters)
            elif cmdlet in APP_CMDLETS:
                warnings = APP_CMDLETS[cmdlet](emulator, parameters)
            else:
                warnings = PERMISSION_CMDLETS[cmdlet](emulator, parameters)
    except WriteError as exc:
        return exc.answer()
    return ok(warnings)


def _set(emulator: Emulator, cmdlet: str, parameters: Mapping[str, Any]) -> list[str]:
    source, needs_mailbox, known = SETTERS[cmdlet]
    changes: dict[str, Any] = {}
    by_lower = {name.lower(): name for name in known}
    for raw_name, value in parameters.items():
        if raw_name.lower() in _IGNORED:
            continue
        name = by_lower.get(raw_name.lower())
        if name is None:
            raise WriteError.unknown_parameter(raw_name)
        changes[name] = _coerce(name, known[name], value)
    identity = _identity(parameters)
    state = emulator.state
    recipient = state.resolve(identity, mailbox=needs_mailbox)
    getter = "Get-" + cmdlet.split("-", 1)[1]
    rows = state.cmdlet_rows(getter, recipient) if recipient is not None else []
    if not rows:
        raise WriteError.not_found(identity)
    row = rows[0]
    updated = dict(row)
    for name, value in changes.items():
        updated[name] = _apply(emulator, name, known[name], row.get(name), value)
    state.replace_source(source, [updated if r is row else r for r in state.rows(source)])
    return []


def _identity(parameters: Mapping[str, Any]) -> str:
    identity = next((v for k, v in parameters.items() if k.lower() == "identity"), None)
    if not isinstance(identity, str) or not identity.strip():
        raise WriteError.missing_identity()
    return identity


def _coerce(name: str, kind: str, value: Any) -> Any:
    if kind in (_BOOL, _NULLABLE_BOOL):
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        if isinstance(value, bool) or (value is None and kind == _NULLABLE_BOOL):
            return value
        raise WriteError.bad_value(name, value)
    if kind == _TEXT:
        if value is None or isinstance(value, str):
            return value or None
        raise WriteError.bad_value(name, value)
    if isinstance(value, list | str | Mapping) or value is None:
        return value
    raise WriteError.bad_value(name, value)


def _apply(emulator: Emulator, name: str, kind: str, current: Any, value: Any) -> Any:
    """The new value of one property: lists take a replacement or an Add/Remove change."""
    if name == "ForwardingSmtpAddress" and value is not None:
        return value if value.lower().startswith("smtp:") else f"smtp:{value}"
    if name == "ForwardingAddress" and value is not None:
        if emulator.state.resolve(value, mailbox=False) is None:
            raise WriteError.not_found(value)
        return value
    if kind != _LIST:
        return value
    check: Callable[[str], None] | None = None
    if name in {"GrantSendOnBehalfTo", "ResourceDelegates"}:
        check = lambda who: _require_principal(emulator, who)  # noqa: E731
    return _list_change(current, value, check)


def _list_change(current: Any, value: Any, check: Callable[[str], None] | None) -> list[str]:
    items = [str(v) for v in (current or [])] if isinstance(current, list) else (
        [str(current)] if current else [])
    if not isinstance(value, Mapping):
        replacement = value if isinstance(value, list) else ([value] if value else [])
        for item in replacement:
            if check is not None:
                check(str(item))
        return [str(v) for v in replacement]
    for key, change in value.items():
        entries = [str(v) for v in (change if isinstance(change, list) else [change])]
        if key.lower() == "add":
            for entry in entries:
                if check is not None:
                    check(entry)
                if entry.lower() not in {i.lower() for i in items}:
                    items.append(entry)
        elif key.lower() == "remove":
            gone = {e.lower() for e in entries}
            items = [i for i in items if i.lower() not in gone]
        else:
            raise WriteError.bad_value(key, change)
    return items


def _require_principal(emulator: Emulator, who: str) -> None:
    if principal(emulator, who) is None:
        raise WriteError.not_found(who)
