"""Exchange write cmdlets on permission entries and inbox rules, and what every write
cmdlet shares: its success answer, its errors, and trustee resolution.

Removing matches the entry's trustee as written (so a deleted object's SID can be
removed, as in Exchange); adding needs a trustee the tenant knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mailwarden.emulator.answers import EXO_NOT_FOUND, exo_error_body
from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.state import Recipient

#: An answer: status, headers, body (as `mailwarden.emulator.exchange.Answer`).
Answer = tuple[int, dict[str, str], dict[str, Any]]
#: The domain controller Exchange names in "couldn't be found on" messages.
_SERVER = "AM0PR01A001DC001.EURPR01A001.PROD.OUTLOOK.COM"


class WriteError(Exception):
    """A write cmdlet's failure, answered in Exchange's error shape."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail

    def answer(self) -> Answer:
        return self.status, {}, exo_error_body(self.code, "Error executing cmdlet", self.detail)

    @classmethod
    def not_found(cls, identity: str) -> WriteError:
        return cls(
            404, "NotFound",
            f"{EXO_NOT_FOUND}|The operation couldn't be performed because object "
            f"'{identity}' couldn't be found on '{_SERVER}'.",
        )

    @classmethod
    def unknown_parameter(cls, name: str) -> WriteError:
        return cls(
            400, "BadRequest",
            "|System.Management.Automation.ParameterBindingException|A parameter cannot be "
            f"found that matches parameter name '{name}'.",
        )

    @classmethod
    def bad_value(cls, name: str, value: Any) -> WriteError:
        return cls(
            400, "BadRequest",
            "|System.Management.Automation.ParameterBindingException|Cannot process argument "
            f"transformation on parameter '{name}'. Cannot convert value \"{value}\".",
        )

    @classmethod
    def missing_identity(cls) -> WriteError:
        return cls(
            400, "BadRequest",
            "|System.Management.Automation.ParameterBindingException|Cannot bind argument to "
            "parameter 'Identity' because it is null.",
        )


def ok(warnings: list[str]) -> Answer:
    """A write cmdlet's success: no rows, perhaps warnings."""
    body = {
        "@odata.context": "$metadata#Collection(Exchange.GenericHashTable)",
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": warnings,
        "value": [],
    }
    return 200, {}, body


def principal(emulator: Emulator, who: str) -> Recipient | dict[str, Any] | None:
    """What a trustee names: a recipient, or a Graph user or group (None: nothing)."""
    state = emulator.state
    return state.resolve(who, mailbox=False) or state.user(who) or state.group(who)


def _param(parameters: Mapping[str, Any], name: str) -> Any:
    return next((v for k, v in parameters.items() if k.lower() == name.lower()), None)


def _text(parameters: Mapping[str, Any], name: str) -> str:
    value = _param(parameters, name)
    if not isinstance(value, str) or not value.strip():
        raise WriteError(
            400, "BadRequest",
            "|System.Management.Automation.ParameterBindingException|Cannot bind argument to "
            f"parameter '{name}' because it is null.",
        )
    return value


def _rights(parameters: Mapping[str, Any]) -> list[str]:
    value = _param(parameters, "AccessRights")
    rights = value if isinstance(value, list) else [value] if value else []
    if not rights:
        raise WriteError.bad_value("AccessRights", value)
    return [str(r) for r in rights]


def _recipient(emulator: Emulator, parameters: Mapping[str, Any], *, mailbox: bool) -> Recipient:
    identity = _text(parameters, "Identity")
    found = emulator.state.resolve(identity, mailbox=mailbox)
    if found is None:
        raise WriteError.not_found(identity)
    return found


def _mailbox_identity(emulator: Emulator, recipient: Recipient) -> str:
    rows = emulator.state.cmdlet_rows("Get-Mailbox", recipient)
    return str(rows[0].get("Identity")) if rows else recipient.display


def _change_entries(
    emulator: Emulator,
    parameters: Mapping[str, Any],
    *,
    cmdlet: str,
    who: str,
    add: bool,
    new_row: Callable[[str, str, list[str]], dict[str, Any]],
) -> list[str]:
    """Add or remove rights of one trustee's explicit Allow entries on one recipient."""
    recipient = _recipient(emulator, parameters, mailbox=cmdlet == "Get-MailboxPermission")
    trustee = _text(parameters, who)
    rights = _rights(parameters)
    if add and principal(emulator, trustee) is None:
        raise WriteError.not_found(trustee)
    state = emulator.state
    source = f"exo/{cmdlet}"
    mine = {id(r) for r in state.cmdlet_rows(cmdlet, recipient)}
    rows, touched = [], False
    for row in state.rows(source):
        explicit = id(row) in mine and not row.get("IsInherited") and not row.get("Deny")
        allow = str(row.get("AccessControlType") or "Allow") == "Allow"
        if not (explicit and allow and str(row.get(who) or "").lower() == trustee.lower()):
            rows.append(row)
            continue
        touched = True
        held = [str(r) for r in row.get("AccessRights") or ()]
        if add:
            held += [r for r in rights if r.lower() not in {h.lower() for h in held}]
        else:
            held = [h for h in held if h.lower() not in {r.lower() for r in rights}]
        if held:
            rows.append({**row, "AccessRights": held})
    if add and not touched:
        rows.append(new_row(_mailbox_identity(emulator, recipient), trustee, rights))
    if not add and not touched:
        return [f"An Access Control Entry for {trustee} with {', '.join(rights)} doesn't exist "
                "on the object, so nothing was removed."]
    state.replace_source(source, rows)
    return []


def _mailbox_row(identity: str, trustee: str, rights: list[str]) -> dict[str, Any]:
    return {"Identity": identity, "User": trustee, "AccessRights": rights,
            "IsInherited": False, "Deny": False, "InheritanceType": "All"}


def _recipient_row(identity: str, trustee: str, rights: list[str]) -> dict[str, Any]:
    return {"Identity": identity, "Trustee": trustee, "AccessControlType": "Allow",
            "AccessRights": rights, "IsInherited": False, "InheritanceType": "None"}


def _mailbox_permission(add: bool) -> Callable[[Emulator, Mapping[str, Any]], list[str]]:
    return lambda emulator, parameters: _change_entries(
        emulator, parameters, cmdlet="Get-MailboxPermission", who="User", add=add,
        new_row=_mailbox_row,
    )


def _recipient_permission(add: bool) -> Callable[[Emulator, Mapping[str, Any]], list[str]]:
    return lambda emulator, parameters: _change_entries(
        emulator, parameters, cmdlet="Get-RecipientPermission", who="Trustee", add=add,
        new_row=_recipient_row,
    )


def _inbox_rule(enabled: bool) -> Callable[[Emulator, Mapping[str, Any]], list[str]]:
    def change(emulator: Emulator, parameters: Mapping[str, Any]) -> list[str]:
        identity = _text(parameters, "Identity")
        state = emulator.state
        targets = {id(r) for r in state.rule_rows(identity)}
        if not targets:
            raise WriteError.not_found(identity)
        rows = [
            {**r, "Enabled": enabled} if id(r) in targets else r
            for r in state.rows("exo/Get-InboxRule")
        ]
        state.replace_source("exo/Get-InboxRule", rows)
        return []

    return change


PERMISSION_CMDLETS: Mapping[str, Callable[[Emulator, Mapping[str, Any]], list[str]]] = {
    "Add-MailboxPermission": _mailbox_permission(add=True),
    "Remove-MailboxPermission": _mailbox_permission(add=False),
    "Add-RecipientPermission": _recipient_permission(add=True),
    "Remove-RecipientPermission": _recipient_permission(add=False),
    "Enable-InboxRule": _inbox_rule(enabled=True),
    "Disable-InboxRule": _inbox_rule(enabled=False),
}
