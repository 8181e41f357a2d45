"""Private files: every file mailwarden writes is its owner's alone (0600).

Reports, recorded tenants, state, checkpoints, journals and outboxes name people and
mailboxes, so each is created 0600, and a file that already exists is made 0600 before
it is written (`O_CREAT` leaves an existing file's mode as it was). A file's parent
folders are created as needed.

- `write_private_text` / `write_private_bytes` / `write_private_lines`: the whole file,
  in place (a recorded tenant, a report: a crash may leave it short, and it is written
  again).
- `write_private_atomic`: the whole file or nothing, for state a crash must not damage.
- `open_private_exclusive`: a new file only; an existing one is refused with
  `FileExistsError`.
- `append_private_lines`: lines added at the end and on disk before it returns (journals,
  log windows); it can first cut off a tail a crash left unfinished.
- `open_private_append`: a file to append to as things happen (a log the caller flushes).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, TextIO

PRIVATE = 0o600


def _open_private(path: Path, flags: int) -> int:
    """A write descriptor on `path`, created 0600 and made 0600 if it already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) as the whole of `path`, a file only its owner can read."""
    with open(_open_private(path, os.O_TRUNC), "w", encoding="utf-8") as handle:
        handle.write(text)


def write_private_bytes(path: Path, data: bytes) -> None:
    """Write `data` as the whole of `path`, a file only its owner can read."""
    with open(_open_private(path, os.O_TRUNC), "wb") as handle:
        handle.write(data)


def write_private_lines(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` (each with its own line end) as the whole of `path`, one after another
    as they come, so a large file is never held in memory whole."""
    with open(_open_private(path, os.O_TRUNC), "w", encoding="utf-8") as handle:
        handle.writelines(lines)


def open_private_exclusive(path: Path) -> BinaryIO:
    """A new private file open for writing; raises `FileExistsError` if `path` exists."""
    return open(_open_private(path, os.O_EXCL), "wb")


def open_private_append(path: Path) -> TextIO:
    """`path` open for appending text (UTF-8), for a log written as things happen; the
    caller flushes what must be seen at once."""
    return open(_open_private(path, os.O_APPEND), "a", encoding="utf-8")


def append_private_lines(path: Path, lines: Iterable[str], *, cut_to: int | None = None
                         ) -> int:
    """Append `lines` (each with its own line end) to `path` and flush them to disk before
    returning; returns the file's size after them.

    With `cut_to`, the file is first cut to that many bytes: 0 starts it afresh, a
    length drops a last line a crash left unfinished. A crash during the append leaves
    whole lines and at most one cut short at the end, which readers must expect."""
    fd = _open_private(path, os.O_APPEND)
    with open(fd, "w", encoding="utf-8") as handle:
        if cut_to is not None:
            os.ftruncate(fd, cut_to)
        handle.writelines(lines)
        handle.flush()
        os.fsync(fd)
        return os.fstat(fd).st_size


def write_private_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path` (0600), flush it to disk, then rename
    it over `path`: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, PRIVATE)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file durable (POSIX); platforms without directory fds skip."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
