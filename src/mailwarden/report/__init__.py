"""Reports: pure renderers of a `Run` (HTML, JSON, CSV, SARIF, OCSF, Markdown) and
`write_reports`, which writes the chosen formats as private (0600) files.

    run = make_run(result, generated_at=now, snapshot=snapshot, detection=detection)
    paths = write_reports(run, Path("out"), (ReportFormat.HTML, ReportFormat.JSON))
"""

from mailwarden.report.build import detection_from, make_run, summarize_snapshot, with_changes
from mailwarden.report.formats import (
    DEFAULT_FORMATS,
    Output,
    ReportFormat,
    outputs,
    parse_formats,
    render_reports,
    write_reports,
)

__all__ = [
    "DEFAULT_FORMATS",
    "Output",
    "ReportFormat",
    "detection_from",
    "make_run",
    "outputs",
    "parse_formats",
    "render_reports",
    "summarize_snapshot",
    "with_changes",
    "write_reports",
]
