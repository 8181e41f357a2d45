"""Exchange writes of the tenant-wide remediations: Direct Send and application access.

    Set-OrganizationConfig        RejectDirectSend ($true | $false; office-docs-powershell
                                  Set-OrganizationConfig.md)
    New-ApplicationAccessPolicy   -AppId -PolicyScopeGroupId -AccessRight RestrictAccess|
                                  DenyAccess [-Description] (New-ApplicationAccessPolicy.md):
                                  the group must be a mail-enabled security group; the new
                                  row is shaped as Get-ApplicationAccessPolicy shows one
                                  (Identity "<tenant>\\<appId>:<group SID>;<group id>",
                                  ScopeIdentityRaw "<group SID>;<group id>")
    Remove-ApplicationAccessPolicy -Identity (that Identity)

Each changes the served rows, so a rescan sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mailwarden.emulator.runtime import Emulator
from mailwarden.emulator.writes_permissions import WriteError

ORGANIZATION = "exo/Get-OrganizationConfig"
POLICIES = "exo/Get-ApplicationAccessPolicy"
_RIGHTS = {"restrictaccess": "RestrictAccess", "denyaccess": "DenyAccess"}


def _params(parameters: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in parameters.items():
        if name.lower() == "confirm":
            continue
        if name.lower() not in known:
            raise WriteError.unknown_parameter(name)
        result[name.lower()] = value
    return result


def set_organization_config(emulator: Emulator, parameters: Mapping[str, Any]) -> list[str]:
    given = _params(parameters, {"rejectdirectsend", "identity"})
    value = given.get("rejectdirectsend")
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        value = value.lower() == "true"
    if not isinstance(value, bool):
        raise WriteError.bad_value("RejectDirectSend", value)
    state = emulator.state
    current = state.data.get(ORGANIZATION)
    if not isinstance(current, Mapping):
        raise WriteError.not_found("OrganizationConfig")
    state.replace_source(ORGANIZATION, {**current, "RejectDirectSend": value})
    return []


def _scope_group(emulator: Emulator, wanted: str) -> dict[str, Any]:
    key = wanted.lower()
    for group in emulator.state.rows("graph/groups"):
        names = {
            str(group.get(k) or "").lower() for k in ("id", "mail", "displayName", "mailNickname")
        }
        if key in names:
            if not (group.get("mailEnabled") and group.get("securityEnabled")):
                raise WriteError(
                    400,
                    "BadRequest",
                    "|Microsoft.Exchange.Management.Tasks.ValidationException|The "
                    f"PolicyScopeGroupId '{wanted}' isn't a mail-enabled security group or a "
                    "mailbox.",
                )
            return group
    raise WriteError.not_found(wanted)


def new_application_access_policy(emulator: Emulator, parameters: Mapping[str, Any]) -> list[str]:
    given = _params(parameters, {"appid", "policyscopegroupid", "accessright", "description"})
    app_ids = given.get("appid")
    app_list = app_ids if isinstance(app_ids, list) else [app_ids]
    right = _RIGHTS.get(str(given.get("accessright", "")).lower())
    if right is None:
        raise WriteError.bad_value("AccessRight", given.get("accessright"))
    if not all(isinstance(a, str) and a for a in app_list):
        raise WriteError.bad_value("AppId", app_ids)
    group = _scope_group(emulator, str(given.get("policyscopegroupid") or ""))
    group_id, sid = str(group["id"]), str(group.get("securityIdentifier") or "")
    tenant = emulator.state.tenant_id
    rows = emulator.state.rows(POLICIES)
    for app_id in app_list:
        rows.append(
            {
                "ScopeName": group.get("displayName"),
                "ScopeIdentity": group.get("displayName"),
                "Identity": f"{tenant}\\{app_id}:{sid};{group_id}",
                "AppId": app_id,
                "ScopeIdentityRaw": f"{sid};{group_id}",
                "Description": given.get("description") or "",
                "AccessRight": right,
                "ShardType": "All",
                "IsValid": True,
                "ObjectState": "Unchanged",
            }
        )
    emulator.state.replace_source(POLICIES, rows)
    return []


def remove_application_access_policy(
    emulator: Emulator, parameters: Mapping[str, Any]
) -> list[str]:
    given = _params(parameters, {"identity"})
    identity = str(given.get("identity") or "")
    if not identity:
        raise WriteError.missing_identity()
    rows = emulator.state.rows(POLICIES)
    kept = [r for r in rows if str(r.get("Identity", "")).lower() != identity.lower()]
    if len(kept) == len(rows):
        raise WriteError.not_found(identity)
    emulator.state.replace_source(POLICIES, kept)
    return []


APP_CMDLETS: Mapping[str, Callable[[Emulator, Mapping[str, Any]], list[str]]] = {
    "Set-OrganizationConfig": set_organization_config,
    "New-ApplicationAccessPolicy": new_application_access_policy,
    "Remove-ApplicationAccessPolicy": remove_application_access_policy,
}
