"""Where each log kind was read up to: the checkpoint of incremental log collection.

Per kind the checkpoint keeps the time of the newest record read (`last`) and the ids
of the records read inside the overlap before it (`recent`). The next read starts
`overlap` before `last`, so a record that reached the log late, with a time just
before `last`, is still found; and the ids in `recent` are skipped, so a record read
last time is not read again. Kinds never read start at the checkpoint's `start`.

Saved as JSON (0600), written to a temporary file and renamed over the old one, so a
crash leaves either the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mailwarden.errors import InputError
from mailwarden.files import write_private_atomic
from mailwarden.schemas import LOG_CHECKPOINT_SCHEMA
from mailwarden.tenant.logs import LOG_KINDS, LogKind
from mailwarden.times import as_utc, iso, parse_time


@dataclass(frozen=True, slots=True, kw_only=True)
class KindMark:
    """How far one kind was read: the newest record's time, and the ids read inside the
    overlap before it (with their times, so they can be forgotten as the mark moves)."""

    last: datetime
    recent: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogCheckpoint:
    start: datetime
    marks: Mapping[LogKind, KindMark] = field(default_factory=dict)

    @classmethod
    def starting(cls, since: datetime) -> LogCheckpoint:
        """A checkpoint that reads every kind from `since`."""
        return cls(start=as_utc(since))

    def since(self, kind: LogKind, overlap: timedelta) -> datetime:
        """Where the next read of `kind` starts."""
        mark = self.marks.get(kind)
        return self.start if mark is None else max(self.start, mark.last - overlap)

    def seen(self, kind: LogKind) -> Mapping[str, datetime]:
        mark = self.marks.get(kind)
        return {} if mark is None else mark.recent

    def advanced(self, kind: LogKind, read: Iterable[tuple[str | None, datetime]],
                 overlap: timedelta) -> LogCheckpoint:
        """This checkpoint moved past the (id, time) pairs of one kind's read."""
        old = self.marks.get(kind)
        pairs = [(record_id, moment) for record_id, moment in read]
        times = [moment for _, moment in pairs]
        if old is None and not times:
            return self
        last = max([*times, *([old.last] if old else [])])
        recent = dict(old.recent) if old else {}
        recent.update((record_id, moment) for record_id, moment in pairs if record_id)
        horizon = last - overlap
        kept = {record_id: moment for record_id, moment in recent.items() if moment >= horizon}
        return LogCheckpoint(start=self.start,
                             marks={**self.marks, kind: KindMark(last=last, recent=kept)})


def checkpoint_document(checkpoint: LogCheckpoint) -> dict[str, Any]:
    return {
        "schema": LOG_CHECKPOINT_SCHEMA,
        "start": iso(checkpoint.start),
        "kinds": {kind: {"last": iso(mark.last),
                         "recent": {rid: iso(moment) for rid, moment in mark.recent.items()}}
                  for kind, mark in checkpoint.marks.items()},
    }


def _time(value: Any, where: str) -> datetime:
    moment = parse_time(value)
    if moment is None:
        raise InputError(f"{where}: {value!r} is not a time; delete the checkpoint file to "
                         "start again from --since")
    return moment


def checkpoint_from_document(document: Any, where: str) -> LogCheckpoint:
    if not isinstance(document, dict) or document.get("schema") != LOG_CHECKPOINT_SCHEMA:
        raise InputError(f"{where}: not a mailwarden log checkpoint ({LOG_CHECKPOINT_SCHEMA})")
    marks: dict[LogKind, KindMark] = {}
    kinds = document.get("kinds") or {}
    if not isinstance(kinds, dict):
        raise InputError(f"{where}: 'kinds' must be an object")
    for name, raw in kinds.items():
        if name not in LOG_KINDS or not isinstance(raw, dict):
            raise InputError(f"{where}: unknown log kind {name!r}; expected {LOG_KINDS}")
        recent = raw.get("recent") or {}
        if not isinstance(recent, dict):
            raise InputError(f"{where}: kinds.{name}.recent must be an object")
        kind: LogKind = name
        marks[kind] = KindMark(
            last=_time(raw.get("last"), f"{where}: kinds.{name}.last"),
            recent={str(k): _time(v, f"{where}: kinds.{name}.recent") for k, v in recent.items()})
    return LogCheckpoint(start=_time(document.get("start"), f"{where}: start"), marks=marks)


def load_checkpoint(path: Path) -> LogCheckpoint | None:
    """The checkpoint saved at `path`, or None when there is none yet."""
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the log checkpoint ({exc}); delete it to start "
                         "again from --since") from exc
    return checkpoint_from_document(document, str(path))


def save_checkpoint(path: Path, checkpoint: LogCheckpoint) -> None:
    """Write atomically (temporary file in the same folder, then rename), 0600."""
    text = json.dumps(checkpoint_document(checkpoint), indent=1, sort_keys=True) + "\n"
    write_private_atomic(path, text)
