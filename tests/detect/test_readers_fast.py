"""The fast JSON reads give the rows the tolerant read gives, and fall back when they must."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from mailwarden.detect.engine import Engine
from tests.detect.detect_factory import at, signin, ual

#: Enough records to push the later ones past the sniffer's first megabyte.
_MANY = 4000


@pytest.fixture
def engine() -> Any:
    with Engine(memory_limit="256MB") as value:
        yield value


def _rows(engine: Engine) -> list[dict[str, Any]]:
    rows = engine.query("SELECT * EXCLUDE (event_id, source_file) FROM signins "
                        "ORDER BY source_row")
    engine.connection.execute("DELETE FROM signins")
    return rows


def _odd_records() -> list[dict[str, Any]]:
    padded = {**signin(at(2), " Ann ", " 192.0.2.7 ", client=" IMAP4 "),
              "status": {"errorCode": "50053", "failureReason": "  "}}
    no_extras = {key: value for key, value in signin(at(3), "bob", "::ffff:192.0.2.8").items()
                 if key not in ("location", "deviceDetail", "userAgent")}
    return [signin(at(0), "ann", "[2001:db8::5]:443", 50126, client="IMAP4"),
            signin(at(1), "ann", "192.0.2.1:8080", 0, device="dev-1"), padded, no_extras,
            {**signin(at(4), "eve", "2001:DB8::9%eth0"), "status": None, "location": {}},
            {**signin(at(5), "eve", ""), "createdDateTime": "2026-03-02T10:05:00+02:00"}]


def _as_lines(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _as_stream(path: Path, records: list[Any]) -> Path:
    """Pretty-printed values one after another: a container only the tolerant read takes."""
    path.write_text("".join(json.dumps(r, indent=2) + "\n" for r in records), encoding="utf-8")
    return path


def test_fast_read_gives_the_tolerant_rows(engine: Engine, tmp_path: Path) -> None:
    records = _odd_records()
    fast = engine.load_file(_as_lines(tmp_path / "fast.jsonl", records))
    fast_rows = _rows(engine)
    tolerant = engine.load_file(_as_stream(tmp_path / "slow.json", records))
    assert "JSON Lines" in fast.format and "JSON Lines" not in tolerant.format
    assert (fast.rows, fast.bad_rows) == (tolerant.rows, tolerant.bad_rows) == (6, 0)
    assert fast_rows == _rows(engine)
    assert [r["ip"] for r in fast_rows] == ["2001:db8::5", "192.0.2.1", "192.0.2.7",
                                            "192.0.2.8", "2001:db8::9", None]


def test_a_json_array_is_read_fast_with_element_numbers(engine: Engine, tmp_path: Path) -> None:
    records = _odd_records()
    path = tmp_path / "array.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    assert engine.load_file(path).rows == 6
    fast_rows = _rows(engine)
    engine.load_file(_as_stream(tmp_path / "slow.json", records))
    assert fast_rows == _rows(engine)
    assert [r["source_row"] for r in fast_rows] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("odd", [
    {"TimeGenerated": "2026-03-03T09:00:00Z", "createdDateTime": None},  # a field not seen first
    {"status": json.dumps({"errorCode": 50126})},  # a string holding JSON, not an object
    {"Status": {"errorCode": 1}},  # one key in two casings
])
def test_records_unlike_the_first_ones_are_read_as_the_tolerant_read_reads_them(
        engine: Engine, tmp_path: Path, odd: dict[str, Any]) -> None:
    records = [signin(at(n / 60), f"user{n % 7}", f"192.0.2.{n % 250}", n % 2 * 50126)
               for n in range(_MANY)]
    records[-2] = {**records[-2], **odd}
    fast = engine.load_file(_as_lines(tmp_path / "fast.jsonl", records))
    fast_rows = _rows(engine)
    tolerant = engine.load_file(_as_stream(tmp_path / "slow.json", records))
    assert (fast.rows, fast.bad_rows) == (tolerant.rows, tolerant.bad_rows)
    assert fast_rows == _rows(engine)


def test_bad_records_are_counted_with_their_line(engine: Engine, tmp_path: Path) -> None:
    records: list[Any] = [signin(at(n), "ann", "192.0.2.1") for n in range(_MANY)]
    records[3000] = {**records[3000], "createdDateTime": "last tuesday"}
    report = engine.load_file(_as_lines(tmp_path / "time.jsonl", records))
    assert (report.rows, report.bad_rows) == (_MANY - 1, 1)
    assert (report.bad_samples[0].row, report.bad_samples[0].sample) == (3001, "last tuesday")
    assert [r["source_row"] for r in _rows(engine)][2999:3001] == [3000, 3002]
    records[3000] = None  # a JSON null is no record
    report = engine.load_file(_as_lines(tmp_path / "null.jsonl", records))
    assert (report.rows, report.bad_rows) == (_MANY - 1, 1)
    assert report.bad_samples[0].reason == "not a JSON object"


def test_rows_keep_their_line_numbers_across_row_groups(engine: Engine, tmp_path: Path) -> None:
    count = 300_000  # several of DuckDB's row groups (122,880 rows each)
    path = tmp_path / "many.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for n in range(1, count + 1):
            out.write('{"createdDateTime":"2026-03-02T09:00:00Z","userPrincipalName":'
                      f'"u{n % 50}@contoso.example","id":"{n}","status":{{"errorCode":0}}}}\n')
    report = engine.load_file(path)
    assert (report.rows, report.bad_rows) == (count, 0)
    mismatched = engine.query("SELECT count(*) AS n FROM signins "
                              "WHERE CAST(request_id AS BIGINT) <> source_row")[0]["n"]
    ids = engine.query("SELECT count(DISTINCT event_id) AS n FROM signins")[0]["n"]
    assert (mismatched, ids) == (0, count)


def _audit_rows(engine: Engine) -> list[dict[str, Any]]:
    rows = engine.query("SELECT * EXCLUDE (event_id, source_file) FROM mailbox_audits "
                        "ORDER BY source_row")
    engine.connection.execute("DELETE FROM mailbox_audits")
    return rows


def test_fields_first_seen_late_widen_the_fast_read_instead_of_reading_again(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [ual(at(n / 60), "MailItemsAccessed", f"user{n % 7}@contoso.example",
                   mailbox="shared@contoso.example") for n in range(_MANY)]
    records[-3] = ual(at(90), "SendAs", "bob@contoso.example",
                      SendAsUserSmtp="Shared@Contoso.example",
                      Item={"Subject": "invoice", "ParentFolder": {"Path": "\\Sent Items"}})
    records[-1] = {**records[-1], "OperationProperties": [{"Name": "Mailbox", "Value": "x"}]}
    slow = tmp_path / "slow.json"
    tolerant = engine.load_file(_as_stream(slow, records))
    tolerant_rows = _audit_rows(engine)

    def read_again(*_: Any) -> None:
        raise AssertionError("the file was read a second time")

    monkeypatch.setattr(Engine, "_stage_direct", read_again)
    fast = engine.load_file(_as_lines(tmp_path / "fast.jsonl", records))
    assert (fast.rows, fast.bad_rows) == (tolerant.rows, tolerant.bad_rows) == (_MANY, 0)
    fast_rows = _audit_rows(engine)
    assert fast_rows == tolerant_rows
    assert (fast_rows[-3]["send_as_upn"], fast_rows[-3]["item_subject"]) == (
        "shared@contoso.example", "invoice")
    assert fast_rows[-1]["parameters"] == [{"name": "mailbox", "value": "x"}]


def test_a_record_with_none_of_the_fields_still_gets_a_closer_look(
        engine: Engine, tmp_path: Path) -> None:
    records: list[Any] = [ual(at(n / 60), "Send", "ann@contoso.example") for n in range(_MANY)]
    records[-2] = {"Unrelated": 1, "SendAsUserSmtp": "x@contoso.example"}
    records[-1] = {"Unrelated": 2}
    fast = engine.load_file(_as_lines(tmp_path / "fast.jsonl", records))
    fast_rows = _audit_rows(engine)
    tolerant = engine.load_file(_as_stream(tmp_path / "slow.json", records))
    assert (fast.rows, fast.bad_rows, fast.rows_without_time) == (
        tolerant.rows, tolerant.bad_rows, tolerant.rows_without_time)
    assert fast_rows == _audit_rows(engine)
