"""The rolling window of log records the watcher keeps under `STATE/tenant/logs/`.

Records are kept as JSON Lines, one file per log and UTC day (`signIns.2026-10-02.jsonl`),
so detection reads them like any recorded tenant's `logs/` and old days are dropped by
deleting whole files. Windowed rules need history, not just the new records: a spray's
campaign may pause for two days and its population is counted over a week, a mass-send
baseline needs days of sends; so the window keeps its newest day and `history` (default
eight days) before it. A history that is not whole days starts inside a day: that day's
file keeps only the records from the window's start on (`--history 36h` keeps the newest
day and the 36 hours before it, not one day).

Appending is idempotent: a record whose id is already in its day's file is not written
again, so a cycle that is repeated after a crash (the checkpoint had not moved) reads
every record exactly once. A line cut short by a crash mid-write is removed before the
next append; its record is fetched again because the checkpoint did not move past it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from mailwarden.files import (
    append_private_lines,
    fsync_directory,
    open_private_exclusive,
    write_private_atomic,
)
from mailwarden.watch.records import LOG_KINDS, LogKind, LogRecord, record_of

DEFAULT_HISTORY = timedelta(days=8)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pruned:
    """What `LogWindow.prune` dropped; true when it dropped anything (the window is cut)."""

    days: tuple[Path, ...] = ()  # day files wholly before the window, deleted
    records_cut: int = 0  # records before the window's start in the day it starts in

    def __bool__(self) -> bool:
        return bool(self.days) or self.records_cut > 0


def _day_of(path: Path) -> date | None:
    parts = path.name.split(".")
    if len(parts) != 3 or parts[0] not in LOG_KINDS or parts[2] != "jsonl":
        return None
    try:
        return date.fromisoformat(parts[1])
    except ValueError:
        return None


class LogWindow:
    """Day files of log records in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __repr__(self) -> str:
        return f"LogWindow({str(self.directory)!r})"

    def files(self) -> tuple[Path, ...]:
        if not self.directory.is_dir():
            return ()
        return tuple(sorted(p for p in self.directory.iterdir() if _day_of(p) is not None))

    def newest_day(self) -> date | None:
        days = [d for p in self.files() if (d := _day_of(p)) is not None]
        return max(days) if days else None

    def append(self, records: Iterable[LogRecord]) -> int:
        """Write the records not already kept; returns how many were written."""
        by_file: dict[Path, list[LogRecord]] = defaultdict(list)
        for record in records:
            name = f"{record.kind}.{record.time.date().isoformat()}.jsonl"
            by_file[self.directory / name].append(record)
        written = 0
        for path, batch in sorted(by_file.items()):
            written += _append_new(path, batch)
        if by_file:
            fsync_directory(self.directory)
        return written

    def prune(self, history: timedelta) -> Pruned:
        """Drop the records older than `history` before the newest day: the day files
        wholly before that, and in the day the window starts in, the records before it."""
        newest = self.newest_day()
        if newest is None:
            return Pruned()
        try:
            start = datetime.combine(newest, time(), tzinfo=UTC) - history
        except OverflowError:  # a history longer than the calendar: nothing is old enough
            return Pruned()
        dropped = tuple(p for p in self.files() if (d := _day_of(p)) and d < start.date())
        for path in dropped:
            path.unlink()
        cut = 0
        if start.time() != time():
            cut = sum(_cut_before(path, start) for path in self.files()
                      if _day_of(path) == start.date())
        return Pruned(days=dropped, records_cut=cut)

    @contextmanager
    def combined(self) -> Iterator[tuple[Path, ...]]:
        """The window as one file per log, in a private temporary folder beside it, for
        as long as the block runs: detection's cost per file read is fixed and large next
        to a day of records, so it reads three files rather than three per day."""
        files = self.files()
        if not files:
            yield ()
            return
        with tempfile.TemporaryDirectory(prefix=".detect-", dir=self.directory) as folder:
            joined = []
            for kind in LOG_KINDS:
                parts = [p for p in files if p.name.startswith(f"{kind}.")]
                if not parts:
                    continue
                target = Path(folder) / f"{kind}.jsonl"
                with open_private_exclusive(target) as out:
                    for part in parts:
                        with part.open("rb") as source:
                            shutil.copyfileobj(source, out)
                        # A line torn by a crash must not swallow the next file's first.
                        if part.stat().st_size and not _ends_with_newline(part):
                            out.write(b"\n")
                joined.append(target)
            yield tuple(joined)

    def record_count(self) -> int:
        total = 0
        for path in self.files():
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        return total


def _cut_before(path: Path, start: datetime) -> int:
    """Drop the records before `start` from a day file (replaced atomically, or deleted
    when nothing is left); returns how many were dropped. A last line cut short by a crash
    goes with them when the file is rewritten: its record is fetched again (`_kept_ids`)."""
    kind: LogKind = next(k for k in LOG_KINDS if path.name.startswith(f"{k}."))
    kept: list[bytes] = []
    cut = 0
    *whole, _torn = path.read_bytes().split(b"\n")
    for line in whole:
        if not line.strip():
            continue
        try:
            record = record_of(kind, json.loads(line))
        except ValueError:  # not JSON, or not UTF-8
            record = None
        if record is not None and record.time < start:
            cut += 1
        else:  # a line that cannot be dated is not this function's to throw away
            kept.append(line)
    if not cut:
        return 0
    if kept:
        text = b"".join(line + b"\n" for line in kept).decode("utf-8", "replace")
        write_private_atomic(path, text)
    else:
        path.unlink()
    return cut


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _kept_ids(path: Path) -> set[str]:
    """Ids already in a day file, after cutting off a line a crash left unfinished."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    return {_watch_id(line) for line in data.splitlines() if line.strip()}


_ID_KEY = b'"_watch_id": '


def _watch_id(line: bytes) -> str:
    """The id `_append_new` wrote as the line's last key, read without parsing the whole
    record (a day of sign-ins is read on every append)."""
    at = line.rfind(_ID_KEY)
    if at >= 0:
        try:
            return str(json.loads(line[at + len(_ID_KEY):].rstrip().removesuffix(b"}")))
        except json.JSONDecodeError:
            pass
    return str(json.loads(line)["_watch_id"])


def _append_new(path: Path, records: list[LogRecord]) -> int:
    kept = _kept_ids(path)
    lines = []
    for record in records:
        if record.id in kept:
            continue
        kept.add(record.id)
        # The id travels with the row: a record without an id of its own is known by the
        # digest it was given, which cannot be recomputed once the key is added.
        lines.append(json.dumps({**record.data, "_watch_id": record.id}, ensure_ascii=False,
                                default=str) + "\n")
    if not lines:
        return 0
    append_private_lines(path, lines)
    return len(lines)
