"""The live source: new log records from Graph (`collect.logs`), posture from Graph and
Exchange Online (`collect.live`), through the watcher's one session (`m365.session`): one
event loop, token source and HTTP client kept across cycles.

The checkpoint is `collect.logs`'s own (`STATE/checkpoint.json`): it is saved only by
`commit`, at the end of a cycle. The first cycle reads `first_read` back (default one
day). A log kind that fails (throttled beyond the retry policy, refused) keeps its mark
and is named in the cycle's log line; when every kind fails the cycle fails, nothing is
committed, and the loop backs off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailwarden.collect.live import collect_tenant
from mailwarden.collect.logs import (
    LogCheckpoint,
    LogOptions,
    collect_logs,
    load_checkpoint,
    save_checkpoint,
)
from mailwarden.errors import RetriesExhaustedError, ServiceError
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import write_tenant_directory
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.watch.records import LogRecord, record_of
from mailwarden.watch.source import Pull

CHECKPOINT_FILE = "checkpoint.json"
FIRST_READ = timedelta(days=1)


class ApiSource:
    """Reads the tenant through `session`, which the caller opens for the whole watch and
    closes after it."""

    def __init__(self, session: M365Session, state_dir: Path, *,
                 options: LogOptions | None = None, first_read: timedelta = FIRST_READ,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.session = session
        self.settings = session.settings
        self.checkpoint_path = state_dir / CHECKPOINT_FILE
        self.options = options
        self.first_read = first_read
        self.clock = clock
        self.description = f"tenant {self.settings.tenant}"

    def pull(self) -> Pull:
        checkpoint = (load_checkpoint(self.checkpoint_path)
                      or LogCheckpoint.starting(self.clock() - self.first_read))
        until = self.clock()
        batch = self.session.run(
            lambda http: collect_logs(http, self.settings, checkpoint=checkpoint, until=until,
                                      options=self.options))
        if batch.errors and not batch.records:
            reasons = "; ".join(f"{kind}: {why}" for kind, why in sorted(batch.errors.items()))
            message = (f"no log could be read ({reasons}); the next cycle retries from the "
                       "same checkpoint")
            if set(batch.errors) <= batch.transient:  # throttled or failing, not refused
                raise RetriesExhaustedError(message, service="graph")
            raise ServiceError(message)
        records: list[LogRecord] = []
        unreadable = 0
        for kind, rows in batch.records.items():
            for row in rows:
                record = record_of(kind, row)
                if record is None:
                    unreadable += 1
                else:
                    records.append(record)
        notes = tuple(f"{kind} not read: {why}" for kind, why in sorted(batch.errors.items()))
        return Pull(records=tuple(records), checkpoint=batch.checkpoint, unreadable=unreadable,
                    notes=notes)

    def commit(self, pull: Pull) -> None:
        save_checkpoint(self.checkpoint_path, pull.checkpoint)

    def collect_posture(self, tenant_dir: Path) -> RecordedTenant:
        recorded = self.session.run(lambda http: collect_tenant(http, self.settings))
        write_tenant_directory(tenant_dir, recorded)
        return recorded
