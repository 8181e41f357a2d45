"""Log records as the watcher handles them: which log, when, and which record.

The three logs of a recorded tenant (SPEC section 4) are `signIns`, `directoryAudits` and
`ual`. A record's time is its `createdDateTime`, `activityDateTime` or `CreationTime`
(the Unified Audit Log's has no zone: it is UTC; a UAL record read through Graph's audit
log query has `createdDateTime`); its identity is its `id` / `Id`, or,
for a record without one, a digest of its content, so the same record is recognised
however often it is read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from mailwarden.times import parse_time

LogKind = Literal["signIns", "directoryAudits", "ual"]
LOG_KINDS: tuple[LogKind, ...] = ("signIns", "directoryAudits", "ual")
_TIME_KEYS: Mapping[str, tuple[str, ...]] = {
    "signIns": ("createdDateTime",), "directoryAudits": ("activityDateTime",),
    "ual": ("CreationTime", "createdDateTime")}
#: `_field` ignores case, so "id" also finds the UAL's "Id".
_ID_KEY = "id"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRecord:
    kind: LogKind
    time: datetime
    id: str
    data: Mapping[str, Any]


def _field(row: Mapping[str, Any], name: str) -> Any:
    """A property in any case: exports spell them differently."""
    if name in row:
        return row[name]
    lowered = name.lower()
    return next((v for k, v in row.items() if str(k).lower() == lowered), None)


def record_of(kind: LogKind, row: Any) -> LogRecord | None:
    """The record, or None when the row is no object or has no readable time."""
    if not isinstance(row, Mapping):
        return None
    moment = next((m for key in _TIME_KEYS[kind]
                   if (m := parse_time(_field(row, key))) is not None), None)
    if moment is None:
        return None
    ident = _field(row, _ID_KEY)
    if not isinstance(ident, str) or not ident:
        text = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
        ident = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return LogRecord(kind=kind, time=moment, id=ident, data=row)


def kind_of_file(path: Path) -> LogKind | None:
    """The log a file holds, from its name: `signIns.json`, `ual.jsonl.gz`, ..."""
    stem = path.name.split(".")[0]
    return next((kind for kind in LOG_KINDS if kind == stem), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRows:
    rows: tuple[Any, ...]
    bad: int  # lines that are not JSON


def _open_text(path: Path) -> str:
    with path.open("rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    if compressed:
        with gzip.open(path, "rt", encoding="utf-8-sig") as handle:
            return handle.read()
    return path.read_text(encoding="utf-8-sig")


def read_rows(path: Path) -> FileRows:
    """The rows of a JSON array, a saved Graph page (`{"value": [...]}`) or JSON Lines.

    A JSON Lines file may end in a line still being written; it is counted as bad now and
    read whole on a later cycle, because nothing is taken from it until it parses."""
    text = _open_text(path)
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, list):
            return FileRows(rows=tuple(whole), bad=0)
        if isinstance(whole, dict) and isinstance(whole.get("value"), list):
            return FileRows(rows=tuple(whole["value"]), bad=0)
    rows: list[Any] = []
    bad = 0
    for line in _lines(text):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            bad += 1
    return FileRows(rows=tuple(rows), bad=bad)


def _lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            yield stripped
