"""The watcher's own bookkeeping: `STATE/watch-state.json` (0600, replaced atomically).

It holds when the posture was last collected, whether the log window has ever dropped
old days (from then on an alert that starts at the window's edge may be a cut-off view of
one already raised), a count of completed cycles, and whether the user was told of the
folder's run history from an earlier version (`LEGACY_HISTORY`), and the last run it
stored with the fingerprint of its content and the database it went to (`StoredRun`), so
a cycle that finds nothing changed stores no copy. Nothing in it is needed for
correctness after a crash: the checkpoint, the window and the outbox carry that (a lost
fingerprint only means one more run is stored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from mailwarden.schemas import WATCH_STATE_SCHEMA
from mailwarden.times import iso, read_time
from mailwarden.watch.files import read_state_json, write_atomic_json

FILE_NAME = "watch-state.json"
#: Where versions before stored the watcher's runs, apart from every other command's.
LEGACY_HISTORY = "history.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRun:
    """The last run a cycle stored: its id, what its content hashed to, and the database."""

    run_id: int
    fingerprint: str
    database: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchState:
    posture_at: datetime | None = None
    window_truncated: bool = False
    cycles: int = 0
    legacy_history_told: bool = False
    last_run: StoredRun | None = None

    def with_posture(self, at: datetime) -> WatchState:
        return replace(self, posture_at=at)


def load_state(state_dir: Path) -> WatchState:
    data = read_state_json(state_dir / FILE_NAME, WATCH_STATE_SCHEMA, "watch state")
    if data is None:
        return WatchState()
    posture = data.get("posture_at")
    return WatchState(posture_at=read_time(posture) if posture else None,
                      window_truncated=bool(data.get("window_truncated")),
                      cycles=int(data.get("cycles") or 0),
                      legacy_history_told=bool(data.get("legacy_history_told")),
                      last_run=_stored_run(data.get("last_run")))


def _stored_run(value: object) -> StoredRun | None:
    if not isinstance(value, dict):
        return None
    run_id, fingerprint, database = (value.get(k) for k in ("run_id", "fingerprint",
                                                             "database"))
    if not (isinstance(run_id, int) and isinstance(fingerprint, str)
            and isinstance(database, str)):
        return None  # unreadable: the next cycle stores its run, as with none
    return StoredRun(run_id=run_id, fingerprint=fingerprint, database=database)


def save_state(state_dir: Path, state: WatchState) -> None:
    posture = iso(state.posture_at) if state.posture_at else None
    write_atomic_json(state_dir / FILE_NAME, {
        "schema": WATCH_STATE_SCHEMA, "posture_at": posture,
        "window_truncated": state.window_truncated, "cycles": state.cycles,
        "legacy_history_told": state.legacy_history_told,
        "last_run": asdict(state.last_run) if state.last_run else None})


def legacy_history(state_dir: Path) -> Path | None:
    """The folder's own run history from an earlier version, when it holds one."""
    path = state_dir / LEGACY_HISTORY
    return path if path.is_file() else None
