"""Records over the limit per record are counted as bad rows with the reason, never lost,
and never held whole: through `python -m mailwarden detect` / `scan` as a process.

A 33 MB JSON line among 100 good ones, plain and in a gzip (written as gzip members of a
mebibyte each, so nothing of its size is held in memory). A CSV row is lost the same way
at any size over DuckDB's read buffer (32 MiB), so 33 MB stands for 1 GB here;
the 1 GB line in a gzip and the 1 GB CSV row themselves are run by
`benchmarks/oversized.py` (about 1 MB of gzip each; it decompresses 2 GB, too slow for
the suite), which also reports the peak memory.
DuckDB's JSON reader reads any value under twice its own floor of 16 MiB whatever the
limit, so the JSON tests use 33 MiB records (a gzip of them is a few kilobytes).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mailwarden.detect.inputs.oversize import find_long_lines
from tests.detect.detect_factory import at, signin
from tests.support.synthetic import assessed_code, write_tenant

MIB = 1 << 20
#: A small limit for the quick tests: the long lines below are 16 times longer.
SMALL_LIMIT = 64 << 10
CSV_HEADER = "CreatedDateTime [UTC],UserPrincipalName,ResultType,IPAddress\n"


def detect(tmp_path: Path, *files: Path, limit: int | None = None
           ) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    env = {**os.environ, "COLUMNS": "250"}
    if limit is not None:
        env["MAILWARDEN_MAX_RECORD_BYTES"] = str(limit)
    out = tmp_path / "out"
    args = [a for path in files for a in ("--signins", str(path))]
    done = subprocess.run([sys.executable, "-m", "mailwarden", "detect", "--out", str(out),
                           "-q", *args], capture_output=True, text=True, timeout=300,
                          check=False, env=env)
    inputs = []
    if (out / "alerts.json").is_file():
        inputs = json.loads((out / "alerts.json").read_text(encoding="utf-8"))["inputs"]
    return done, inputs


def flat(text: str) -> str:
    return "".join(char for char in text if char not in "│┃ \n")


def good_lines(first: int, count: int) -> list[bytes]:
    return [json.dumps(signin(at(i), "ann", "192.0.2.1")).encode() + b"\n"
            for i in range(first, first + count)]


def long_record_parts(size: int) -> tuple[bytes, bytes]:
    """A sign-in record as JSON, split where a `size`-byte user agent goes."""
    head, tail = json.dumps({**signin(at(50), "ann", "192.0.2.1"),
                             "userAgent": "@@"}).split("@@")
    return head.encode(), tail.encode()


def write_gzip_members(path: Path, parts: Iterable[bytes | tuple[bytes, int]]) -> None:
    """A gzip file of several members (valid gzip, read by Python and DuckDB alike); a
    `(block, n)` part is `block` repeated n times, compressed once."""
    with path.open("wb") as out:
        for part in parts:
            if isinstance(part, tuple):
                block, times = part
                member = gzip.compress(block, compresslevel=9)
                for _ in range(times):
                    out.write(member)
            else:
                out.write(gzip.compress(part))


def jsonl_with_long_line(path: Path, size_mib: int) -> Path:
    head, tail = long_record_parts(size_mib * MIB)
    write_gzip_members(path, [b"".join(good_lines(0, 50)) + head, (b"x" * MIB, size_mib),
                              tail + b"\n" + b"".join(good_lines(51, 50))])
    return path


def csv_with_long_row(path: Path, size_mib: int) -> Path:
    rows = [f'"4/28/2021, 2:08:45.221 PM",u{i}@contoso.example,0,192.0.2.1\n'
            for i in range(101)]
    first = CSV_HEADER + "".join(rows[:50]) + '"4/28/2021, 2:08:45.221 PM",'
    rest = ",0,192.0.2.1\n" + "".join(rows[51:])
    write_gzip_members(path, [first.encode(), (b"x" * MIB, size_mib), rest.encode()])
    return path


def the_bad_row(inputs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    report = next(item for item in inputs if Path(item["path"]).name == name)
    assert (report["rows"], report["bad_rows"], report["error"]) == (100, 1, None), report
    return report


def test_a_33_mb_json_line_among_100_good_ones_is_a_bad_row_with_its_reason(
        tmp_path: Path) -> None:
    path = tmp_path / "signins.jsonl"
    head, tail = long_record_parts(33 * MIB)
    with path.open("wb") as out:
        out.writelines(good_lines(0, 50))
        out.write(head)
        for _ in range(33):
            out.write(b"x" * MIB)
        out.write(tail + b"\n")
        out.writelines(good_lines(51, 50))
    done, inputs = detect(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = the_bad_row(inputs, "signins.jsonl")
    bad = report["bad_samples"][0]
    assert bad["row"] == 51
    assert bad["reason"] == "record of 33 MiB exceeds the 16 MiB limit per record"
    assert bad["sample"].startswith('{"id": "ann-')
    said = flat(done.stdout)  # the table of files folds its notes
    assert flat("first bad row 51: record of 33 MiB exceeds the 16 MiB limit per record") in said
    assert flat("1 record over the limit per record (16 MiB, MAILWARDEN_MAX_RECORD_BYTES) "
                "counted as bad, not read") in said


def test_a_33_mb_line_in_a_gzip_is_a_bad_row(tmp_path: Path) -> None:
    path = jsonl_with_long_line(tmp_path / "signins.jsonl.gz", 33)
    done, inputs = detect(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = the_bad_row(inputs, path.name)["bad_samples"][0]
    assert (bad["row"], bad["reason"]) == (
        51, "record of 33 MiB exceeds the 16 MiB limit per record")


@pytest.mark.parametrize("kind", ["csv.gz", "csv"])
def test_csv_rows_longer_than_the_read_buffer_are_bad_rows(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"signins.{kind}"
    csv_with_long_row(tmp_path / "packed.gz", 33)
    if kind == "csv":
        path.write_bytes(gzip.decompress((tmp_path / "packed.gz").read_bytes()))
    else:
        (tmp_path / "packed.gz").rename(path)
    done, inputs = detect(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = the_bad_row(inputs, path.name)["bad_samples"][0]
    assert bad["row"] == 52
    assert bad["reason"] == "record of 33 MiB exceeds the 16 MiB limit per record"


def test_a_smaller_limit_applies_to_csv_rows(tmp_path: Path) -> None:
    path = csv_with_long_row(tmp_path / "signins.csv.gz", 1)
    done, inputs = detect(tmp_path, path, limit=SMALL_LIMIT)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = the_bad_row(inputs, path.name)["bad_samples"][0]
    assert (bad["row"], bad["reason"]) == (
        52, "record of 1.0 MiB exceeds the 64 KiB limit per record")


def test_rows_after_a_long_line_keep_their_line_numbers(tmp_path: Path) -> None:
    """Line 30 fits DuckDB's buffer (it reports it too long), line 50 does not (it drops it
    and numbers the lines after it one short); the bad rows around them keep their lines."""
    lines = good_lines(0, 100)
    lines[9] = b'{"broken": \n'
    lines[69] = json.dumps({**signin(at(69), "ann", "192.0.2.1"),
                            "createdDateTime": "yesterday"}).encode() + b"\n"
    head, tail = long_record_parts(MIB)
    lines[29] = head + b"y" * (17 * MIB) + tail + b"\n"
    lines[49] = head + b"x" * (33 * MIB) + tail + b"\n"
    path = tmp_path / "signins.jsonl"
    path.write_bytes(b"".join(lines))
    done, inputs = detect(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = inputs[0]
    assert (report["rows"], report["bad_rows"]) == (96, 4)
    assert [(b["row"], b["reason"]) for b in report["bad_samples"]] == [
        (10, "not valid JSON"),
        (30, "record of 17 MiB exceeds the 16 MiB limit per record"),
        (50, "record of 33 MiB exceeds the 16 MiB limit per record"),
        (70, "unreadable time")]


@pytest.mark.parametrize("first", [True, False])
def test_a_long_element_of_a_json_array_is_a_bad_row(tmp_path: Path, first: bool) -> None:
    records = [signin(at(i), "ann", "192.0.2.1") for i in range(101)]
    at_index = 0 if first else 50
    records[at_index]["userAgent"] = "x" * (33 * MIB)
    path = tmp_path / "signins.json.gz"
    path.write_bytes(gzip.compress(json.dumps(records).encode(), compresslevel=1))
    done, inputs = detect(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = the_bad_row(inputs, path.name)["bad_samples"][0]
    assert bad["row"] == at_index + 1
    assert bad["reason"] == "record of 33 MiB exceeds the 16 MiB limit per record"


def test_a_json_lines_file_whose_first_record_is_too_long_is_still_read(
        tmp_path: Path) -> None:
    head, tail = long_record_parts(33 * MIB)
    path = tmp_path / "signins.jsonl.gz"
    write_gzip_members(path, [head, (b"x" * MIB, 33), tail + b"\n" + b"".join(good_lines(1, 100))])
    done, inputs = detect(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert the_bad_row(inputs, path.name)["bad_samples"][0]["row"] == 1


def test_a_bad_limit_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "signins.jsonl"
    path.write_bytes(b"".join(good_lines(0, 3)))
    done, _ = detect(tmp_path, path, limit=100)
    assert done.returncode == 2
    assert "MAILWARDEN_MAX_RECORD_BYTES='100': expected a number of bytes of at least" in (
        " ".join(done.stderr.split()))


@pytest.mark.slow  # writes a small synthetic tenant
def test_scan_says_how_many_rows_were_too_long_and_why(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "250"}
    tenant = tmp_path / "tenant"
    write_tenant(tenant, "small", seed=1)
    signins = tenant / "logs" / "signIns.json"
    lines = signins.read_bytes().splitlines(keepends=True)
    head, tail = long_record_parts(33 * MIB)
    lines.insert(2, head + b"x" * (33 * MIB) + tail + b"\n")
    signins.write_bytes(b"".join(lines))
    done = subprocess.run([sys.executable, "-m", "mailwarden", "scan", "--from-dir",
                           str(tenant), "--out", str(tmp_path / "out"), "-q"],
                          capture_output=True, text=True, timeout=300, check=False, env=env)
    assert done.returncode == assessed_code(tenant), done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert ("bad rows: signIns.json: 1 bad row not read (first: row 3: record of 33 MiB "
            "exceeds the 16 MiB limit per record)") in said
    alerts = json.loads((tmp_path / "out" / "alerts.json").read_text(encoding="utf-8"))
    report = next(i for i in alerts["inputs"] if i["path"].endswith("signIns.json"))
    assert report["bad_rows"] == 1 and report["rows"] == len(lines) - 1


def test_duckdb_still_drops_a_line_longer_than_its_buffer_without_a_trace(
        tmp_path: Path) -> None:
    """Why the scan exists: if this starts failing, DuckDB reports such lines itself (the
    engine then counts them once: its LINE SIZE rejects of scanned lines are not counted)."""
    path = tmp_path / "lines.txt"
    path.write_bytes(b"a\n" + b"x" * (3 * SMALL_LIMIT) + b"\nb\n")
    connection = duckdb.connect()
    rows = connection.execute(
        "SELECT line FROM read_csv($p, columns={'line': 'VARCHAR'}, header=false, "
        f"delim=chr(1), quote='', escape='', auto_detect=false, max_line_size={SMALL_LIMIT}, "
        f"buffer_size={2 * SMALL_LIMIT}, store_rejects=true)", {"p": str(path)}).fetchall()
    rejects = connection.execute("SELECT count(*) FROM reject_errors").fetchall()
    assert rows == [("a",), ("b",)] and rejects == [(0,)]
    found = find_long_lines(path, False, SMALL_LIMIT)
    assert (found.count, found.numbers, found.first[0].size) == (1, (2,), 3 * SMALL_LIMIT)
