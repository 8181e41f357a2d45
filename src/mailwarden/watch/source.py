"""Where a watched tenant's posture and new log records come from.

`TenantSource` is what a cycle needs: new records since a checkpoint (`pull`), the
checkpoint moved only when the cycle is done (`commit`), and the posture written as a
recorded tenant (`collect_posture`). `DirectorySource` reads a recorded tenant directory
whose `logs/` files grow between cycles (offline use, cron, tests); `ApiSource`
(mailwarden.watch.api) reads Graph and Exchange Online.

The directory checkpoint is, per log, the newest record time read (`through`) and the ids
of the records read in the hour before it: a record is new when it is later than
`through`, or within that hour and not among those ids. So records written late (log
ingestion is not in time order) are still read once, and records with the same time are
neither skipped nor read twice. Records older than that hour are taken as read; the
checkpoint also counts them (`older`), so one that appears there later (written more
than an hour late) raises the count and is reported as `late` in the cycle's log line
rather than dropped without a word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from mailwarden.errors import InputError
from mailwarden.pipeline import write_tenant_directory
from mailwarden.schemas import WATCH_CHECKPOINT_SCHEMA
from mailwarden.tenant.recorded import RecordedTenant, read_recorded_tenant
from mailwarden.times import iso, read_time
from mailwarden.watch.files import read_state_json, write_atomic_json
from mailwarden.watch.records import LOG_KINDS, LogRecord, kind_of_file, read_rows, record_of

LATE_ALLOWANCE = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pull:
    """New records since the stored checkpoint, and the checkpoint after them."""

    records: tuple[LogRecord, ...]
    checkpoint: Any  # what `commit` stores; opaque to the cycle
    unreadable: int = 0  # rows that are not JSON objects or have no readable time
    late: int = 0  # rows too old for the checkpoint that were not read before
    notes: tuple[str, ...] = field(default_factory=tuple)


class TenantSource(Protocol):
    description: str

    def pull(self) -> Pull: ...
    def commit(self, pull: Pull) -> None: ...
    def collect_posture(self, tenant_dir: Path) -> RecordedTenant: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class KindMark:
    through: datetime
    ids: frozenset[str]
    older: int = 0  # records in the input older than `through - allowance`

    def floor(self, allowance: timedelta) -> datetime:
        return self.through - allowance


def _load_marks(path: Path, directory: Path) -> dict[str, KindMark]:
    data = read_state_json(path, WATCH_CHECKPOINT_SCHEMA, "log checkpoint")
    if data is None:
        return {}
    if data.get("directory") != str(directory):
        raise InputError(f"{path}: this checkpoint belongs to {data.get('directory')}, not "
                         f"{directory}; use a separate --state-dir for each source")
    marks = {}
    for kind, mark in (data.get("logs") or {}).items():
        marks[kind] = KindMark(through=read_time(mark["through"]),
                               ids=frozenset(mark["ids"]), older=int(mark.get("older", 0)))
    return marks


def select_new(records: Sequence[LogRecord], mark: KindMark | None,
               allowance: timedelta = LATE_ALLOWANCE
               ) -> tuple[list[LogRecord], int, KindMark | None]:
    """The records of one log that are new after `mark`, how many arrived too late to be
    read, and the mark after them."""
    late = 0
    if mark is None:
        new = list(records)
    else:
        floor = mark.floor(allowance)
        new = [r for r in records
               if r.time > mark.through or (r.time >= floor and r.id not in mark.ids)]
        late = max(0, sum(1 for r in records if r.time < floor) - mark.older)
    taken = {r.id: r for r in new}  # the same record twice in the input is read once
    new = sorted(taken.values(), key=lambda r: (r.time, r.id))
    if not new and (mark is None or not late):
        return new, late, mark
    through = max([r.time for r in new[-1:]] + ([mark.through] if mark else []))
    floor = through - allowance
    ids = {r.id for r in new if r.time >= floor}
    if mark is not None and mark.through >= floor:
        # Old ids below the new floor are never consulted again; keeping them is harmless.
        ids |= mark.ids
    older = sum(1 for r in records if r.time < floor)
    return new, late, KindMark(through=through, ids=frozenset(ids), older=older)


class DirectorySource:
    """A recorded tenant directory whose `logs/` grow between cycles."""

    def __init__(self, directory: Path, checkpoint_path: Path) -> None:
        if not directory.is_dir():
            raise InputError(f"{directory}: no such directory; give a recorded tenant "
                             "directory (tenant.json, graph/, exo/, logs/)")
        self.directory = directory.resolve()
        self.checkpoint_path = checkpoint_path
        self.description = f"directory {self.directory}"

    def _log_files(self) -> list[Path]:
        folder = self.directory / "logs"
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and kind_of_file(p))

    def pull(self) -> Pull:
        marks = _load_marks(self.checkpoint_path, self.directory)
        by_kind: dict[str, list[LogRecord]] = {kind: [] for kind in LOG_KINDS}
        unreadable = 0
        for path in self._log_files():
            file_kind = kind_of_file(path)
            assert file_kind is not None  # _log_files keeps only named logs
            rows = read_rows(path)
            unreadable += rows.bad
            for row in rows.rows:
                record = record_of(file_kind, row)
                if record is None:
                    unreadable += 1
                else:
                    by_kind[file_kind].append(record)
        taken: list[LogRecord] = []
        late = 0
        after: dict[str, KindMark] = dict(marks)
        for kind, records in by_kind.items():
            new, too_late, mark = select_new(records, marks.get(kind))
            taken += new
            late += too_late
            if mark is not None:
                after[kind] = mark
        return Pull(records=tuple(taken), checkpoint=after, unreadable=unreadable, late=late)

    def commit(self, pull: Pull) -> None:
        marks: Mapping[str, KindMark] = pull.checkpoint
        write_atomic_json(self.checkpoint_path, {
            "schema": WATCH_CHECKPOINT_SCHEMA, "directory": str(self.directory),
            "logs": {kind: {"through": iso(m.through), "ids": sorted(m.ids),
                            "older": m.older} for kind, m in sorted(marks.items())}})

    def collect_posture(self, tenant_dir: Path) -> RecordedTenant:
        recorded = read_recorded_tenant(self.directory)
        write_tenant_directory(tenant_dir, recorded)
        return recorded
