"""The tenant's log records as the emulator serves them: sign-ins, directory audits and
Unified Audit Log records, each kind kept in time order.

Records are kept in their recorded shapes (Graph `signIn` and `directoryAudit` objects;
UAL records in the common schema with the AuditData fields merged in) and can be added
while the emulator runs, so a test can play an attack between two reads. Every record
gets a sequence number when added: the order key is (time, sequence), which pages
resume from, so records added meanwhile neither repeat nor shift a page.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

from mailwarden.errors import InputError
from mailwarden.tenant.logs import LogKind
from mailwarden.tenant.recorded import as_object_list
from mailwarden.times import parse_time

LOG_KINDS: tuple[LogKind, ...] = get_args(LogKind)
#: The property holding each kind's time.
TIME_FIELDS: Mapping[LogKind, str] = {
    "signIns": "createdDateTime",
    "directoryAudits": "activityDateTime",
    "ual": "CreationTime",
}

OrderKey = tuple[datetime, int]
#: Larger than any sequence number: (t, _LAST) sorts after every record at time t.
_LAST = 2**62




def as_kind(name: str) -> LogKind:
    for kind in LOG_KINDS:
        if kind.lower() == name.lower():
            return kind
    raise ValueError(f"unknown log kind {name!r}; use one of {', '.join(LOG_KINDS)}")


@dataclass(frozen=True, slots=True)
class Stored:
    key: OrderKey
    row: dict[str, Any]


class LogRecords:
    """Each kind's records sorted by (time, sequence). Thread-safe: the loopback server
    answers in its own thread while a test adds records."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[LogKind, list[OrderKey]] = {kind: [] for kind in LOG_KINDS}
        self._rows: dict[LogKind, list[dict[str, Any]]] = {kind: [] for kind in LOG_KINDS}
        self._sequence = 0

    def add(self, kind: LogKind, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add records (a copy of each); returns how many. A record without a readable
        time cannot be placed and is refused with a ValueError naming it."""
        field = TIME_FIELDS[kind]
        prepared = []
        for row in rows:
            moment = parse_time(row.get(field))
            if moment is None:
                raise ValueError(f"a {kind} record has no readable {field}: {dict(row)!r:.200}")
            prepared.append((moment, dict(row)))
        with self._lock:
            keys, stored = self._keys[kind], self._rows[kind]
            for moment, row in prepared:
                self._sequence += 1
                key = (moment, self._sequence)
                at = bisect.bisect_right(keys, key)
                keys.insert(at, key)
                stored.insert(at, row)
        return len(prepared)

    def count(self, kind: LogKind) -> int:
        with self._lock:
            return len(self._keys[kind])

    def page(self, kind: LogKind, start: datetime | None, end: datetime | None, *,
             start_inclusive: bool = True, end_inclusive: bool = False,
             after: OrderKey | None = None, limit: int | None = None,
             newest_first: bool = False) -> tuple[list[Stored], bool]:
        """Up to `limit` records inside the bounds, in the order asked, resuming after the
        record keyed `after` (the last one of the previous page); and whether more follow."""
        with self._lock:
            keys, rows = self._keys[kind], self._rows[kind]
            low, high = 0, len(keys)
            if start is not None:
                low = bisect.bisect_left(keys, (start, 0) if start_inclusive else (start, _LAST))
            if end is not None:
                high = bisect.bisect_left(keys, (end, _LAST) if end_inclusive else (end, 0))
            if after is not None and newest_first:
                high = min(high, bisect.bisect_left(keys, after))
            elif after is not None:
                low = max(low, bisect.bisect_right(keys, after))
            count = max(0, high - low)
            taken = count if limit is None else min(limit, count)
            if newest_first:
                indexes = range(high - 1, high - 1 - taken, -1)
            else:
                indexes = range(low, low + taken)
            return [Stored(keys[i], rows[i]) for i in indexes], taken < count

    def __iter__(self) -> Iterator[LogKind]:
        return iter(LOG_KINDS)


def read_log_directory(directory: Path) -> dict[LogKind, list[dict[str, Any]]]:
    """`DIR/logs/{signIns,directoryAudits,ual}.json` (JSON array or JSON Lines), the files
    that exist; for serving a recorded tenant's logs."""
    found: dict[LogKind, list[dict[str, Any]]] = {}
    for kind in LOG_KINDS:
        path = directory / "logs" / f"{kind}.json"
        if path.is_file():
            found[kind] = [r for r in as_object_list(_json_values(path)) if isinstance(r, dict)]
    return found


def _json_values(path: Path) -> Any:
    """A JSON document, or the values of a JSON Lines file."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {number} is not JSON ({exc.msg}); "
                                 "fix the file or leave it out") from exc
    return values
