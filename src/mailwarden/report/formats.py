"""The output formats, the files each one writes, and `write_reports`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import assert_never

from mailwarden.errors import ConfigError, InputError
from mailwarden.files import make_private_dirs, write_private_text
from mailwarden.model.run import Run
from mailwarden.report import (
    alerts_json,
    compliance,
    csv_report,
    findings_json,
    html_report,
    markdown,
    ocsf,
    sarif,
)


class ReportFormat(StrEnum):
    HTML = "html"
    JSON = "json"  # findings.json, and alerts.json when logs were analysed
    CSV = "csv"
    SARIF = "sarif"
    OCSF = "ocsf"
    MARKDOWN = "md"


DEFAULT_FORMATS: tuple[ReportFormat, ...] = (ReportFormat.HTML, ReportFormat.JSON)


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    filename: str
    render: Callable[[Run], str]


def outputs(fmt: ReportFormat, run: Run) -> tuple[Output, ...]:
    """The files one format writes for this run."""
    match fmt:
        case ReportFormat.HTML:
            return (Output(filename="report.html", render=html_report.render),)
        case ReportFormat.JSON:
            found = Output(filename="findings.json", render=findings_json.render)
            if run.detection is None:
                return (found,)
            return (found, Output(filename="alerts.json", render=alerts_json.render))
        case ReportFormat.CSV:
            return (Output(filename="findings.csv", render=csv_report.render),
                    Output(filename="compliance.csv", render=compliance.render_run_csv))
        case ReportFormat.SARIF:
            return (Output(filename="findings.sarif", render=sarif.render),)
        case ReportFormat.OCSF:
            return (Output(filename="ocsf.json", render=ocsf.render),)
        case ReportFormat.MARKDOWN:
            return (Output(filename="summary.md", render=markdown.render),)
        case _:
            assert_never(fmt)


def parse_formats(text: str) -> tuple[ReportFormat, ...]:
    """"html,json,md" -> formats, in order, without repeats; "all" means every format."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if names == ["all"]:
        return tuple(ReportFormat)
    known = {f.value: f for f in ReportFormat}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        given = (f"unknown report format{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
                 if unknown else "no report format given")
        raise ConfigError(f"{given}; choose from {', '.join(known)} or all")
    return tuple(dict.fromkeys(known[name] for name in names))


def render_reports(run: Run, formats: Iterable[ReportFormat]) -> dict[str, str]:
    """File name -> content for every requested format. Pure."""
    return {o.filename: o.render(run) for fmt in formats for o in outputs(fmt, run)}


def write_reports(
    run: Run, out_dir: Path, formats: Sequence[ReportFormat] = DEFAULT_FORMATS
) -> list[Path]:
    """Render `formats` and write them into `out_dir` (created if needed), each file 0600
    because reports hold personal data. Returns the paths written, in format order."""
    try:
        make_private_dirs(out_dir)
    except OSError as exc:
        raise InputError(f"cannot create the report directory {out_dir}: {exc.strerror}") from exc
    written = []
    for name, text in render_reports(run, formats).items():
        path = out_dir / name
        try:
            write_private_text(path, text)
        except OSError as exc:
            raise InputError(f"cannot write {path}: {exc.strerror}") from exc
        written.append(path)
    return written
