"""The rolling window: idempotent appends, a torn last line, whole days dropped."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailwarden.watch.records import LogRecord, record_of
from mailwarden.watch.window import LogWindow, Pruned

T0 = datetime(2026, 10, 2, 9, tzinfo=UTC)


def record(ident: str, moment: datetime) -> LogRecord:
    found = record_of("signIns", {"id": ident, "createdDateTime": moment.isoformat()})
    assert found is not None
    return found


def kept_ids(window: LogWindow) -> list[str]:
    return sorted(json.loads(line)["_watch_id"] for path in window.files()
                  for line in path.read_text(encoding="utf-8").splitlines())


def test_appending_the_same_records_again_writes_nothing(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    batch = [record("a", T0), record("b", T0 + timedelta(days=1))]
    assert window.append(batch) == 2
    assert window.append([*batch, record("c", T0)]) == 1
    assert kept_ids(window) == ["a", "b", "c"]
    assert [p.name for p in window.files()] == ["signIns.2026-10-02.jsonl",
                                                "signIns.2026-10-03.jsonl"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in window.files())
    assert window.record_count() == 3


def test_a_line_torn_by_a_crash_is_cut_and_its_record_written_whole(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    window.append([record("a", T0)])
    path = window.files()[0]
    with path.open("a", encoding="utf-8") as out:
        out.write('{"id": "b", "createdDa')
    window.append([record("b", T0)])
    assert kept_ids(window) == ["a", "b"]


def test_prune_drops_whole_days_before_the_history(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    window.append([record(str(day), T0 + timedelta(days=day)) for day in range(10)])
    dropped = window.prune(timedelta(days=8))
    assert [p.name for p in dropped.days] == ["signIns.2026-10-02.jsonl"]
    assert window.newest_day() == (T0 + timedelta(days=9)).date()
    assert len(window.files()) == 9


def test_a_history_in_hours_keeps_those_hours_before_the_newest_day(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    first = datetime(2026, 10, 2, tzinfo=UTC)
    hourly = {f"h{hour}": first + timedelta(hours=hour) for hour in range(4 * 24)}
    window.append([record(ident, moment) for ident, moment in hourly.items()])
    pruned = window.prune(timedelta(hours=36))
    start = datetime(2026, 10, 5, tzinfo=UTC) - timedelta(hours=36)  # 3 October, noon
    assert kept_ids(window) == sorted(i for i, moment in hourly.items() if moment >= start)
    assert [p.name for p in pruned.days] == ["signIns.2026-10-02.jsonl"]
    assert pruned.records_cut == 12 and pruned
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in window.files())
    assert window.record_count() == 36 + 24
    assert not window.prune(timedelta(hours=36))  # nothing more to drop
    assert window.prune(timedelta(hours=36)) == Pruned()


def test_the_day_the_window_starts_in_goes_when_all_of_it_is_older(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    window.append([record("early", T0.replace(hour=1)), record("next", T0 + timedelta(days=1))])
    pruned = window.prune(timedelta(hours=12))  # from 2 October, noon
    assert pruned.records_cut == 1 and pruned.days == ()
    assert kept_ids(window) == ["next"]
    assert [p.name for p in window.files()] == ["signIns.2026-10-03.jsonl"]


def test_combined_gives_one_file_per_log_and_cleans_up(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    ual = record_of("ual", {"Id": "u", "CreationTime": "2026-10-03T00:00:00"})
    assert ual is not None
    window.append([record("a", T0), record("b", T0 + timedelta(days=1)), ual])
    with window.combined() as files:
        assert [p.name for p in files] == ["signIns.jsonl", "ual.jsonl"]
        assert len(files[0].read_text(encoding="utf-8").splitlines()) == 2
        folder = files[0].parent
    assert not folder.exists()
    with LogWindow(tmp_path / "empty").combined() as nothing:
        assert nothing == ()


def test_ids_are_read_back_whatever_the_record_holds(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    tricky = record_of("signIns", {"id": "real", "createdDateTime": T0.isoformat(),
                                   "userAgent": '"_watch_id": "evil"}',
                                   "nested": {"_watch_id": "also-evil"}})
    assert tricky is not None
    window.append([tricky])
    assert window.append([tricky]) == 0
    assert kept_ids(window) == ["real"]


def test_a_torn_day_does_not_swallow_the_next_days_first_record(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    window.append([record("a", T0), record("b", T0 + timedelta(days=1))])
    with window.files()[0].open("a", encoding="utf-8") as out:
        out.write('{"id": "torn"')
    with window.combined() as (joined,):
        lines = joined.read_text(encoding="utf-8").splitlines()
    assert [json.loads(lines[i])["id"] for i in (0, 2)] == ["a", "b"]
