"""The live source: new log records from Graph (`collect.logs`), posture from Graph and
Exchange Online (`collect.live`), through one token source kept across cycles.

The checkpoint is `collect.logs`'s own (`STATE/checkpoint.json`): it is saved only by
`commit`, at the end of a cycle. The first cycle reads `first_read` back (default one
day). A log kind that fails (throttled beyond the retry policy, refused) keeps its mark
and is named in the cycle's log line; when every kind fails the cycle fails, nothing is
committed, and the loop backs off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailwarden.collect.live import collect_tenant, open_m365
from mailwarden.collect.logs import (
    LogBatch,
    LogCheckpoint,
    LogOptions,
    collect_logs,
    load_checkpoint,
    save_checkpoint,
)
from mailwarden.errors import ServiceError
from mailwarden.m365.auth import DeviceCodePrompt, token_source_from_settings
from mailwarden.m365.http import M365Http
from mailwarden.pipeline import write_tenant_directory
from mailwarden.settings import Settings
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.watch.records import LogRecord, record_of
from mailwarden.watch.source import Pull

CHECKPOINT_FILE = "checkpoint.json"
FIRST_READ = timedelta(days=1)

#: Opens the one HTTP client of a cycle step (tests pass the in-process emulator's).
OpenHttp = Callable[[], AbstractAsyncContextManager[M365Http]]


class ApiSource:
    def __init__(self, settings: Settings, state_dir: Path, *, open_http: OpenHttp | None = None,
                 on_device_code: DeviceCodePrompt | None = None,
                 options: LogOptions | None = None, first_read: timedelta = FIRST_READ,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.checkpoint_path = state_dir / CHECKPOINT_FILE
        self.options = options
        self.first_read = first_read
        self.clock = clock
        self.description = f"tenant {settings.tenant}"
        if open_http is None:
            tokens = token_source_from_settings(settings, on_device_code=on_device_code)
            open_http = lambda: open_m365(settings, tokens)  # noqa: E731 (one token cache)
        self._open = open_http

    def pull(self) -> Pull:
        checkpoint = (load_checkpoint(self.checkpoint_path)
                      or LogCheckpoint.starting(self.clock() - self.first_read))

        async def read() -> LogBatch:
            async with self._open() as http:
                return await collect_logs(http, self.settings, checkpoint=checkpoint,
                                          until=self.clock(), options=self.options)

        batch = asyncio.run(read())
        if batch.errors and not batch.records:
            reasons = "; ".join(f"{kind}: {why}" for kind, why in sorted(batch.errors.items()))
            raise ServiceError(f"no log could be read ({reasons}); the next cycle retries "
                               "from the same checkpoint")
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
        async def read() -> RecordedTenant:
            async with self._open() as http:
                return await collect_tenant(http, self.settings)

        recorded = asyncio.run(read())
        write_tenant_directory(tenant_dir, recorded)
        return recorded
