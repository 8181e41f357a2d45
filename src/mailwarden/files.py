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

None of them writes through a symbolic link at the final path: a link there could send
personal data to wherever it points. Atomic writes replace the link itself; the others
refuse it (and anything else that is not a regular file, such as a FIFO that would block)
with an `InputError` naming the path. Folders they create are 0700; folders that already
exist keep their mode.

`read_regular_bytes` / `read_regular_text` read a file given to mailwarden only if it is a
regular file no larger than `input_size_limit()`, so a FIFO cannot hang a read and a link
to /dev/zero cannot fill memory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, TextIO

from mailwarden.errors import InputError

PRIVATE = 0o600
PRIVATE_FOLDER = 0o700
#: The environment variable that bounds the size of a file mailwarden reads whole.
INPUT_LIMIT_VARIABLE = "MAILWARDEN_MAX_INPUT_BYTES"
DEFAULT_INPUT_LIMIT = 4 * 1024**3


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents 0700 (`Path.mkdir(parents=True)` makes
    the parents with the default mode); folders that exist keep their mode."""
    missing = []
    for folder in (directory, *directory.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            if not folder.is_dir():
                raise InputError(f"{folder}: exists and is not a directory; "
                                 "remove it or choose another path") from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _not_regular(path: Path, kind: str, action: str) -> InputError:
    return InputError(f"{path}: not a regular file ({kind}); {action}")


def _open_private(path: Path, flags: int) -> int:
    """A write descriptor on `path`, created 0600 and made 0600 if it already existed.

    `O_NOFOLLOW` refuses a symbolic link at `path`, and `O_NONBLOCK` keeps a FIFO there
    from blocking the open until someone reads it; either is refused as not a file."""
    make_private_dirs(path.parent)
    action = "remove it or choose another path to write"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | flags,
                     PRIVATE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: is a symbolic link, which mailwarden does not write "
                             f"through; {action}") from exc
        if exc.errno == errno.EISDIR:
            raise _not_regular(path, "a directory", action) from exc
        if exc.errno == errno.ENXIO:
            raise _not_regular(path, "a FIFO", action) from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, _kind(mode), action)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        os.fchmod(fd, PRIVATE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def input_size_limit() -> int:
    """The largest file read whole: `MAILWARDEN_MAX_INPUT_BYTES`, or 4 GiB."""
    raw = os.environ.get(INPUT_LIMIT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_INPUT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if limit <= 0:
        raise InputError(f"{INPUT_LIMIT_VARIABLE}={raw!r}: expected a positive number of bytes")
    return limit


def read_regular_bytes(path: Path) -> bytes:
    """The content of `path` if it is a regular file (a link to one is followed) no larger
    than `input_size_limit()`; a FIFO, device or directory is refused without reading it."""
    limit = input_size_limit()
    action = "point it at a regular file, or re-collect it"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except IsADirectoryError as exc:
        raise _not_regular(path, "a directory", action) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(path, _kind(info.st_mode), action)
        if info.st_size > limit:
            raise _too_large(path, info.st_size, limit)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _too_large(path, len(data), limit)
    return data


def _too_large(path: Path, size: int, limit: int) -> InputError:
    return InputError(f"{path}: {size} bytes, larger than the {limit} bytes mailwarden reads "
                      f"whole; split it, or raise {INPUT_LIMIT_VARIABLE}")


def read_regular_text(path: Path, encoding: str = "utf-8-sig") -> str:
    """`read_regular_bytes` decoded; raises `UnicodeDecodeError` as `Path.read_text` does."""
    return read_regular_bytes(path).decode(encoding)


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
    it over `path`: a crash leaves the old file or the new one, never half of one. A
    symbolic link at `path` is replaced, never written through; a directory is refused."""
    make_private_dirs(path.parent)
    if path.is_dir() and not path.is_symlink():
        raise _not_regular(path, "a directory", "remove it or choose another path to write")
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
