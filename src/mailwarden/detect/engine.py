"""The analytical engine: the only module that talks to DuckDB.

One connection per detection run. Log files are read by DuckDB itself (CSV and JSON
readers, gzip-aware) into the normalized tables of `tables.py`, in a database file
under a temporary directory with a memory limit, so files larger than memory spill to
disk instead of failing. The tenant context becomes small `ctx_*` tables, and each rule
is one parameterised query over those tables.
"""

from __future__ import annotations

import re
import tempfile
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from mailwarden.detect.context import DetectContext
from mailwarden.detect.context_tables import CONTEXT_TABLES, context_rows
from mailwarden.detect.inputs.build import (
    REJECTS_SCAN,
    REJECTS_TABLE,
    ReadMode,
    ReadPlan,
    direct_readable,
    normalize_query,
)
from mailwarden.detect.inputs.jsonsplit import write_lines
from mailwarden.detect.inputs.oversize import (
    LongLines,
    find_long_lines,
    record_limit,
    size_text,
    too_long_reason,
)
from mailwarden.detect.results import BadRow, ReaderReport
from mailwarden.detect.sniff import Sniffed, sniff
from mailwarden.detect.tables import TABLES, Table
from mailwarden.errors import InputError, MailwardenError
from mailwarden.text import plural

#: What a read of a file raises when something in the file is off. DuckDB 2.0.1 cuts its
#: error message inside a UTF-8 character now and then (quoting a malformed record), and
#: its Python client then raises UnicodeDecodeError instead of its own error.
READ_ERRORS = (duckdb.Error, UnicodeDecodeError)
#: Bad rows kept as samples per file; all of them are counted.
BAD_SAMPLES = 20
#: A staged row's number: as the reader gave it, else its position in the file order.
STAGE_ROW = "coalesce(source_row, rowid + 1)"



class EngineError(MailwardenError):
    """The analytical engine failed on something other than a bad input row."""


class Engine:
    """A DuckDB connection holding the normalized tables of one detection run."""

    def __init__(self, *, memory_limit: str = "1GB", threads: int | None = None,
                 work_dir: Path | None = None, max_record_bytes: int | None = None):
        #: The longest record read; longer ones are bad rows (`inputs.oversize`).
        self.record_limit = max_record_bytes or record_limit()
        self._tmp = tempfile.TemporaryDirectory(prefix="mailwarden-detect-", dir=work_dir)
        base = Path(self._tmp.name)
        self.connection = duckdb.connect(str(base / "detect.duckdb"))
        self._set("memory_limit", memory_limit)
        self._set("temp_directory", str(base / "spill"))
        self._set("TimeZone", "UTC")
        self._set("preserve_insertion_order", "false")
        # DuckDB's own progress bar would write into the command's output.
        self.connection.execute("SET enable_progress_bar = false")
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        self.connection.execute(resources.files("mailwarden.detect").joinpath(
            "macros.sql").read_text(encoding="utf-8"))
        self.connection.execute("CREATE SEQUENCE mw_event_seq START 1")
        for table in TABLES:
            self.connection.execute(table.create_sql())
        for statement in CONTEXT_TABLES:
            self.connection.execute(statement)

    def _set(self, name: str, value: str) -> None:
        self.connection.execute(f"SET {name} = '{value.replace(chr(39), '')}'")

    def close(self) -> None:
        self.connection.close()
        self._tmp.cleanup()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------------

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql, dict(params or {}))
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def count(self, table: str) -> int:
        row = self.connection.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    # -- loading logs --------------------------------------------------------------------

    def load_file(self, path: Path, *, display_name: str | None = None) -> ReaderReport:
        """Read one log file into its normalized table. Never raises for bad content."""
        name = display_name or str(path)
        try:
            sniffed = sniff(path)
        except InputError as exc:
            return ReaderReport(path=path, format="unrecognised", table=None, error=str(exc))
        if direct_readable(sniffed):
            for fast_read in (self._insert_typed, self._stage_direct):
                try:
                    report = fast_read(sniffed, name)
                except READ_ERRORS:
                    continue  # something in the file is off: a more tolerant read follows
                if report is not None:
                    return report
        try:
            return self._load_tolerant(sniffed, name, path, as_lines=False, notes=())
        except READ_ERRORS as exc:
            if sniffed.container in ("json_array", "json_stream", "json_page"):
                return self._load_recovered(sniffed, name, exc)
            return ReaderReport(path=path, format=sniffed.format_name, table=None,
                                error=f"{name}: could not be read ({_first_line(exc)}); "
                                "check that the file is a complete export")

    def _load_recovered(self, sniffed: Sniffed, name: str, exc: Exception) -> ReaderReport:
        lines = Path(self._tmp.name) / f"recovered-{abs(hash(name))}.jsonl"
        try:
            with lines.open("w", encoding="utf-8") as out:
                written = write_lines(sniffed.path, sniffed.gzip, out, limit=self.record_limit)
        except (OSError, EOFError, zlib.error) as error:  # a gzip stream cut short or corrupt
            lines.unlink(missing_ok=True)
            return ReaderReport(path=sniffed.path, format=sniffed.format_name, table=None,
                                error=f"{name}: could not be read ({_first_line(error)}); "
                                "check that the file is a complete export")
        as_lines = Sniffed(path=lines, gzip=False, container="jsonl", kind=sniffed.kind,
                           format_name=sniffed.format_name, keys=sniffed.keys)
        if "maximum_object_size" in str(exc) and written.oversized_count:
            note = ("its elements were read one by one, as one was over the limit per "
                    "record (row = element number)")
        else:
            note = (f"the JSON is malformed ({_first_line(exc)}); its elements were read "
                    "one by one and the broken ones counted as bad rows (row = element "
                    "number)")
        blanked = LongLines(count=written.oversized_count, first=written.oversized)
        try:
            return self._load_tolerant(as_lines, name, sniffed.path, as_lines=True,
                                       notes=(note,), blanked=blanked)
        except READ_ERRORS as error:
            return ReaderReport(path=sniffed.path, format=sniffed.format_name, table=None,
                                error=f"{name}: could not be read ({_first_line(error)}); "
                                "check that the file is a complete export")
        finally:
            lines.unlink(missing_ok=True)

    @contextmanager
    def _in_file_order(self) -> Iterator[None]:
        """Store a query's rows in the order of the file while still reading in parallel
        (numbering them in the query would read on one thread): a row's position in the
        stored rows is then its row number."""
        self.connection.execute("SET preserve_insertion_order = true")
        try:
            yield
        finally:
            self.connection.execute("SET preserve_insertion_order = false")

    def _insert_typed(self, sniffed: Sniffed, name: str) -> ReaderReport | None:
        """The fastest read, shaped by the file's first records. A gzip file is read on one
        thread, so the fields are first stored as read (in file order: a row's position
        is its number), then normalized on every thread straight into the table, in one
        transaction that is undone (returning None) if any record needs a closer look.
        The stored fields live in the database file, not in a temporary table: there they
        are compressed (less to spill), and repeated values are normalized once."""
        plan = normalize_query(sniffed, mode="typed", limit=self.record_limit)
        if plan is None:
            return None
        self.connection.execute("DROP TABLE IF EXISTS mw_raw")
        with self._in_file_order():
            self.connection.execute(f"CREATE TABLE mw_raw AS {plan.source}",
                                    {"path": str(sniffed.path)})
        try:
            fitted = self._fit_to_raw(sniffed, plan)
            return self._insert_raw(sniffed, name, *fitted) if fitted else None
        finally:
            self.connection.execute("DROP TABLE mw_raw")

    def _fit_to_raw(self, sniffed: Sniffed, plan: ReadPlan) -> tuple[ReadPlan, str] | None:
        """The plan that maps every stored record, and the stored fields it reads that
        the first plan did not; None when a record needs a closer look. A field missing
        from the file's first records but present further on (a Unified Audit Log's
        `SendAsUserSmtp`) only widens the plan: the stored rows hold every field asked
        for, so they are normalized again instead of read again."""
        fields = plan.fields
        assert fields is not None  # a typed read always asks for its fields
        absent = list(fields.absent_columns().items())
        checks = ", ".join([
            "count(*) FILTER (WHERE _recheck) AS recheck",
            # Rechecked without a field assumed absent: a record without any field.
            "count(*) FILTER (WHERE _recheck AND _absent IS NULL) AS empty",
            *(f"bool_or(_absent[{n}] IS NOT NULL) AS {column}"
              for n, (column, _) in enumerate(absent, start=1))])
        found = self.query(f"SELECT {checks} FROM mw_raw")[0]
        if not found["recheck"]:
            return plan, ""
        if found["empty"]:
            return None
        seen = {column: key for column, key in absent if found[column]}
        wider = normalize_query(
            replace(sniffed, prefix_keys=sniffed.prefix_keys | frozenset(seen.values())),
            mode="typed", limit=self.record_limit)
        if (wider is None or wider.fields is None
                or wider.fields.columns_struct() != fields.columns_struct()):
            return None
        unpacked = "".join(f", _absent[{n}] AS {column}"
                           for n, (column, _) in enumerate(absent, start=1) if column in seen)
        return wider, unpacked

    def _reserve_event_ids(self, count: int) -> int:
        """Take `count` event ids at once (nextval row by row would serialize the insert);
        return the first."""
        row = self.query("SELECT min(id) AS first, max(id) AS last FROM "
                         "(SELECT nextval('mw_event_seq') AS id FROM range($n))", {"n": count})[0]
        if count and row["last"] - row["first"] + 1 != count:
            raise EngineError("event ids were not reserved as one block; run again")
        return int(row["first"] or 0)

    def _insert_raw(self, sniffed: Sniffed, name: str, plan: ReadPlan,
                    unpacked: str) -> ReaderReport | None:
        table = plan.table
        first_id = self._reserve_event_ids(self.count("mw_raw"))
        numbered = (f"SELECT rowid + 1 AS src_row, * EXCLUDE (src_row, _absent){unpacked} "
                    "FROM mw_raw")
        columns = ", ".join(c for c in table.column_names if c != "event_id")
        # Bad and skipped rows are marked by a negative row number, counted, then removed.
        marked = columns.replace(
            "source_row", "CASE WHEN _bad IS NOT NULL THEN -2 WHEN _skip THEN -1 "
            "ELSE source_row END")
        ours = f"FROM {table.name} WHERE event_id >= $first"
        self.connection.execute("BEGIN TRANSACTION")
        try:
            self.connection.execute(
                f"INSERT INTO {table.name} (event_id, {columns}) "
                f"SELECT $first - 1 + source_row, {marked} FROM ({plan.over(numbered)})",
                {"source_file": name, "first": first_id})
            counts = self.query(
                "SELECT count(*) FILTER (WHERE source_row > 0) AS rows, "
                "count(*) FILTER (WHERE source_row = -2) AS bad, "
                "count(*) FILTER (WHERE source_row = -1) AS skipped, "
                f"count(*) FILTER (WHERE source_row > 0 AND time IS NULL) AS no_time {ours}",
                {"first": first_id})[0]
            if counts["bad"]:  # the staged read keeps samples of them
                self.connection.execute("ROLLBACK")
                return None
            self.connection.execute(f"DELETE {ours} AND source_row < 0", {"first": first_id})
            self.connection.execute("COMMIT")
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        return ReaderReport(path=sniffed.path, format=sniffed.format_name, table=table.name,
                            rows=counts["rows"], skipped_rows=counts["skipped"],
                            skipped_reason=plan.skip_reason if counts["skipped"] else "",
                            rows_without_time=counts["no_time"])

    def _stage_direct(self, sniffed: Sniffed, name: str) -> ReaderReport | None:
        return self._load(sniffed, name, sniffed.path, as_lines=False, notes=(), mode="direct")

    def _load_tolerant(self, sniffed: Sniffed, name: str, original: Path, *, as_lines: bool,
                       notes: tuple[str, ...],
                       blanked: LongLines | None = None) -> ReaderReport:
        report = self._load(sniffed, name, original, as_lines=as_lines, notes=notes,
                            mode="tolerant", blanked=blanked)
        if report is None:  # only a direct read leaves records for another look
            raise EngineError(f"{name}: the tolerant reader left records unread")
        return report

    def _load(self, sniffed: Sniffed, name: str, original: Path, *, as_lines: bool,
              notes: tuple[str, ...], mode: ReadMode,
              blanked: LongLines | None = None) -> ReaderReport | None:
        """Read one file through a staging table into its table. A direct read returns
        None, having stored nothing, when a record must be looked at the tolerant way.

        A line-by-line read (CSV, JSON Lines) loses lines over the limit per record
        without a trace (`inputs.oversize`): they are found by a scan beside the read and
        counted as bad rows, and the lines DuckDB rejected or lost are given back their
        numbers. `blanked`: records over the limit a recovery wrote as blank lines."""
        plan = normalize_query(sniffed, as_lines=as_lines, mode=mode, limit=self.record_limit)
        if plan is None:
            return None
        table, skip_reason = plan.table, plan.skip_reason
        for leftover in (REJECTS_TABLE, REJECTS_SCAN, "mw_stage"):
            self.connection.execute(f"DROP TABLE IF EXISTS {leftover}")
        params = {"path": str(sniffed.path), "source_file": name}
        line_read = mode == "tolerant" and (as_lines or sniffed.container in ("csv", "jsonl"))
        with self._long_lines(sniffed, enabled=line_read) as scan, \
                self._in_file_order() if mode == "direct" else nullcontext():
            self.connection.execute(f"CREATE TEMP TABLE mw_stage AS {plan.query}", params)
        long = scan.result()
        rejected = self._rejected(long)
        if line_read and (as_lines or sniffed.container == "jsonl"):
            self._renumber_lines(long, rejected)
        counts = self.query(
            "SELECT count(*) FILTER (WHERE _bad IS NULL AND NOT _skip) AS rows, "
            "count(*) FILTER (WHERE _bad IS NOT NULL) AS bad, "
            "count(*) FILTER (WHERE _bad IS NULL AND _skip) AS skipped, "
            "count(*) FILTER (WHERE _bad IS NULL AND NOT _skip AND time IS NULL) AS no_time, "
            "count(*) FILTER (WHERE _recheck) AS recheck "
            "FROM mw_stage")[0]
        if counts["recheck"]:
            self.connection.execute("DROP TABLE mw_stage")
            return None
        columns = ", ".join(c for c in table.column_names if c != "event_id")
        values = columns.replace("source_row", f"{STAGE_ROW} AS source_row")
        self.connection.execute(
            f"INSERT INTO {table.name} (event_id, {columns}) "
            f"SELECT nextval('mw_event_seq'), {values} FROM mw_stage "
            "WHERE _bad IS NULL AND NOT _skip"
        )
        samples = [BadRow(file=name, row=row["source_row"], reason=row["_bad"],
                          sample=row["_raw"] or "")
                   for row in self.query(f"SELECT {STAGE_ROW} AS source_row, _bad, _raw "
                                         "FROM mw_stage WHERE _bad IS NOT NULL "
                                         f"ORDER BY source_row LIMIT {BAD_SAMPLES}")]
        rejected_count, rejected_samples = self._rejects(name, rejected)
        self.connection.execute("DROP TABLE mw_stage")
        too_long = [BadRow(file=name, row=line.line,
                           reason=too_long_reason(line.size, self.record_limit),
                           sample=line.head)
                    for found in (long, blanked or LongLines()) for line in found.first]
        long_count = long.count + (blanked.count if blanked else 0)
        if long_count:
            notes = (*notes, f"{plural(long_count, 'record')} over the limit per record "
                     f"({size_text(self.record_limit)}, MAILWARDEN_MAX_RECORD_BYTES) "
                     "counted as bad, not read")
        bad_samples = sorted(too_long + rejected_samples + samples,
                             key=lambda bad: (bad.row is None, bad.row or 0))
        return ReaderReport(
            path=original, format=sniffed.format_name, table=table.name,
            rows=int(counts["rows"]), bad_rows=int(counts["bad"]) + rejected_count + long_count,
            bad_samples=tuple(bad_samples[:BAD_SAMPLES]),
            skipped_rows=int(counts["skipped"]),
            skipped_reason=skip_reason if counts["skipped"] else "",
            rows_without_time=int(counts["no_time"]), notes=notes,
        )

    @contextmanager
    def _long_lines(self, sniffed: Sniffed, *, enabled: bool) -> Iterator[_Scan]:
        """Scan the file for lines over the limit on a thread of its own while the block
        reads it (decompression and DuckDB's read both release the GIL). A plain file no
        larger than the limit needs no scan."""
        if not enabled or (not sniffed.gzip and sniffed.path.stat().st_size <= self.record_limit):
            yield _Scan()
            return
        scan = _Scan()
        stop = threading.Event()

        def run() -> None:
            try:
                scan.found = find_long_lines(sniffed.path, sniffed.gzip, self.record_limit,
                                             stop)
            except BaseException as exc:  # handed to the reading thread
                scan.error = exc

        thread = threading.Thread(target=run, name="mailwarden-long-lines", daemon=True)
        thread.start()
        try:
            yield scan
        except BaseException:
            stop.set()
            raise
        finally:
            thread.join()

    def _rejected(self, long: LongLines) -> tuple[str, dict[str, Any]] | None:
        """DuckDB's rejected rows as a relation, with `physical`: the line each is on.

        None when DuckDB rejected nothing. A line the scan found too long is counted there,
        whatever DuckDB found wrong with it first (too long, too many columns in what it
        read of it, an unterminated quote), so its rejects are left out. They are found by
        where the line starts (`line_byte_position` is one past its first byte, mostly) or
        by its number; but DuckDB numbers lines without those it dropped without a trace,
        so the number to look for, and the line a later reject is on, count those drops."""
        if not self._table_exists(REJECTS_TABLE):
            return None
        starts = [*long.offsets, *(offset + 1 for offset in long.offsets)]
        found = self.connection.execute(
            "SELECT DISTINCT r.line, r.line_byte_position "
            f"FROM {REJECTS_TABLE} r, (SELECT unnest($numbers::BIGINT[]) AS n, "
            "unnest($before::BIGINT[]) AS i) l "
            "WHERE r.line BETWEEN l.n - l.i AND l.n "
            "OR list_contains($starts::BIGINT[], r.line_byte_position)",
            {"numbers": list(long.numbers), "before": list(range(len(long.numbers))),
             "starts": starts}).fetchall()
        lines = {int(line) for line, _ in found if line is not None}
        at = {int(position): int(line) for line, position in found
              if line is not None and position is not None}
        matched: list[int] = []
        dropped: list[int] = []  # where DuckDB's numbering skips a line it dropped
        for number, offset in zip(long.numbers, long.offsets, strict=True):
            expected = number - len(dropped)
            line = at.get(offset + 1, at.get(offset))
            if line is None and expected in lines:
                line = expected
            if line is None:
                dropped.append(expected)
            else:
                matched.append(line)
        relation = (
            "(SELECT *, line + (SELECT count(*) FROM unnest($dropped::BIGINT[]) AS d(k) "
            "WHERE r.line >= d.k) AS physical "
            f"FROM {REJECTS_TABLE} r "
            "WHERE NOT coalesce(list_contains($matched::BIGINT[], line), false))")
        return relation, {"matched": matched, "dropped": dropped}

    def _renumber_lines(self, long: LongLines, rejected: tuple[str, dict[str, Any]] | None
                        ) -> None:
        """Give the staged rows of a line-by-line read their line numbers: DuckDB numbers
        the lines it yields, and yields none for a line it rejected (a bad encoding, too
        long) or lost (longer than its buffer)."""
        if rejected is None and not long.numbers:
            return
        relation, params = rejected or ("(SELECT NULL::BIGINT AS physical WHERE false)", {})
        self.connection.execute(
            "CREATE OR REPLACE TEMP TABLE mw_missing AS "
            "SELECT k, max(n) AS n FROM (SELECT line - n + 1 AS k, n FROM ("
            "SELECT line, row_number() OVER (ORDER BY line) AS n FROM ("
            f"SELECT DISTINCT line FROM (SELECT physical AS line FROM {relation} UNION ALL "
            "SELECT unnest($long::BIGINT[])) WHERE line IS NOT NULL))) GROUP BY k",
            {**params, "long": list(long.numbers)})
        # Staged row r (the r-th line yielded) is line r + the number of missing lines
        # numbered at or below it: the greatest k <= r, where k is a missing line's number
        # less the missing lines before it.
        self.connection.execute(
            "UPDATE mw_stage SET source_row = mw_stage.source_row + m.n FROM ("
            "SELECT s.source_row AS r, m.n FROM mw_stage s "
            "ASOF JOIN mw_missing m ON s.source_row >= m.k) m "
            "WHERE mw_stage.source_row = m.r")
        self.connection.execute("DROP TABLE mw_missing")

    def _table_exists(self, name: str) -> bool:
        exists = self.connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = $t", {"t": name}).fetchone()
        return bool(exists and exists[0])

    def _rejects(self, name: str, rejected: tuple[str, dict[str, Any]] | None
                 ) -> tuple[int, list[BadRow]]:
        """DuckDB's rejected rows (`_rejected`), counted once each, with samples numbered
        by their line in the file (a CSV record by the line it starts on)."""
        if rejected is None:
            return 0, []
        relation, params = rejected
        # DuckDB reports each missing column of a short row separately: one row, one count.
        counted = self.connection.execute(
            f"SELECT count(DISTINCT (scan_id, file_id, line)) FROM {relation}",
            params).fetchone()
        total = int(counted[0]) if counted else 0
        # column_idx is NULL for a reject of the whole line (arg_min would skip it).
        rows = self.query(f"SELECT any_value(physical) AS line, "
                          f"arg_min(error_type, coalesce(column_idx, -1)) AS error_type, "
                          f"arg_min(error_message, coalesce(column_idx, -1)) AS error_message, "
                          f"any_value(csv_line) AS csv_line FROM {relation} "
                          f"GROUP BY scan_id, file_id, line ORDER BY line LIMIT {BAD_SAMPLES}",
                          params)
        samples = [BadRow(file=name, row=int(row["line"]) if row["line"] is not None else None,
                          reason=_reject_reason(row["error_type"], row["error_message"],
                                                self.record_limit),
                          sample=str(row["csv_line"] or "")[:300]) for row in rows]
        return total, samples

    # -- tenant context ------------------------------------------------------------------

    def load_context(self, context: DetectContext, codes: Iterable[tuple[int, str]]) -> None:
        """Fill the `ctx_*` tables and the error code classes, one insert per table."""
        for table, (types, rows) in context_rows(context, codes).items():
            if rows:
                columns = [list(column) for column in zip(*rows, strict=True)]
                values = ", ".join(f"unnest(${n + 1}::{kind}[])" for n, kind in enumerate(types))
                self.connection.execute(f"INSERT INTO {table} SELECT {values}", columns)

    # -- evidence ------------------------------------------------------------------------

    def evidence(self, event_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Normalized rows by event id, each with the name of its table."""
        found: dict[int, dict[str, Any]] = {}
        if not event_ids:
            return found
        ids = sorted(set(event_ids))
        for table in TABLES:
            for row in self.query(f"SELECT * FROM {table.name} "
                                  "WHERE event_id IN (SELECT unnest($ids))", {"ids": ids}):
                found[int(row["event_id"])] = {"table": table.name, **row}
        return found

    def table_has_rows(self, table: Table | str) -> bool:
        name = table if isinstance(table, str) else table.name
        row = self.connection.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()
        return bool(row and row[0])


class _Scan:
    """The scan for lines over the limit, running beside a read."""

    def __init__(self) -> None:
        self.found = LongLines()
        self.error: BaseException | None = None

    def result(self) -> LongLines:
        if self.error is not None:
            raise self.error
        return self.found


def _reject_reason(error_type: object, message: object, limit: int) -> str:
    """DuckDB's reason for a rejected row, in words ("line size over maximum: ...")."""
    if error_type == "LINE SIZE OVER MAXIMUM":
        size = re.search(r"Actual Size:\s*(\d+)", str(message or ""))
        if size:
            return too_long_reason(int(size.group(1)), limit)
    kind = str(error_type or "rejected").lower().replace("_", " ").strip()
    return f"{kind}: {str(message).lower()}" if message else kind


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "the reader's message about it was not readable text"
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
