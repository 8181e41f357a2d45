"""The log checkpoint (its moves, saving and loading) and appending records to logs/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailwarden.collect.logs import (
    LogBatch,
    LogCheckpoint,
    LogKind,
    append_log_batch,
    load_checkpoint,
    save_checkpoint,
)
from mailwarden.errors import InputError

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)
OVERLAP = timedelta(minutes=30)


def test_a_new_checkpoint_starts_every_kind_at_since() -> None:
    checkpoint = LogCheckpoint.starting(T0)
    assert checkpoint.since("signIns", OVERLAP) == T0
    assert checkpoint.advanced("ual", [], OVERLAP) is checkpoint


def test_the_mark_moves_to_the_newest_record_and_keeps_only_the_overlap_ids() -> None:
    read = [("a", T0 + timedelta(minutes=1)), ("b", T0 + timedelta(hours=2)),
            ("c", T0 + timedelta(hours=2, minutes=10))]
    moved = LogCheckpoint.starting(T0).advanced("signIns", read, OVERLAP)
    mark = moved.marks["signIns"]
    assert mark.last == T0 + timedelta(hours=2, minutes=10)
    assert set(mark.recent) == {"b", "c"}
    assert moved.since("signIns", OVERLAP) == mark.last - OVERLAP
    assert moved.since("ual", OVERLAP) == T0
    # A read with only older records never moves the mark back.
    again = moved.advanced("signIns", [("d", T0 + timedelta(hours=1, minutes=50))], OVERLAP)
    assert again.marks["signIns"].last == mark.last
    assert set(again.marks["signIns"].recent) == {"b", "c", "d"}


def test_checkpoint_round_trip_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "state" / "logs.checkpoint.json"
    assert load_checkpoint(path) is None
    checkpoint = LogCheckpoint.starting(T0).advanced(
        "directoryAudits", [("x", T0 + timedelta(seconds=5))], OVERLAP)
    save_checkpoint(path, checkpoint)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_checkpoint(path) == checkpoint
    save_checkpoint(path, LogCheckpoint.starting(T0))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert load_checkpoint(path) == LogCheckpoint.starting(T0)


@pytest.mark.parametrize("text, message", [
    ("not json", "cannot read the log checkpoint"),
    ('{"schema": "other"}', "not a mailwarden log checkpoint"),
    ('{"schema": "mailwarden.logcheckpoint/1", "start": "2026-01-01T00:00:00Z", '
     '"kinds": {"mail": {}}}', "unknown log kind"),
    ('{"schema": "mailwarden.logcheckpoint/1", "start": "soon"}', "is not a time"),
])
def test_a_bad_checkpoint_says_what_to_do(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_checkpoint(path)


def _batch(rows: dict[LogKind, tuple[dict[str, Any], ...]]) -> LogBatch:
    return LogBatch(records=rows, errors={}, duplicates={}, until=T0,
                    checkpoint=LogCheckpoint.starting(T0))


def test_append_writes_json_lines_0600_and_appends(tmp_path: Path) -> None:
    first = _batch({"signIns": ({"id": "1"}, {"id": "2"}), "ual": ()})
    written = append_log_batch(tmp_path, first)
    assert set(written) == {"signIns"}
    path = tmp_path / "logs" / "signIns.json"
    assert path.stat().st_mode & 0o777 == 0o600
    with path.open("a") as handle:
        handle.write('{"id": "by-hand"}')  # no final newline: the next append adds one
    append_log_batch(tmp_path, _batch({"signIns": ({"id": "3"},)}))
    lines = path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["1", "2", "by-hand", "3"]
    assert not (tmp_path / "logs" / "ual.json").exists()


def test_append_refuses_a_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "directoryAudits.json"
    path.parent.mkdir()
    path.write_text('[{"id": "old"}]\n')
    with pytest.raises(InputError, match="JSON array"):
        append_log_batch(tmp_path, _batch({"directoryAudits": ({"id": "new"},)}))
    assert path.read_text() == '[{"id": "old"}]\n'
