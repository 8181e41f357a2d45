"""The public entry points: read log files, run the rules, return alerts and reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from mailwarden.detect.alerts import build_alert, merge
from mailwarden.detect.context import EMPTY_CONTEXT, DetectContext
from mailwarden.detect.engine import Engine
from mailwarden.detect.incidents import DEFAULT_PROXIMITY, group_incidents
from mailwarden.detect.results import Alert, DetectionResult, ReaderReport, RuleRun
from mailwarden.detect.rules import ALL_RULES, Rule
from mailwarden.detect.rules.base import RESULT_COLUMNS, SHARED_SQL, code_rows, read_sql
from mailwarden.detect.rules.wording import joined
from mailwarden.detect.tables import TABLES_BY_NAME
from mailwarden.errors import InputError
from mailwarden.progress import Progress

_PART_WORDS = {"ownerless": "list of ownerless accounts", "departed": "departed people",
               "guests": "guests", "verified_domains": "verified domains",
               "grants": "access map"}
_TABLE_WORDS = {"signins": "sign-in", "directory_audits": "directory audit",
                "mailbox_audits": "mailbox audit (Unified Audit Log, Exchange)"}


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectOptions:
    #: Rule id -> threshold name -> value; unknown names are ignored.
    thresholds: Mapping[str, Mapping[str, float | int | bool]] | None = None
    #: Run only these rule ids (all when None).
    rules: Sequence[str] | None = None
    evidence_limit: int = 50
    memory_limit: str = "1GB"
    threads: int | None = None
    #: Alerts further apart than this are separate incidents (`detect.incidents`).
    proximity: timedelta = DEFAULT_PROXIMITY


def list_rules() -> tuple[Rule, ...]:
    return ALL_RULES


def _selected(options: DetectOptions) -> tuple[Rule, ...]:
    if options.rules is None:
        return ALL_RULES
    known = {rule.id: rule for rule in ALL_RULES}
    unknown = [rule_id for rule_id in options.rules if rule_id not in known]
    if unknown:
        raise InputError(f"unknown rule id(s): {', '.join(unknown)}; "
                         "`mailwarden rules` lists them")
    return tuple(known[rule_id] for rule_id in options.rules)


def _why_not(rule: Rule, engine: Engine, context: DetectContext) -> str | None:
    missing = [_PART_WORDS[part] for part in rule.needs if context.missing(part)]
    if missing:
        return (f"needs the tenant's {joined(missing)}, which this run does not know; run "
                "detection with a recorded tenant (--tenant-dir) that holds "
                + ("it" if len(missing) == 1 else "them"))
    if not any(engine.table_has_rows(TABLES_BY_NAME[t]) for t in rule.tables):
        words = " or ".join(_TABLE_WORDS[t] for t in rule.tables)
        return f"no {words} records in the input"
    return None


def _partial_note(rule: Rule, context: DetectContext) -> str:
    missing = [_PART_WORDS[part] for part in rule.uses if context.missing(part)]
    notes = [f"ran without the tenant's {joined(missing)}"] if missing else []
    for part in dict.fromkeys((*rule.needs, *rule.uses)):
        why = None if context.missing(part) else context.incomplete(part)
        if why:
            words = _PART_WORDS[part]
            verb = "is" if words.startswith(("list ", "access ")) else "are"
            notes.append(f"the tenant's {words} {verb} incomplete: {why}")
    return "; ".join(notes)


def run_rules(engine: Engine, context: DetectContext, options: DetectOptions,
              progress: Progress | None = None) -> tuple[tuple[Alert, ...], tuple[RuleRun, ...]]:
    engine.load_context(context, code_rows())
    for name in SHARED_SQL:
        engine.connection.execute(read_sql(name))
    rules = _selected(options)
    alerts: list[Alert] = []
    runs: list[RuleRun] = []
    columns = ", ".join(RESULT_COLUMNS)
    for done, rule in enumerate(rules, start=1):
        if progress:
            progress(rule.id, done, len(rules))
        reason = _why_not(rule, engine, context)
        if reason:
            runs.append(RuleRun(rule_id=rule.id, ran=False, reason=reason))
            continue
        overrides = dict((options.thresholds or {}).get(rule.id, {}))
        params = rule.parameters(overrides, evidence_limit=options.evidence_limit)
        rows = engine.query(f"SELECT {columns} FROM ({rule.sql})", params)
        evidence = engine.evidence([e for row in rows for e in row["evidence"] or ()])
        found = [build_alert(rule, row, evidence) for row in rows]
        alerts.extend(found)
        runs.append(RuleRun(rule_id=rule.id, ran=True, reason=_partial_note(rule, context),
                            alerts=len(merge(found))))
    return merge(alerts), tuple(runs)


def detect_files(paths: Sequence[Path], context: DetectContext = EMPTY_CONTEXT, *,
                 options: DetectOptions | None = None,
                 progress: Progress | None = None) -> DetectionResult:
    """Read every log file (format detected from content), then run the rules.

    A file that cannot be read at all is reported in its ReaderReport (`error`), bad
    rows are counted with samples; neither stops the run.
    """
    options = options or DetectOptions()
    _selected(options)  # fail early on an unknown rule id
    reports: list[ReaderReport] = []
    with Engine(memory_limit=options.memory_limit, threads=options.threads) as engine:
        for done, path in enumerate(paths, start=1):
            if progress:
                progress(f"reading {path}", done, len(paths))
            reports.append(engine.load_file(Path(path)))
        alerts, runs = run_rules(engine, context, options, progress)
    return DetectionResult(alerts=alerts, readers=tuple(reports), rule_runs=runs,
                           incidents=group_incidents(alerts, proximity=options.proximity))
