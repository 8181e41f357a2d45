"""Private files: created 0600, an existing file made 0600, appends on disk before return."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailwarden import files
from mailwarden.errors import InputError
from mailwarden.files import (
    INPUT_LIMIT_VARIABLE,
    append_private_lines,
    open_private_append,
    open_private_exclusive,
    read_regular_bytes,
    read_regular_text,
    write_private_atomic,
    write_private_bytes,
    write_private_lines,
    write_private_text,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _write_text(path: Path) -> None:
    write_private_text(path, "é\n")


def _write_bytes(path: Path) -> None:
    write_private_bytes(path, "é\n".encode())


def _write_lines(path: Path) -> None:
    write_private_lines(path, iter(["é\n"]))


def _write_atomic(path: Path) -> None:
    write_private_atomic(path, "é\n")


def _append_lines(path: Path) -> None:
    append_private_lines(path, ["é\n"])


def _append_log(path: Path) -> None:
    with open_private_append(path) as handle:
        handle.write("é\n")


WRITERS: dict[str, Callable[[Path], None]] = {
    "text": _write_text, "bytes": _write_bytes, "lines": _write_lines,
    "atomic": _write_atomic, "append": _append_lines, "append-log": _append_log,
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS.keys())
@pytest.mark.usefixtures("open_umask")
def test_a_new_file_is_0600_in_folders_made_for_it(tmp_path: Path,
                                                    write: Callable[[Path], None]) -> None:
    path = tmp_path / "new" / "deeper" / "file.txt"
    write(path)
    assert _mode(path) == 0o600
    assert path.read_text(encoding="utf-8") == "é\n"


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS.keys())
def test_an_existing_file_is_made_0600(tmp_path: Path, write: Callable[[Path], None]) -> None:
    path = tmp_path / "file.txt"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o644)
    write(path)
    assert _mode(path) == 0o600


def test_whole_file_writers_replace_what_was_there(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    for write in (_write_text, _write_bytes, _write_lines, _write_atomic):
        path.write_text("a much longer old content\n", encoding="utf-8")
        write(path)
        assert path.read_text(encoding="utf-8") == "é\n"


def test_lines_are_written_as_they_come(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    write_private_lines(path, (f"{n}\n" for n in range(3)))
    assert path.read_text(encoding="utf-8") == "0\n1\n2\n"


def test_append_adds_at_the_end_and_fsyncs_before_returning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "journal"
    path.write_text("first\n", encoding="utf-8")
    synced: list[str] = []

    def fsync(fd: int) -> None:
        # Everything appended has left Python's buffer by the time it is synced.
        synced.append(path.read_text(encoding="utf-8"))

    monkeypatch.setattr(files.os, "fsync", fsync)
    size = append_private_lines(path, ["second\n", "thïrd\n"])
    assert synced == ["first\nsecond\nthïrd\n"]
    assert path.read_text(encoding="utf-8") == "first\nsecond\nthïrd\n"
    assert size == path.stat().st_size


def test_append_can_cut_a_torn_tail_or_start_afresh(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    path.write_bytes(b"whole\ntor")
    size = append_private_lines(path, ["next\n"], cut_to=len(b"whole\n"))
    assert path.read_bytes() == b"whole\nnext\n"
    assert size == len(b"whole\nnext\n")
    append_private_lines(path, ["fresh\n"], cut_to=0)
    assert path.read_bytes() == b"fresh\n"


@pytest.mark.usefixtures("open_umask")
def test_exclusive_create_makes_a_new_private_file(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "new.db"
    with open_private_exclusive(path) as out:
        out.write(b"data")
    assert path.read_bytes() == b"data"
    assert _mode(path) == 0o600


def test_exclusive_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "taken.db"
    path.write_bytes(b"keep")
    path.chmod(0o644)
    with pytest.raises(FileExistsError):
        open_private_exclusive(path)
    assert path.read_bytes() == b"keep"
    assert _mode(path) == 0o644  # not touched


def test_the_append_log_keeps_what_was_there(tmp_path: Path) -> None:
    path = tmp_path / "watch.log"
    path.write_text("one\n", encoding="utf-8")
    with open_private_append(path) as handle:
        handle.write("two\n")
    assert path.read_text(encoding="utf-8") == "one\ntwo\n"


def test_appends_and_in_place_writes_refuse_a_link_and_leave_its_target(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("theirs\n", encoding="utf-8")
    link = tmp_path / "out" / "journal"
    link.parent.mkdir()
    link.symlink_to(target)
    writers: list[Callable[[], object]] = [
        lambda: append_private_lines(link, ["ours\n"]),
        lambda: write_private_text(link, "ours\n"),
        lambda: open_private_append(link).close(),
    ]
    for write in writers:
        with pytest.raises(InputError, match="is a symbolic link"):
            write()
    assert target.read_text(encoding="utf-8") == "theirs\n"
    assert link.is_symlink()


def test_an_atomic_write_replaces_a_link_rather_than_writing_through_it(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("theirs\n", encoding="utf-8")
    link = tmp_path / "state.json"
    link.symlink_to(target)
    write_private_atomic(link, "ours\n")
    assert target.read_text(encoding="utf-8") == "theirs\n"
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == "ours\n"


def test_a_fifo_or_directory_at_an_output_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"not a regular file \(a FIFO\)"):
        write_private_text(fifo, "x")
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(InputError, match=r"not a regular file \(a directory\)"):
        write_private_text(folder, "x")
    with pytest.raises(InputError, match=r"not a regular file \(a directory\)"):
        write_private_atomic(folder, "x")


def test_folders_made_are_0700_and_existing_ones_keep_their_mode(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    write_private_text(existing / "a" / "b" / "file", "x")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755
    for folder in (existing / "a", existing / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_reading_takes_only_regular_files_within_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    regular = tmp_path / "regular.json"
    regular.write_bytes(b"\xef\xbb\xbf[1]")
    assert read_regular_text(regular) == "[1]"
    link = tmp_path / "link.json"
    link.symlink_to(regular)
    assert read_regular_text(link) == "[1]"
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"not a regular file \(a FIFO\)"):
        read_regular_bytes(fifo)
    with pytest.raises(InputError, match=r"not a regular file \(a directory\)"):
        read_regular_bytes(tmp_path)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    with pytest.raises(InputError, match=r"not a regular file \(a device\)"):
        read_regular_bytes(zero)
    monkeypatch.setenv(INPUT_LIMIT_VARIABLE, "3")
    with pytest.raises(InputError, match="larger than the 3 bytes"):
        read_regular_bytes(regular)
    monkeypatch.setenv(INPUT_LIMIT_VARIABLE, "many")
    with pytest.raises(InputError, match="expected a positive number"):
        read_regular_bytes(regular)
