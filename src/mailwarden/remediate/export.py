"""A plan as a PowerShell script for change control: ExchangeOnlineManagement and Microsoft
Graph PowerShell cmdlets, each action preceded by a comment saying why and what might break.

Pure: the same plan gives the same script, byte for byte (no generation time in it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mailwarden.remediate.model import Action, Call, ExoCall, GraphCall, Plan
from mailwarden.text import plural, printable

#: Cmdlets that ask for confirmation unless told not to.
_CONFIRMS = frozenset(
    {
        "Remove-MailboxPermission",
        "Remove-RecipientPermission",
        "Add-RecipientPermission",
        "Disable-InboxRule",
    }
)
GRAPH_SCOPES = ("User.Read.All", "User.EnableDisableAccount.All", "User.RevokeSessions.All")


def quote(text: str) -> str:
    """A PowerShell single-quoted string ('' inside)."""
    return "'" + text.replace("'", "''") + "'"


def value_text(value: Any) -> str:
    if value is None:
        return "$null"
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        parts = [f"{key} = {value_text(item)}" for key, item in value.items()]
        return "@{" + "; ".join(parts) + "}"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value) if value else "@()"
    return quote(str(value))


def call_text(call: Call) -> str:
    if isinstance(call, GraphCall):
        return _graph_text(call)
    parts = [call.cmdlet]
    for name, value in call.parameters.items():
        parts.append(f"-{name} {value_text(value)}")
    if call.cmdlet in _CONFIRMS:
        parts.append("-Confirm:$false")
    return " ".join(parts)


def _graph_text(call: GraphCall) -> str:
    segments = [s for s in call.path.split("/") if s]
    if len(segments) >= 2 and segments[0] == "users":
        user = quote(segments[1])
        if len(segments) == 3 and segments[2] == "revokeSignInSessions":
            return f"Revoke-MgUserSignInSession -UserId {user}"
        body = call.body
        if call.method == "PATCH" and body is not None and set(body) == {"accountEnabled"}:
            enabled = value_text(body["accountEnabled"])
            return f"Update-MgUser -UserId {user} -AccountEnabled:{enabled}"
    payload = f" -Body {quote(_json(call.body))}" if call.body is not None else ""
    return (
        f"Invoke-MgGraphRequest -Method {call.method} "
        f"-Uri {quote(f'/{call.version}{call.path}')}{payload}"
    )


def _json(body: Mapping[str, Any]) -> str:
    return json.dumps(dict(body), ensure_ascii=False)


#: What removing and granting app role assignments takes (serviceprincipal-delete-
#: approleassignedto.md, serviceprincipal-post-approleassignedto.md).
APP_ROLE_SCOPES = ("AppRoleAssignment.ReadWrite.All", "Application.Read.All")


def _comment(text: str) -> str:
    return " ".join(text.split())


def _action_lines(action: Action) -> list[str]:
    target = action.upn or str(action.detail.get("target") or "the tenant")
    lines = [f"# [{action.id}] {action.kind.value} {target}"]
    lines += [f"#   why: {r.check_id}: {_comment(r.message)}" for r in action.reasons]
    lines.append(f"#   might break: {_comment(action.breaks)}")
    if action.note:
        lines.append(f"#   note: {_comment(action.note)}")
    lines += [call_text(call) for call in action.calls]
    return [*lines, ""]


def _header(plan: Plan) -> list[str]:
    graph = any(isinstance(c, GraphCall) for a in plan.actions for c in a.calls)
    exchange = any(isinstance(c, ExoCall) for a in plan.actions for c in a.calls)
    modules = ["ExchangeOnlineManagement"] if exchange else []
    modules += ["Microsoft.Graph.Users", "Microsoft.Graph.Users.Actions"] if graph else []
    name = plan.tenant_name or plan.tenant_id
    collected = plan.collected_at.isoformat() if plan.collected_at else "an unknown time"
    lines = [
        f"# mailwarden remediation plan for {name} ({plan.tenant_id})",
        f"# From findings collected at {collected}: {plural(len(plan.actions), 'action')}.",
        "# Review each change before running it. `mailwarden remediate apply` makes the same",
        "# changes with a journal of the prior state, so that they can be rolled back.",
    ]
    if modules:
        lines.append(f"#Requires -Modules {', '.join(modules)}")
    lines.append("")
    if exchange:
        organization = plan.default_domain or plan.tenant_id
        lines.append(
            f"Connect-ExchangeOnline -Organization {quote(organization)} -ShowBanner:$false"
        )
    if graph:
        wanted = list(GRAPH_SCOPES)
        if any(isinstance(c, GraphCall) and "/appRoleAssignedTo" in c.path
               for a in plan.actions for c in a.calls):
            wanted += list(APP_ROLE_SCOPES)
        scopes = ", ".join(quote(s) for s in wanted)
        tenant = quote(plan.tenant_id)
        lines.append(f"Connect-MgGraph -TenantId {tenant} -Scopes {scopes} -NoWelcome")
    return [*lines, ""] if modules else lines


def _footer(plan: Plan) -> list[str]:
    lines: list[str] = []
    if plan.skipped:
        lines.append("# Left out by the guard rails:")
        lines += [f"#   {s.upn}: {_comment(s.reason)}" for s in plan.skipped]
        lines.append("")
    if plan.manual:
        lines.append("# Failing checks this script does not change (see the report's remediation):")
        for upn, reason in zip(plan.manual_upns, plan.manual, strict=True):
            lines.append(f"#   {reason.check_id} {upn or 'tenant'}")
        lines.append("")
    return lines


def export_powershell(plan: Plan) -> str:
    """The plan as a reviewed-change script."""
    lines = _header(plan)
    for action in plan.actions:
        lines += _action_lines(action)
    lines += _footer(plan)
    # Comments quote tenant text (names, reasons): an ESC sequence or a line break in one
    # would act on the terminal that shows the script, or end the comment early.
    lines = [printable(line) if line.startswith("#") else line for line in lines]
    return "\n".join(lines).rstrip("\n") + "\n"
