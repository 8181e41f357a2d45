"""Reading a growing log directory: each record once, late records, partial lines."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailwarden.errors import InputError
from mailwarden.watch.records import parse_time, read_rows, record_of
from mailwarden.watch.source import DirectorySource, KindMark, select_new

T0 = datetime(2026, 10, 2, 9, tzinfo=UTC)


def sign_in(ident: str, moment: datetime, **extra: object) -> dict[str, object]:
    return {"id": ident, "createdDateTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "userPrincipalName": "hr@contoso.example", **extra}


def write_lines(path: Path, rows: list[dict[str, object]], *, tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in rows)
        out.write(tail)


def tenant_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "tenant"
    (directory / "logs").mkdir(parents=True)
    (directory / "tenant.json").write_text('{"tenantId": "t"}', encoding="utf-8")
    return directory


def ids(pull_records: tuple[object, ...]) -> list[str]:
    return sorted(r.id for r in pull_records)  # type: ignore[attr-defined]


def test_each_record_is_read_once_across_pulls_even_with_equal_times(tmp_path: Path) -> None:
    directory = tenant_dir(tmp_path)
    source = DirectorySource(directory, tmp_path / "cp.json")
    write_lines(directory / "logs" / "signIns.json", [sign_in("a", T0), sign_in("b", T0)])
    first = source.pull()
    assert ids(first.records) == ["a", "b"]
    source.commit(first)
    assert stat.S_IMODE((tmp_path / "cp.json").stat().st_mode) == 0o600
    # Same second as the checkpoint, one earlier within the hour, one later.
    write_lines(directory / "logs" / "signIns.json",
                [sign_in("c", T0), sign_in("d", T0 - timedelta(minutes=20)),
                 sign_in("e", T0 + timedelta(seconds=1))])
    second = source.pull()
    assert ids(second.records) == ["c", "d", "e"]
    assert second.late == 0
    # Not committed: the same pull repeats (a crashed cycle re-reads, the window dedupes).
    assert ids(source.pull().records) == ["c", "d", "e"]
    source.commit(second)
    assert source.pull().records == ()


def test_a_record_written_more_than_an_hour_late_is_counted_not_hidden(tmp_path: Path) -> None:
    directory = tenant_dir(tmp_path)
    source = DirectorySource(directory, tmp_path / "cp.json")
    write_lines(directory / "logs" / "signIns.json", [sign_in("a", T0)])
    source.commit(source.pull())
    write_lines(directory / "logs" / "signIns.json", [sign_in("old", T0 - timedelta(hours=3))])
    pull = source.pull()
    assert pull.records == ()
    assert pull.late == 1
    source.commit(pull)
    assert source.pull().late == 0  # reported once


def test_a_line_still_being_written_is_read_once_it_is_complete(tmp_path: Path) -> None:
    directory = tenant_dir(tmp_path)
    source = DirectorySource(directory, tmp_path / "cp.json")
    path = directory / "logs" / "signIns.json"
    whole = json.dumps(sign_in("b", T0 + timedelta(minutes=1)))
    write_lines(path, [sign_in("a", T0)], tail=whole[:30])
    pull = source.pull()
    assert ids(pull.records) == ["a"]
    assert pull.unreadable == 1
    source.commit(pull)
    with path.open("a", encoding="utf-8") as out:
        out.write(whole[30:] + "\n")
    assert ids(source.pull().records) == ["b"]


def test_record_shapes_times_and_ids() -> None:
    ual = record_of("ual", {"CreationTime": "2026-10-02T09:00:00", "Id": "u1"})
    assert ual is not None and ual.time == T0 and ual.id == "u1"
    graph_ual = record_of("ual", {"createdDateTime": "2026-10-02T09:00:00Z", "id": "g1"})
    assert graph_ual is not None and graph_ual.id == "g1"
    no_id = {"activityDateTime": "2026-10-02T09:00:00.1234567Z", "activityDisplayName": "x"}
    first, again = record_of("directoryAudits", no_id), record_of("directoryAudits", dict(no_id))
    assert first is not None and again is not None and first.id == again.id
    assert first.id.startswith("sha256:")
    assert record_of("signIns", {"id": "x"}) is None
    assert record_of("signIns", ["not", "an", "object"]) is None
    assert parse_time("not a time") is None


def test_arrays_and_graph_pages_are_read(tmp_path: Path) -> None:
    array = tmp_path / "signIns.json"
    array.write_text(json.dumps([sign_in("a", T0), sign_in("b", T0)]), encoding="utf-8")
    page = tmp_path / "ual.json"
    page.write_text(json.dumps({"value": [{"Id": "u", "CreationTime": "2026-10-02T09:00:00"}]}),
                    encoding="utf-8")
    assert len(read_rows(array).rows) == 2
    assert len(read_rows(page).rows) == 1


def test_select_new_keeps_only_ids_inside_the_allowance() -> None:
    records = [r for r in (record_of("signIns", sign_in(str(i), T0 + timedelta(minutes=30 * i)))
                           for i in range(5)) if r is not None]
    new, late, mark = select_new(records, None)
    assert len(new) == 5 and late == 0 and mark is not None
    assert mark.through == T0 + timedelta(hours=2)
    assert mark.ids == {"2", "3", "4"}  # within the hour before the newest
    assert mark.older == 2
    again, _, same = select_new(records, mark)
    assert again == [] and same == mark
    assert select_new([], KindMark(through=T0, ids=frozenset()))[0] == []


def test_a_checkpoint_of_another_directory_is_refused(tmp_path: Path) -> None:
    one, other = tenant_dir(tmp_path / "1"), tenant_dir(tmp_path / "2")
    DirectorySource(one, tmp_path / "cp.json").commit(
        DirectorySource(one, tmp_path / "cp.json").pull())
    with pytest.raises(InputError, match="separate --state-dir"):
        DirectorySource(other, tmp_path / "cp.json").pull()
    with pytest.raises(InputError, match="no such directory"):
        DirectorySource(tmp_path / "missing", tmp_path / "cp.json")
