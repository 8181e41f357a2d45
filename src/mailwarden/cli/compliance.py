"""`compliance`: the findings of a run rolled up per benchmark control."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from mailwarden.assess import list_checks
from mailwarden.cli import app
from mailwarden.cli.partial import PARTIAL_EXIT, UNREAD, report_partial_scan
from mailwarden.cli.report import DbOpt
from mailwarden.cli.ui import console, err_console
from mailwarden.errors import ConfigError
from mailwarden.files import write_private_text
from mailwarden.model.controls import FRAMEWORK_NAMES, Framework
from mailwarden.model.findings import CheckInfo, Finding, Status
from mailwarden.notify.inputs import load_findings
from mailwarden.pipeline import scan_directory
from mailwarden.report.compliance import (
    COUNTED,
    ControlResult,
    render_csv,
    render_json,
    roll_up,
    status_summary,
    tenant_dict,
)
from mailwarden.report.markdown import compliance_lines
from mailwarden.text import plural
from mailwarden.times import iso_with_offset

FORMATS = ("table", "json", "csv", "md")
_STYLE = {Status.FAIL: "bold red", Status.ERROR: "yellow", Status.ACCEPTED: "cyan",
          Status.PASS: "green", Status.NOT_APPLICABLE: "dim"}


def _framework(value: str) -> Framework:
    try:
        return Framework(value)
    except ValueError:
        raise ConfigError(f"--framework {value!r}: use one of "
                          f"{', '.join(f.value for f in Framework)}") from None


def compliance_table(rows: tuple[ControlResult, ...], framework: Framework) -> Table:
    said = ", ".join(f"{n} {s}" for s, n in status_summary(rows).items() if n)
    table = Table(title=f"{FRAMEWORK_NAMES[framework]}: {plural(len(rows), 'control')}"
                        f"{' (' + said + ')' if said else ''}", title_justify="left")
    table.add_column("control")
    table.add_column("status")
    for column in ("fail", "error", "acc", "pass", "n/a"):
        table.add_column(column, justify="right")
    table.add_column("title", overflow="fold")
    for row in rows:
        table.add_row(row.control.id, Text(row.status.value, style=_STYLE[row.status]),
                      *(str(row.count(s)) for s in COUNTED), row.control.title)
    return table


def print_open(rows: tuple[ControlResult, ...], *, limit: int = 5) -> None:
    """Under the table: where the benchmark looks wider, and what keeps each control from
    passing."""
    for row in rows:
        if row.control.coverage:
            console.print(f"{row.control.id}: {row.control.coverage}", markup=False,
                          highlight=False, style="dim")
    for row in rows:
        if not row.open:
            continue
        console.print(f"\n{row.control.id} {row.status.value} "
                      f"(checks: {', '.join(row.checks)})", markup=False, highlight=False)
        for finding in row.open[:limit]:
            console.print(f"  {finding.status.value} {finding.check_id} "
                          f"{finding.resource.upn or 'tenant'}", markup=False, highlight=False)
        if len(row.open) > limit:
            console.print(f"  and {len(row.open) - limit} more", markup=False, highlight=False)


def _from_directory(directory: Path, db: str | None) -> tuple[
        tuple[Finding, ...], tuple[CheckInfo, ...], dict[str, Any], str | None, bool]:
    with err_console.status("assessing"):
        scan = scan_directory(directory, db_url=db)
    result = scan.result
    collected = result.tenant.collected_at
    partial = report_partial_scan(result)
    return (result.findings, result.checks, tenant_dict(result.tenant),
            iso_with_offset(collected) if collected else None, partial)


def _from_findings(path: Path) -> tuple[
        tuple[Finding, ...], tuple[CheckInfo, ...], dict[str, Any], str | None, bool]:
    document = load_findings(path)
    unread = sum(1 for kind in document.problem_kinds if kind in {k.value for k in UNREAD})
    errors = sum(1 for f in document.findings if f.status is Status.ERROR)
    if unread or errors:
        # As `scan` ends: a run with findings in error is partial, whatever the cause.
        why = (f"the scan behind {path} did not read every source" if unread
               else f"checks of the scan behind {path} could not judge what they read")
        err_console.print(
            f"[yellow]partial result:[/] {why}; {plural(errors, 'finding')} "
            f"{'is' if errors == 1 else 'are'} error, not pass (exit code {PARTIAL_EXIT})",
            markup=True, soft_wrap=True)
    return (document.findings, list_checks(), dict(document.tenant),
            document.generated_at or None, bool(unread or errors))


@app.command()
def compliance(
    framework_name: Annotated[str, typer.Option(
        "--framework", help="cis-m365 (CIS Microsoft 365 Foundations v6.0.0), scuba (CISA "
        "SCuBA baselines), cis-controls (CIS Controls v8) or mitre-attack.")] = "cis-m365",
    from_dir: Annotated[Path | None, typer.Option(
        "--from-dir", help="Assess a recorded tenant (offline), as `scan --from-dir` does.")
    ] = None,
    findings: Annotated[Path | None, typer.Option(
        "--findings", help="Roll up the findings.json of an earlier scan instead.")] = None,
    output_format: Annotated[str, typer.Option(
        "--format", help="table, json, csv or md.")] = "table",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write to this file (json, csv or md) instead of printing.")] = None,
    db: DbOpt = None,
) -> None:
    """Roll the findings up per benchmark control: each control's status, its pass, fail,
    error, accepted and not-applicable counts, the checks mapped to it and the findings
    that keep it from passing.

    A control fails if any finding behind it failed; else it is error if one could not be
    judged (never a pass); else accepted if failures are covered by exceptions; else pass;
    not_applicable when nothing in the tenant is in its scope (CIS 1.2.2 without shared
    mailboxes). The mapping is the check catalogue's (`mailwarden checks` lists it), also
    for a findings.json written by an earlier version.

    Exit codes: 0 done; 2 bad usage or input; 4 a partial result: a source failed or is
    missing, or checks are error for another reason, so findings behind some controls are
    error; 5 the history database (--db)
    cannot be read; 70 internal error."""
    framework = _framework(framework_name)
    if output_format not in FORMATS:
        raise ConfigError(f"--format {output_format!r}: use {', '.join(FORMATS)}")
    if out is not None and output_format == "table":
        raise ConfigError("--out writes json, csv or md: add --format json, csv or md")
    if (from_dir is None) == (findings is None):
        raise ConfigError("give either --from-dir DIR (a recorded tenant) or "
                          "--findings FILE (a findings.json)")
    found, checks, tenant, as_of, partial = (
        _from_directory(from_dir, db) if from_dir is not None
        else _from_findings(findings))  # type: ignore[arg-type]
    rows = roll_up(found, checks, framework)
    if output_format == "table":
        console.print(compliance_table(rows, framework))
        print_open(rows)
    else:
        text = (render_json(rows, framework, tenant=tenant, as_of=as_of)
                if output_format == "json"
                else render_csv(rows) if output_format == "csv"
                else "\n".join(compliance_lines(rows, framework, heading="#")) + "\n")
        if out is None:
            typer.echo(text, nl=False)
        else:
            write_private_text(out, text)
            console.print(f"wrote {out}", markup=False)
    if partial:
        raise typer.Exit(code=PARTIAL_EXIT)
