"""Fuzzing the log readers: whatever a log file holds, nothing escapes but a clean refusal
of the file (its report's `error`), and every record is read or counted.

Records are real-shaped (Graph sign-ins and directory audits, Unified Audit Log records,
a Log Analytics sign-in CSV), then mutated: fields dropped or of the wrong type, huge and
odd strings, records that are not objects, bad UTF-8, records cut short; written as
JSON Lines, a JSON array or CSV, plain or gzip. Where the number of records in the file
is knowable (the mutations kept the record boundaries), rows + bad + skipped must equal
it. The limit per record is drawn too, down to 4 KiB, so records over it are among them.

Bounded for CI: a few examples per test (each is up to four DuckDB reads of a file, the
line-by-line one with its 32 MiB buffers: up to a second or two on a loaded machine),
derandomized (the same examples every run), no example database, no deadline (the
machine's load must not fail a run), and no shrinking (a failure is reproduced by running
again). A longer run, which also shrinks a failure to
its simplest form:

    MAILWARDEN_TEST_FUZZ_EXAMPLES=500 python -m pytest tests/detect/test_fuzz_readers.py
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mailwarden.detect.engine import Engine
from mailwarden.detect.inputs.jsonsplit import split_elements
from mailwarden.detect.results import ReaderReport
from tests.detect.detect_factory import at, audit, signin, ual

EXAMPLES = int(os.environ.get("MAILWARDEN_TEST_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=EXAMPLES or 8, deadline=None, derandomize=True, database=None,
                phases=tuple(Phase) if EXAMPLES else (Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])
LIMITS = (4096, 65536, 16 << 20)

BASES: dict[str, list[dict[str, Any]]] = {
    "signins": [signin(at(i), name, ip, code, client=client)
                for i, (name, ip, code, client) in enumerate([
                    ("ann", "192.0.2.1", 0, "Browser"), ("bob", "[2001:db8::5]:443", 50126,
                                                          "IMAP4"),
                    ("eve", "::ffff:192.0.2.9", 50053, "Authenticated SMTP")])],
    "audit": [audit(at(i), activity, "shared@contoso.example",
                    properties=[("AccountEnabled", "[false]", "[true]")])
              for i, activity in enumerate(["Update user", "Reset user password"])],
    "ual": [ual(at(i), op, "eve@contoso.example", mailbox="shared@contoso.example",
                parameters=[("ForwardTo", "x@evil.example")])
            for i, op in enumerate(["New-InboxRule", "Send", "MailItemsAccessed"])],
}
CSV_HEADER = ["TimeGenerated [UTC]", "UserPrincipalName", "ResultType", "IPAddress",
              "ClientAppUsed", "UserAgent", "Location"]
CSV_ROWS = [["2026-03-02T09:00:00Z", "ann@contoso.example", "0", "192.0.2.1", "Browser",
             "Mozilla/5.0", "NL"],
            ["3/2/2026, 9:05:00.000 AM", "bob@contoso.example", "50126", "192.0.2.2",
             "IMAP4", "python-requests", "Amsterdam, Noord-Holland, NL"]]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
odd_strings = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\u0000", "\t\r\n", "\u202e", "\ufeff", "\U0001d54f" * 50, "\\",
                     '"', "null", "2026-13-45T99:99:99Z", "/Date(1772442000000)/",
                     "1.2.3.4.5", "[2001:db8::1]:99999"]),
    st.integers(1, 70_000).map(lambda n: "x" * n),
)


@dataclass
class Mutated:
    """A record as bytes (no line feed in it), and whether its boundaries are intact."""

    data: bytes
    whole: bool = True


@st.composite
def records(draw: st.DrawFn, kind: str) -> Mutated:
    record = dict(draw(st.sampled_from(BASES[kind])))
    keys = list(record)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        if draw(st.booleans()):
            del record[key]
        else:
            record[key] = draw(st.one_of(json_values, odd_strings))
    if draw(st.booleans()):
        record[draw(st.text(max_size=12))] = draw(odd_strings)
    value: Any = record
    if draw(st.integers(0, 9)) == 0:  # not an object at all
        value = draw(json_values)
    data = json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8")
    whole = True
    mutation = draw(st.sampled_from(["none", "none", "none", "bad-utf8", "cut"]))
    if mutation == "bad-utf8":
        at_byte = draw(st.integers(0, len(data)))
        data = data[:at_byte] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80",
                                                      b"\xf4\x90\x80\x80"])) + data[at_byte:]
    elif mutation == "cut":
        data = data[:draw(st.integers(1, max(1, len(data) - 1)))]
        whole = False  # in an array it swallows what follows; on its own line it does not
    return Mutated(data, whole=whole)


def gzip_maybe(draw: st.DrawFn, data: bytes) -> tuple[bytes, bool]:
    """The file as written, and whether it is still whole."""
    if not draw(st.booleans()):
        return data, True
    packed = gzip.compress(data, compresslevel=1)
    if draw(st.integers(0, 9)) == 0:
        return packed[:draw(st.integers(2, len(packed)))], False
    return packed, True


@dataclass
class LogFile:
    data: bytes
    #: Records in the file, when knowable.
    records: int | None


@st.composite
def json_lines_files(draw: st.DrawFn) -> LogFile:
    kind = draw(st.sampled_from(sorted(BASES)))
    first = json.dumps(draw(st.sampled_from(BASES[kind]))).encode()  # recognisable
    lines = [first, *(r.data for r in draw(st.lists(records(kind), max_size=12)))]
    blank = draw(st.lists(st.integers(0, len(lines)), max_size=2))
    for index in sorted(blank, reverse=True):
        lines.insert(index, b"")
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = ending.join(lines) + (ending if draw(st.booleans()) else b"")
    data, whole = gzip_maybe(draw, data)
    return LogFile(data, sum(1 for line in lines if line) if whole else None)


@st.composite
def json_array_files(draw: st.DrawFn) -> LogFile:
    kind = draw(st.sampled_from(sorted(BASES)))
    first = json.dumps(draw(st.sampled_from(BASES[kind]))).encode()
    mutated = draw(st.lists(records(kind), max_size=12))
    elements = [first, *(r.data for r in mutated)]
    separator = draw(st.sampled_from([b",", b",\n  ", b" , "]))
    data = b"[" + separator.join(elements) + b"]"
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    whole_elements = all(r.whole for r in mutated)
    data, whole = gzip_maybe(draw, data)
    return LogFile(data, len(elements) if whole and whole_elements else None)


@st.composite
def csv_files(draw: st.DrawFn) -> LogFile:
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = list(draw(st.sampled_from(CSV_ROWS)))
        for index in draw(st.lists(st.integers(0, len(row) - 1), max_size=3)):
            row[index] = draw(odd_strings)
        change = draw(st.sampled_from(["none", "none", "short", "long"]))
        if change == "short":
            row = row[:draw(st.integers(1, len(row) - 1))]
        elif change == "long":
            row.append(draw(odd_strings))
        rows.append(row)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(CSV_HEADER)
    writer.writerow(CSV_ROWS[0])  # recognisable: the rest may be anything
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8")
    knowable = True
    if draw(st.booleans()):  # bad UTF-8 in a data row
        start = data.index(b"\n", data.index(b"\n") + 1)
        at_byte = draw(st.integers(start + 1, len(data)))
        data = data[:at_byte] + b"\xff" + data[at_byte:]
        # Beside a line end, it may make a line of its own or split CR from LF.
        knowable = not (set(data[at_byte - 1:at_byte + 2:2]) & set(b"\r\n")) \
            and at_byte < len(data) - 1
    data, whole = gzip_maybe(draw, data)
    return LogFile(data, 1 + len(rows) if whole and knowable else None)


@pytest.fixture(scope="module")
def engines() -> Iterator[dict[int, Engine]]:
    made = {limit: Engine(memory_limit="256MB", threads=1, max_record_bytes=limit)
            for limit in LIMITS}
    yield made
    for engine in made.values():
        engine.close()


def read(engines: dict[int, Engine], limit: int, log: LogFile, suffix: str) -> ReaderReport:
    with tempfile.TemporaryDirectory(prefix="mailwarden-fuzz-") as work:
        path = Path(work) / f"log{suffix}"
        path.write_bytes(log.data)
        report = engines[limit].load_file(path)  # must not raise
    if report.error is None and log.records is not None:
        counted = report.rows + report.bad_rows + report.skipped_rows
        assert counted == log.records, (report, log.data[:2000])
    assert report.bad_rows >= len(report.bad_samples)
    return report


@FUZZ
@given(log=json_lines_files(), limit=st.sampled_from(LIMITS))
def test_json_lines_records_are_read_or_counted(engines: dict[int, Engine], log: LogFile,
                                                limit: int) -> None:
    read(engines, limit, log, ".jsonl")


@FUZZ
@given(log=json_array_files(), limit=st.sampled_from(LIMITS))
def test_json_array_records_are_read_or_counted(engines: dict[int, Engine], log: LogFile,
                                                limit: int) -> None:
    read(engines, limit, log, ".json")


@FUZZ
@given(log=csv_files(), limit=st.sampled_from(LIMITS))
def test_csv_records_are_read_or_counted(engines: dict[int, Engine], log: LogFile,
                                         limit: int) -> None:
    read(engines, limit, log, ".csv")


@FUZZ
@given(data=st.binary(max_size=3000), limit=st.sampled_from(LIMITS))
def test_any_bytes_are_read_or_refused_cleanly(engines: dict[int, Engine], data: bytes,
                                               limit: int) -> None:
    read(engines, limit, LogFile(data, None), ".log")


# -- what the fuzz found, each kept as a test of its own ----------------------------------


def test_an_escape_the_splitter_does_not_stop_at_ends_with_its_character(
        tmp_path: Path) -> None:
    """`\\u001f` escapes `u`: the splitter took the next backslash or quote it stopped at
    as the escaped one, ran past the end of the string and lost the elements after it."""
    path = tmp_path / "escapes.json"
    path.write_text('[{"a": "\\u001f\\u001f\\u001f"}, {"b": "x\\\\"}, {"c": "\\"]"}, null]')
    assert list(split_elements(path, False)) == [
        '{"a": "\\u001f\\u001f\\u001f"}', '{"b": "x\\\\"}', '{"c": "\\"]"}', "null"]


def test_a_null_element_of_an_array_is_a_bad_row_not_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "nulls.json"
    path.write_text(json.dumps([BASES["audit"][0], None, BASES["audit"][1]]))
    with Engine(memory_limit="256MB") as engine:
        report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (2, 1)
    assert (report.bad_samples[0].row, report.bad_samples[0].reason) == (
        2, "not a JSON object")


def test_a_broken_array_with_escapes_and_a_null_counts_every_element(tmp_path: Path) -> None:
    first, second = (json.dumps(record).encode() for record in BASES["audit"])
    escaped = json.dumps({**BASES["audit"][0], "\x1f\x1f\x1f": ""}).encode()
    path = tmp_path / "broken.json"
    path.write_bytes(b"[" + first + b",\xff" + escaped + b",null," + second + b"]")
    with Engine(memory_limit="256MB") as engine:
        report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (2, 2)
    assert [(bad.row, bad.reason) for bad in report.bad_samples] == [
        (2, "not valid JSON"), (3, "not a JSON object")]


def test_a_csv_row_too_long_and_with_too_many_columns_is_one_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "signins.csv"
    rows = [CSV_HEADER, CSV_ROWS[0], [*CSV_ROWS[1][:5], "x" * 70_000, "NL", "extra"],
            CSV_ROWS[1]]
    path.write_text("".join(",".join(f'"{cell}"' for cell in row) + "\n" for row in rows))
    with Engine(memory_limit="256MB", max_record_bytes=4096) as engine:
        report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (2, 1)
    assert report.bad_samples[0].row == 3
    assert report.bad_samples[0].reason.startswith("record of 68 KiB exceeds the 4 KiB limit")


def test_a_reader_error_that_is_not_readable_text_does_not_escape(tmp_path: Path) -> None:
    """DuckDB quoted the record in its error cut inside a UTF-8 character, and its client
    raised UnicodeDecodeError instead of its own error, out of `load_file`."""
    path = tmp_path / "audits.json"
    tail = b'null,[null, [null, null, 0.0, -1.7014060796320575e-189], {"\xc2\x80": null}]'
    path.write_bytes(b"[" + json.dumps(BASES["audit"][0]).encode() + b"," + tail + b"]")
    with Engine(memory_limit="256MB") as engine:
        report = engine.load_file(path)
    assert (report.rows, report.bad_rows, report.error) == (1, 2, None)


def test_a_rejected_line_after_a_lost_one_is_counted_once_on_its_own_line(
        tmp_path: Path) -> None:
    """DuckDB lost line 9 (too long) without a trace and numbered the lines after it one
    short, so its reject of line 13 (too long, too many columns) was not matched with the
    scan's and both were counted."""
    good = ",".join(CSV_ROWS[0]) + "\n"
    path = tmp_path / "signins.csv"
    path.write_text(",".join(CSV_HEADER) + "\n" + good * 7 + "x" * 7568 + "\n" + good * 3
                    + ",".join([*CSV_ROWS[0], "x" * 4021]) + "\n")
    with Engine(memory_limit="256MB", max_record_bytes=4096) as engine:
        report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (10, 2)
    assert [(bad.row, bad.reason) for bad in report.bad_samples] == [
        (9, "record of 7.4 KiB exceeds the 4 KiB limit per record"),
        (13, "record of 4,097 bytes exceeds the 4,096-byte limit per record")]


def test_rows_after_a_line_near_a_small_limit_are_not_lost(tmp_path: Path) -> None:
    """With read buffers of twice a 4 KiB limit, DuckDB lost every row after a line just
    under the limit that was followed by a short row, and reported none of them."""
    good = ",".join(CSV_ROWS[0])
    path = tmp_path / "signins.csv"
    path.write_text("\n".join([",".join(CSV_HEADER), good, "x" * 3873 + good[20:],
                               "2026-03-02T09:00:00Z", good]) + "\n")
    with Engine(memory_limit="256MB", max_record_bytes=4096) as engine:
        report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (2, 2)
    assert {bad.reason for bad in report.bad_samples} == {
        "unreadable time", "missing columns: expected number of columns: 7 found: 1"}
