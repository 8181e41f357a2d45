"""The log kinds of a recorded tenant and its `logs/` folder.

Records go, as JSON Lines in the shapes Graph returned them, to `logs/signIns.json`,
`logs/directoryAudits.json` and `logs/ual.json` (Graph audit log query records), the
files `detect` reads from a recorded tenant. Files are created 0600. A file that holds a
JSON array cannot take appended lines: that is refused with what to do, never mangled.
"""

from __future__ import annotations

import itertools
import json
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

from mailwarden.errors import InputError
from mailwarden.files import append_private_lines

LogKind = Literal["signIns", "directoryAudits", "ual"]
LOG_KINDS: tuple[LogKind, ...] = get_args(LogKind)


class LogRecords(Protocol):
    """New records per kind (a collection's batch)."""

    @property
    def records(self) -> Mapping[LogKind, tuple[dict[str, Any], ...]]: ...


LOG_FILE_NAMES: Mapping[LogKind, str] = {kind: f"{kind}.json" for kind in LOG_KINDS}


def _check_appendable(path: Path) -> bool:
    """True when the existing file ends without a newline (one must be written first).
    Anything but a regular file (a link, a FIFO) is left to the append, which refuses it
    with a clear error, rather than read here, where a FIFO would block."""
    info = path.lstat()
    size = info.st_size
    if size == 0 or not stat.S_ISREG(info.st_mode):
        return False
    with path.open("rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        handle.seek(size - 1)
        last = handle.read(1)
    if head.startswith(b"["):
        raise InputError(f"{path}: holds a JSON array, so records cannot be appended to it; "
                         "collect into another directory, or convert it to JSON Lines")
    return last != b"\n"


def append_records(path: Path, rows: tuple[dict[str, Any], ...]) -> None:
    """Append `rows` as JSON Lines; the file is created 0600 if new."""
    needs_newline = (path.exists() or path.is_symlink()) and _check_appendable(path)
    lines = (json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
    append_private_lines(path, itertools.chain(["\n"] if needs_newline else [], lines))


def append_log_batch(directory: Path, batch: LogRecords) -> dict[LogKind, Path]:
    """Append each kind's new records to `directory/logs/`; returns the files written to
    (kinds without new records are not touched)."""
    written: dict[LogKind, Path] = {}
    for kind in LOG_KINDS:
        rows = batch.records.get(kind, ())
        if not rows:
            continue
        path = directory / "logs" / LOG_FILE_NAMES[kind]
        append_records(path, rows)
        written[kind] = path
    return written
