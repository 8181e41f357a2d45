"""Build the SQL that reads one sniffed file into rows of a normalized table.

The query yields the table's columns (without `event_id`) plus `_bad` (why the row
cannot be used, or NULL), `_raw` (a short sample of a bad row) and `_skip` (a
well-formed row that is out of scope). The file path and its display name are bound
parameters (`$path`, `$source_file`); everything else in the SQL is a constant of this
package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mailwarden.detect.inputs.access import (
    Accessor,
    CsvAccessor,
    JsonAccessor,
    LayeredAccessor,
    sql_string,
)
from mailwarden.detect.inputs.directory import directory_columns
from mailwarden.detect.inputs.fields import FieldAccessor
from mailwarden.detect.inputs.oversize import DEFAULT_RECORD_LIMIT
from mailwarden.detect.inputs.signins import OBJECT_FIELDS, signin_columns, signin_derived
from mailwarden.detect.inputs.ual import SKIP_CONDITION, SKIP_REASON, ual_columns, ual_derived
from mailwarden.detect.sniff import Kind, Sniffed
from mailwarden.detect.tables import DIRECTORY_AUDITS, MAILBOX_AUDITS, SIGNINS, Table

#: Longest line or JSON value accepted by default; longer ones are bad rows, not a failed
#: run (`inputs.oversize`; `MAILWARDEN_MAX_RECORD_BYTES` sets another limit).
MAX_RECORD_BYTES = DEFAULT_RECORD_LIMIT
REJECTS_TABLE = "mw_rejects"
REJECTS_SCAN = "mw_rejects_scan"
SAMPLE_CHARS = 300

Mapping = Callable[[Accessor], tuple[str, dict[str, str]]]
#: tolerant: each record read as text, its fields extracted by path, bad records counted;
#: direct: DuckDB's JSON reader projects every candidate field (JSON Lines and arrays);
#: typed: likewise, shaped by the file's first records (see `inputs.fields`).
ReadMode = Literal["tolerant", "direct", "typed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KindSpec:
    table: Table
    columns: Mapping
    derived: Callable[[], dict[str, str]]
    skip_condition: str = "false"
    skip_reason: str = ""
    layered: bool = False
    #: Object fields a typed read may hand the mapping as STRUCTs.
    object_fields: frozenset[str] = frozenset()


KINDS: dict[Kind, KindSpec] = {
    "signins": KindSpec(table=SIGNINS, columns=signin_columns, derived=signin_derived,
                         object_fields=OBJECT_FIELDS),
    "directory_audits": KindSpec(table=DIRECTORY_AUDITS, columns=directory_columns,
                                 derived=dict),
    "ual": KindSpec(table=MAILBOX_AUDITS, columns=ual_columns, derived=ual_derived,
                    skip_condition=SKIP_CONDITION, skip_reason=SKIP_REASON, layered=True),
}


def _compression(sniffed: Sniffed) -> str:
    return "gzip" if sniffed.gzip else "none"


def _csv_columns(count: int) -> str:
    return "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(count)) + "}"


def source_relation(sniffed: Sniffed, *, as_lines: bool = False,
                    limit: int = MAX_RECORD_BYTES) -> str:
    """Rows of the file: (src_row, c0..cN) for CSV, (src_row, d) for JSON. DuckDB reads
    in buffers and a record must fit in one, hence twice the limit; never less than twice
    the default limit, as DuckDB 2.0.1 lost rows after a line near the limit when its
    buffers were that small (a few kilobytes)."""
    buffer = 2 * max(limit, DEFAULT_RECORD_LIMIT)
    compression = sql_string(_compression(sniffed))
    if sniffed.container == "csv" and not as_lines:
        return (
            f"SELECT ordinality AS src_row, * EXCLUDE (ordinality) FROM read_csv($path, "
            f"columns={_csv_columns(len(sniffed.header))}, header=true, "
            f"delim={sql_string(sniffed.delimiter)}, quote='\"', escape='\"', "
            f"auto_detect=false, strict_mode=true, null_padding=false, "
            f"max_line_size={limit}, buffer_size={buffer}, "
            f"compression={compression}, "
            f"store_rejects=true, rejects_table='{REJECTS_TABLE}', "
            f"rejects_scan='{REJECTS_SCAN}') WITH ORDINALITY"
        )
    if sniffed.container == "jsonl" or as_lines:
        # Every line as text: a malformed line is then a bad row, not a failed file.
        return (
            "SELECT ordinality AS src_row, line AS d FROM read_csv($path, "
            "columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', escape='', "
            f"auto_detect=false, max_line_size={limit}, buffer_size={buffer}, "
            f"compression={compression}, "
            f"store_rejects=true, rejects_table='{REJECTS_TABLE}', "
            f"rejects_scan='{REJECTS_SCAN}') WITH ORDINALITY "
            "WHERE line IS NOT NULL AND trim(line) <> ''"
        )
    options = (f"records=false, columns={{'json': 'JSON'}}, "
               f"maximum_object_size={limit}, compression={compression}")
    if sniffed.container == "json_array":
        return (f"SELECT ordinality AS src_row, CAST(json AS VARCHAR) AS d FROM "
                f"read_json($path, format='array', {options}) WITH ORDINALITY")
    if sniffed.container == "json_stream":
        return (f"SELECT ordinality AS src_row, CAST(json AS VARCHAR) AS d FROM "
                f"read_json($path, format='unstructured', {options}) WITH ORDINALITY")
    return (  # json_page: one or more saved Graph response pages
        "SELECT row_number() OVER (ORDER BY page, element) AS src_row, d FROM ("
        "SELECT page, generate_subscripts(items, 1) AS element, "
        "CAST(unnest(items) AS VARCHAR) AS d FROM ("
        "SELECT ordinality AS page, mw_jlist_json(CAST(json AS VARCHAR), '$.value[*]') AS items "
        f"FROM read_json($path, format='unstructured', {options}) WITH ORDINALITY))"
    )


#: Containers DuckDB's JSON reader can project into columns directly.
DIRECT_CONTAINERS = {"jsonl": "newline_delimited", "json_array": "array"}


def direct_readable(sniffed: Sniffed) -> bool:
    return sniffed.container in DIRECT_CONTAINERS


def direct_relation(sniffed: Sniffed, fields: FieldAccessor,
                    limit: int = MAX_RECORD_BYTES) -> str:
    """Rows of a JSON Lines file or JSON array as (src_row, _f0.._fN, _absent,
    _recheck): one column per mapped field, and the fields assumed absent as one list
    (see `FieldAccessor.absent_values`).

    Strict on purpose: a malformed record, a record that is not an object, or one key in
    two casings makes the read fail, and the caller reads the file the tolerant way.
    `src_row` is NULL: numbering rows here (WITH ORDINALITY) would run the whole read on
    one thread, so the caller stores the rows in file order and numbers them by position.
    """
    return (
        f"SELECT NULL::BIGINT AS src_row, {fields.mapped_columns()}, "
        f"{fields.absent_values()} AS _absent, "
        f"({fields.recheck()}) AS _recheck FROM (SELECT {fields.renamed()} FROM read_json("
        f"$path, format='{DIRECT_CONTAINERS[sniffed.container]}', records=true, "
        f"columns={fields.columns_struct()}, case_insensitive_keys=true, auto_detect=false, "
        f"maximum_object_size={limit}, compression={sql_string(_compression(sniffed))}"
        "))"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadPlan:
    """How one file becomes rows of a normalized table."""

    table: Table
    #: Why rows are skipped, when they are.
    skip_reason: str
    #: The file's rows as read: `src_row` and the fields (see `source_relation`).
    source: str
    #: The normalization over a relation named `src` shaped like `source` (CTEs).
    normalization: str
    #: The fields a direct or typed read asks the JSON reader for.
    fields: FieldAccessor | None = None

    @property
    def query(self) -> str:
        return self.over(self.source)

    def over(self, relation: str) -> str:
        """The normalized rows of `relation` (e.g. `source` stored as a table)."""
        return f"WITH src AS ({relation}),{self.normalization}"


def _field_accessor(sniffed: Sniffed, spec: KindSpec, mode: ReadMode) -> FieldAccessor:
    if mode == "direct":
        return FieldAccessor()
    present = sniffed.prefix_keys
    return FieldAccessor(present=present, objects=spec.object_fields & sniffed.object_keys)


def normalize_query(sniffed: Sniffed, *, as_lines: bool = False, mode: ReadMode = "tolerant",
                    limit: int = MAX_RECORD_BYTES) -> ReadPlan | None:
    """How to read one file; None when the file's first records rule out a typed read.

    A direct or typed read is for JSON Lines and arrays only, and strict: a malformed
    record fails the query. All modes give the same rows, except that a direct or typed
    query marks `_recheck` the records it cannot tell from a bad or differently shaped
    one, and numbers no rows (`source_row` is NULL: see `direct_relation`).
    """
    spec = KINDS[sniffed.kind]
    is_csv = sniffed.container == "csv" and not as_lines
    if as_lines or not direct_readable(sniffed):
        mode = "tolerant"
    if mode == "typed" and not sniffed.prefix_keys:
        return None  # no complete record in the first megabyte to shape the read by
    outer: Accessor
    outer_json: JsonAccessor | None = None
    fields: FieldAccessor | None = None
    if is_csv:
        outer = CsvAccessor(sniffed.header)
    elif mode != "tolerant":
        fields = _field_accessor(sniffed, spec, mode)
        outer = fields
    else:
        outer_json = JsonAccessor("_o")
        outer = outer_json
    inner: JsonAccessor | None = None
    inner_document = "NULL"
    accessor: Accessor = outer
    if spec.layered:
        inner_document = outer.text("AuditData")
        inner = JsonAccessor("_i")
        accessor = LayeredAccessor(inner, outer)
    time_raw, columns = spec.columns(accessor)
    if fields is not None and fields.conflict:
        return None
    pre_bad = "NULL::VARCHAR"
    pre_raw = "NULL::VARCHAR"
    recheck = ", false AS _recheck" if fields is None else ""  # else the source says
    if fields is None and not is_csv:
        # A JSON null element of an array or page reaches here as SQL NULL.
        pre_bad = ("CASE WHEN d IS NULL THEN 'not a JSON object' "
                   "WHEN NOT json_valid(d) THEN 'not valid JSON' "
                   "WHEN json_type(d) <> 'OBJECT' THEN 'not a JSON object' END")
        pre_raw = (f"CASE WHEN _pre_bad IS NOT NULL THEN left(coalesce(d, 'null'), "
                   f"{SAMPLE_CHARS}) END")
    inner_bad = "NULL::VARCHAR"
    if inner is not None:
        inner_bad = (f"CASE WHEN {inner_document} IS NOT NULL AND NOT json_valid({inner_document}) "
                     "THEN 'AuditData is not valid JSON' END")
    stage1 = outer_json.extraction("d") if outer_json else "NULL AS _o"
    stage2 = inner.extraction(inner_document) if inner else "NULL AS _i"
    projections = ",\n  ".join(f"{expr} AS {name}" for name, expr in columns.items())
    derived_sql = "".join(f", {expr} AS {name}" for name, expr in spec.derived().items())
    time_error = "_time_raw IS NOT NULL AND time IS NULL"
    source = (direct_relation(sniffed, fields, limit) if fields is not None
              else source_relation(sniffed, as_lines=as_lines, limit=limit))
    normalization = f"""
s0 AS (SELECT *, {pre_bad} AS _pre_bad{recheck} FROM src),
s1 AS (SELECT *, {stage1} FROM s0),
s2 AS (SELECT *, {stage2} FROM s1),
s3 AS (SELECT src_row, _recheck, _pre_bad, {pre_raw} AS _pre_raw, {inner_bad} AS _inner_bad,
  {time_raw} AS _time_raw,
  {projections}
  FROM s2),
s4 AS (SELECT *, mw_ts(_time_raw) AS time{derived_sql} FROM s3)
SELECT {', '.join(_final_columns(spec.table))},
  coalesce(_pre_bad, _inner_bad, CASE WHEN {time_error} THEN 'unreadable time' END) AS _bad,
  coalesce(_pre_raw, CASE WHEN _inner_bad IS NOT NULL OR {time_error}
                          THEN left(_time_raw, {SAMPLE_CHARS}) END) AS _raw,
  coalesce(({spec.skip_condition}), false) AS _skip,
  _recheck
FROM s4
"""
    return ReadPlan(table=spec.table, skip_reason=spec.skip_reason, source=source,
                    normalization=normalization, fields=fields)


def _final_columns(table: Table) -> list[str]:
    columns = []
    for name in table.column_names:
        if name == "event_id":
            continue
        if name == "source_file":
            columns.append("$source_file AS source_file")
        elif name == "source_row":
            columns.append("src_row AS source_row")
        else:
            columns.append(name)
    return columns

