"""A plan as a PowerShell script for change control: ExchangeOnlineManagement and Microsoft
Graph PowerShell cmdlets, each action preceded by a comment saying why and what might break.

The script is safe to run as a reviewed change:
- it stops at the first error (`$ErrorActionPreference = 'Stop'`, and the same default for
  every cmdlet: functions of script modules, which the Exchange Online and Graph cmdlets
  are, do not see the caller's preference variables, PowerShell/PowerShell#4568 and
  microsoftgraph/msgraph-sdk-powershell#896);
- it keeps a transcript, and saves the state of each object (as its kind reads it,
  `kinds.base.ScriptStep`) to a JSON-lines file *before* changing it;
- it supports -WhatIf and -Confirm (`SupportsShouldProcess`): with -WhatIf it reads and
  saves every state and changes nothing;
- every change is made only while it is still needed, so a second run changes nothing;
- it signs in interactively, or app-only with a certificate (thumbprint or .pfx file):
  `Connect-ExchangeOnline -AppId -CertificateThumbprint|-Certificate -Organization`
  (learn.microsoft.com/powershell/module/exchange/connect-exchangeonline) and
  `Connect-MgGraph -ClientId -TenantId -CertificateThumbprint|-Certificate`
  (learn.microsoft.com/powershell/module/microsoft.graph.authentication/connect-mggraph).

Pure: the same plan gives the same script, byte for byte (no generation time in it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mailwarden.remediate.kinds import kind_of
from mailwarden.remediate.model import Action, Call, ExoCall, GraphCall, Plan
from mailwarden.remediate.pstext import quote, value_text
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
#: A tenant's initial domain, which app-only Exchange sign-in takes as -Organization.
_INITIAL = re.compile(r"^[^.]+\.(onmicrosoft\.(com|us|de)|partner\.onmschina\.cn)$", re.I)

__all__ = ["GRAPH_SCOPES", "call_text", "export_powershell", "initial_domain", "quote",
           "value_text"]
#: What the conditional-access cmdlets need besides (Graph docs: conditionalaccesspolicy-update,
#: conditionalaccessroot-post-policies).
CA_SCOPES = ("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess")
CA_PATH = "/identity/conditionalAccess/"


def initial_domain(domains: tuple[str, ...]) -> str | None:
    return next((d for d in domains if _INITIAL.match(d)), None)


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
    script = kind_of(action).script
    step = script(action) if script is not None else None
    if step is None:
        lines.append("#   not guarded: this change is made even when it is already in place")
    head = (f"Invoke-Change -Id {quote(action.id)} -Kind {quote(action.kind.value)} "
            f"-Target {quote(target)}")
    lines.append(f"{head} -Read {{")
    lines.append(f"    {step.read if step is not None else '$null'}")
    if step is not None:
        lines += ["} -Needed {", f"    param($state) {step.needed}"]
    lines.append("} -Change {")
    kind = kind_of(action)
    change = kind.powershell(action) if kind.powershell else [call_text(c) for c in action.calls]
    lines += [f"    {line}" for line in change]
    lines.append("}")
    return [*lines, ""]


def _conditional_access(plan: Plan) -> bool:
    return any(isinstance(c, GraphCall) and c.path.startswith(CA_PATH)
               for a in plan.actions for c in a.calls)


def _services(plan: Plan) -> tuple[bool, bool]:
    graph = any(isinstance(c, GraphCall) for a in plan.actions for c in a.calls)
    exchange = any(isinstance(c, ExoCall) for a in plan.actions for c in a.calls)
    return graph, exchange


def _help(plan: Plan) -> list[str]:
    name = plan.tenant_name or plan.tenant_id
    collected = plan.collected_at.isoformat() if plan.collected_at else "an unknown time"
    return [
        "<#",
        ".SYNOPSIS",
        f"    mailwarden remediation plan for {name} ({plan.tenant_id}):",
        f"    {plural(len(plan.actions), 'action')}, from findings collected at {collected}.",
        ".DESCRIPTION",
        "    Review each change before running it. Run it with -WhatIf first: it reads and saves",
        "    the current state of every object and says what it would change, changing nothing.",
        "    The script stops at the first error. Before each change it saves the object's state",
        "    to mailwarden-prior-state-<time>.jsonl (one JSON object a line) and keeps a",
        "    transcript in mailwarden-remediation-<time>.log, both in -LogDirectory. A change",
        "    already in place is left alone, so running the script again changes nothing twice.",
        "    `mailwarden remediate apply` makes the same changes with a journal that",
        "    `mailwarden remediate rollback` undoes.",
        ".EXAMPLE",
        "    ./remediation.ps1 -WhatIf",
        ".EXAMPLE",
        "    ./remediation.ps1 -AppId <application id> -CertificateThumbprint <thumbprint>",
        ".EXAMPLE",
        "    ./remediation.ps1 -AppId <application id> -CertificatePath ./app.pfx "
        "-CertificatePassword (Read-Host -AsSecureString)",
        "#>",
    ]


def _param_block(plan: Plan) -> list[str]:
    organization = plan.initial_domain or plan.default_domain or plan.tenant_id
    return [
        "[CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'Interactive')]",
        "param(",
        "    # App-only sign-in: the application (client) id, with its certificate by thumbprint",
        "    # (Windows certificate store) or from a .pfx file.",
        "    [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]",
        "    [Parameter(Mandatory, ParameterSetName = 'CertificateFile')]",
        "    [string] $AppId,",
        "    [Parameter(Mandatory, ParameterSetName = 'CertificateThumbprint')]",
        "    [string] $CertificateThumbprint,",
        "    [Parameter(Mandatory, ParameterSetName = 'CertificateFile')]",
        "    [string] $CertificatePath,",
        "    [Parameter(ParameterSetName = 'CertificateFile')]",
        "    [securestring] $CertificatePassword,",
        "    # App-only Exchange sign-in names the organization by its *.onmicrosoft.com domain.",
        f"    [string] $Organization = {quote(organization)},",
        "    # Where the transcript and the saved states are written.",
        "    [string] $LogDirectory = '.'",
        ")",
    ]


def _setup() -> list[str]:
    return [
        "$ErrorActionPreference = 'Stop'",
        "# Module cmdlets do not see the caller's preference variables: stop them by default too.",
        "$PSDefaultParameterValues['*:ErrorAction'] = 'Stop'",
        "$stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')",
        "$null = New-Item -ItemType Directory -Force -Path $LogDirectory -WhatIf:$false",
        "$TranscriptPath = Join-Path $LogDirectory \"mailwarden-remediation-$stamp.log\"",
        "$StatePath = Join-Path $LogDirectory \"mailwarden-prior-state-$stamp.jsonl\"",
        "$Outcomes = [ordered]@{ 'changed' = 0; 'already done' = 0; 'not changed' = 0 }",
        "",
        "function Invoke-Change {",
        "    # Saves the state of what one action changes, then changes it only while the change",
        "    # is still needed and not held back by -WhatIf or a declined -Confirm.",
        "    [CmdletBinding(SupportsShouldProcess)]",
        "    param(",
        "        [Parameter(Mandatory)] [string] $Id,",
        "        [Parameter(Mandatory)] [string] $Kind,",
        "        [Parameter(Mandatory)] [string] $Target,",
        "        [Parameter(Mandatory)] [scriptblock] $Read,",
        "        [scriptblock] $Needed,",
        "        [Parameter(Mandatory)] [scriptblock] $Change",
        "    )",
        "    $state = & $Read",
        "    $record = [ordered]@{",
        "        id = $Id; kind = $Kind; target = $Target",
        "        readAt = (Get-Date).ToUniversalTime().ToString('o'); state = $state",
        "    }",
        "    # On disk before the change: an interrupted run still tells what each object was.",
        "    $line = $record | ConvertTo-Json -Depth 8 -Compress",
        "    Add-Content -LiteralPath $StatePath -Value $line -Encoding utf8 -WhatIf:$false",
        "    if ($Needed -and -not (& $Needed $state)) {",
        "        Write-Host \"[$Id] $Kind ${Target}: already done\"",
        "        $script:Outcomes['already done'] += 1",
        "        return",
        "    }",
        "    if ($PSCmdlet.ShouldProcess($Target, \"$Kind [$Id]\")) {",
        "        & $Change",
        "        Write-Host \"[$Id] $Kind ${Target}: changed\"",
        "        $script:Outcomes['changed'] += 1",
        "    } else {",
        "        $script:Outcomes['not changed'] += 1",
        "    }",
        "}",
        "",
    ]


def _sign_in(plan: Plan) -> list[str]:
    graph, exchange = _services(plan)
    tenant = quote(plan.tenant_id)
    wanted = GRAPH_SCOPES + (CA_SCOPES if _conditional_access(plan) else ())
    if any(isinstance(c, GraphCall) and "/appRoleAssignedTo" in c.path
           for a in plan.actions for c in a.calls):
        wanted += APP_ROLE_SCOPES
    scopes = ", ".join(quote(s) for s in wanted)
    exo_app = "Connect-ExchangeOnline -AppId $AppId -Organization $Organization -ShowBanner:$false"
    mg_app = f"Connect-MgGraph -ClientId $AppId -TenantId {tenant} -NoWelcome"
    blocks = {
        "CertificateThumbprint": [
            *([f"{exo_app} -CertificateThumbprint $CertificateThumbprint"] if exchange else []),
            *([f"{mg_app} -CertificateThumbprint $CertificateThumbprint"] if graph else []),
        ],
        "CertificateFile": [
            "$file = (Resolve-Path -LiteralPath $CertificatePath).Path",
            "$certificate = if ($CertificatePassword) {",
            "    [System.Security.Cryptography.X509Certificates.X509Certificate2]::new("
            "$file, $CertificatePassword)",
            "} else {",
            "    [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($file)",
            "}",
            *([f"{exo_app} -Certificate $certificate"] if exchange else []),
            *([f"{mg_app} -Certificate $certificate"] if graph else []),
        ],
        "default": [
            *(["Connect-ExchangeOnline -ShowBanner:$false"] if exchange else []),
            *([f"Connect-MgGraph -TenantId {tenant} -Scopes {scopes} -NoWelcome"]
              if graph else []),
        ],
    }
    lines = ["switch ($PSCmdlet.ParameterSetName) {"]
    for name, body in blocks.items():
        label = name if name == "default" else quote(name)
        lines += [f"    {label} {{", *(f"        {b}" for b in body), "    }"]
    return [*lines, "}", ""]


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


def _modules(plan: Plan) -> list[str]:
    graph, exchange = _services(plan)
    modules = ["ExchangeOnlineManagement"] if exchange else []
    modules += ["Microsoft.Graph.Users", "Microsoft.Graph.Users.Actions"] if graph else []
    modules += ["Microsoft.Graph.Identity.SignIns"] if _conditional_access(plan) else []
    required = ["#Requires -Version 5.1"]
    return [*required, f"#Requires -Modules {', '.join(modules)}"] if modules else required


def export_powershell(plan: Plan) -> str:
    """The plan as a reviewed-change script (see the module docstring)."""
    # The help block quotes tenant text (its name) inside a <# #> comment.
    lines = [*(printable(line) for line in _help(plan)), *_modules(plan), *_param_block(plan),
             "", *_setup()]
    lines += ["Start-Transcript -LiteralPath $TranscriptPath -WhatIf:$false | Out-Null", "try {"]
    body = _sign_in(plan) if plan.actions else []
    for action in plan.actions:
        body += _action_lines(action)
    body += [
        "Write-Host ('changed {0}, already done {1}, not changed {2}' -f "
        "$Outcomes['changed'], $Outcomes['already done'], $Outcomes['not changed'])",
        "Write-Host \"states saved before each change: $StatePath\"",
    ]
    lines += [f"    {line}" if line else "" for line in body]
    lines += ["} finally {", "    Stop-Transcript | Out-Null", "}", "", *_footer(plan)]
    # Comments quote tenant text (names, reasons): an ESC sequence or a line break in one
    # would act on the terminal that shows the script, or end the comment early.
    lines = [printable(line) if line.lstrip().startswith("#") else line for line in lines]
    return "\n".join(lines).rstrip("\n") + "\n"
