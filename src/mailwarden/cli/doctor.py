"""`mailwarden doctor`: before a long collect, what would fail and what to grant."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.text import Text

from mailwarden.cli import app
from mailwarden.cli.connect import (
    CaBundleOpt,
    CertificateOpt,
    ClientIdOpt,
    CloudOpt,
    ConfigOpt,
    Connection,
    DeviceCodeOpt,
    ExoUrlOpt,
    GraphUrlOpt,
    LoginUrlOpt,
    TenantOpt,
    open_session,
)
from mailwarden.cli.tables import Column, FitTable, check_format, format_option
from mailwarden.cli.ui import console, err_console
from mailwarden.collect.preflight import Preflight, preflight
from mailwarden.collect.verdicts import Verdict
from mailwarden.errors import AuthError, ServiceError
from mailwarden.schemas import DOCTOR_SCHEMA
from mailwarden.text import plural

_STYLE = {
    Verdict.OK: "green",
    Verdict.LICENCE: "yellow",
    Verdict.MISSING_PERMISSION: "bold red",
    Verdict.MISSING_ROLE: "bold red",
    Verdict.SIGN_IN: "bold red",
    Verdict.UNREACHABLE: "magenta",
    Verdict.FAILED: "magenta",
    Verdict.NOT_PROBED: "dim",
}


def exit_code(result: Preflight) -> int:
    """3 when access is missing, 4 when a service failed, else 0 (a licence limitation
    only warns: collect records it and carries on)."""
    if result.access_problems:
        return AuthError.exit_code
    if result.service_problems:
        return ServiceError.exit_code
    return 0


def doctor_document(result: Preflight) -> dict[str, Any]:
    return {
        "schema": DOCTOR_SCHEMA,
        "tenant": result.tenant,
        "exit_code": exit_code(result),
        "tokens": {
            service.value: {"kind": grants.kind.value,
                            "permissions": sorted(grants.permissions)}
            for service, grants in result.grants.items()
        },
        "sources": [
            {"source": p.source, "service": p.service.value, "request": p.request,
             "status": p.verdict.value, "grant": p.grant or None, "detail": p.detail or None}
            for p in result.probes
        ],
    }


def doctor_table(result: Preflight) -> FitTable:
    """Each source and its result, with what to grant; the details follow in `to_do`."""
    table = FitTable([Column("source", ident=True), Column("result", ident=True),
                      Column("grant", beneath=True)],
                     title=Text(f"What collect can read in {result.tenant}"))
    for probe in result.probes:
        grant = probe.grant if probe.verdict is not Verdict.OK else ""
        table.add_row(Text(probe.source), Text(probe.verdict.value, style=_STYLE[probe.verdict]),
                      Text(grant))
    return table


def signed_in(result: Preflight) -> list[str]:
    """What each service's token grants, one line each."""
    lines = []
    for probe in result.probes:
        if probe.source.startswith("sign-in") and probe.verdict is Verdict.OK:
            label = probe.source.removeprefix("sign-in (").removesuffix(")")
            lines.append(f"{label}: signed in; {probe.detail}")
    return lines


def to_do(result: Preflight) -> list[str]:
    """One line per source that needs something: what to grant, or what went wrong."""
    lines = []
    for probe in result.probes:
        if probe.verdict in {Verdict.OK, Verdict.NOT_PROBED}:
            continue
        what = f"grant {probe.grant}" if probe.grant else probe.detail
        if probe.verdict is Verdict.LICENCE:
            what = f"needs {probe.grant} (a licence limitation: collect carries on)"
        lines.append(f"{probe.source}: {probe.verdict.value}: {what}")
    return lines


def _summary(result: Preflight) -> str:
    counted = [p for p in result.probes if not p.source.startswith("sign-in")]
    ok = sum(p.verdict is Verdict.OK for p in counted)
    parts = [f"{ok} of {plural(len(counted), 'source')} readable"]
    if result.access_problems:
        parts.append(f"{len(result.access_problems)} need a permission, a role or a sign-in")
    if result.limitations:
        parts.append(f"{plural(len(result.limitations), 'licence limitation')} (collect "
                     "records them; the checks that need them report error)")
    if result.service_problems:
        parts.append(f"{len(result.service_problems)} failed for another reason")
    return "; ".join(parts)


@app.command()
def doctor(
    tenant: TenantOpt = None,
    client_id: ClientIdOpt = None,
    certificate: CertificateOpt = None,
    device_code: DeviceCodeOpt = False,
    cloud: CloudOpt = None,
    login_url: LoginUrlOpt = None,
    graph_url: GraphUrlOpt = None,
    exo_url: ExoUrlOpt = None,
    ca_bundle: CaBundleOpt = None,
    config: ConfigOpt = None,
    output_format: Annotated[str, format_option("table", "json")] = "table",
) -> None:
    """Check, before a long collect, that every source it reads can be read: sign in once,
    read the permissions the tokens carry, and send one small request per source.

    Each source is ok, or names what to grant: a Microsoft Graph application permission,
    an Exchange role for the app, or a licence the tenant lacks (collect then records a
    limitation and the checks that need it report error). Takes the connection options
    of `collect`.

    Exit codes: 0 every source can be read (licence limitations only warn); 2 bad options;
    3 signing in failed, or a permission or Exchange role is missing; 4 a service could
    not be reached or answered with an error; 70 internal error."""
    check_format(output_format)
    settings = Connection.of(locals()).settings()
    tenant_name = settings.require_tenant()
    with err_console.status("signing in and probing each source"), \
            open_session(settings) as session:
        result = session.run(lambda http: preflight(http, tenant_name))
    if output_format == "json":
        typer.echo(json.dumps(doctor_document(result), indent=1, ensure_ascii=False))
    else:
        for line in signed_in(result):
            console.print(line, markup=False, soft_wrap=True)
        console.print(doctor_table(result))
        for line in to_do(result):
            console.print(line, markup=False, soft_wrap=True)
        console.print(_summary(result), markup=False, soft_wrap=True)
    code = exit_code(result)
    if code:
        raise typer.Exit(code)
