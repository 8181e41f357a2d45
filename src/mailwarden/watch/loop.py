"""The watch loop: a cycle every `interval`, backing off while the service throttles.

A cycle that fails because Graph or Exchange throttled it (or failed in a way a retry
can cure) commits nothing; the loop writes its log line and waits longer each time
(double the interval per failure in a row, at most `MAX_BACKOFF` beyond it), and the
next cycle picks up from the same checkpoint. Errors a person must fix (sign-in refused,
settings, unreadable state, the database) end the loop.

The loop holds the state folder from start to end, sleeps included, so a second watcher
started on it is refused at once (`StateInUseError`), not between two cycles of the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mailwarden.errors import AuthError, PermissionDeniedError, ServiceError
from mailwarden.notify.dispatch import SendFunction
from mailwarden.statelock import hold_folder
from mailwarden.watch.cycle import STATE_DIR_HINT, PhaseHook, WatchConfig, run_cycle
from mailwarden.watch.report import failure_line, log_line
from mailwarden.watch.source import TenantSource

MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopOptions:
    interval: timedelta = timedelta(minutes=15)
    once: bool = False
    max_cycles: int | None = None  # stop after this many attempted cycles (None: never)


def retryable(error: BaseException) -> bool:
    """Throttling and transient service failures: the next cycle may succeed."""
    return (isinstance(error, ServiceError)
            and not isinstance(error, AuthError | PermissionDeniedError))


def backoff(interval: timedelta, failures: int) -> timedelta:
    """How long to wait after `failures` failed cycles in a row."""
    if failures <= 0:
        return interval
    longer: timedelta = interval * (2 ** failures)
    return min(longer, interval + MAX_BACKOFF)


def watch_loop(config: WatchConfig, source: TenantSource, send: SendFunction, *,
               options: LoopOptions, log: Callable[[str], None],
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC),
               on_phase: PhaseHook | None = None) -> int:
    """Run cycles until `once`/`max_cycles` says stop; returns the cycles that succeeded.
    With `once`, a failed cycle raises its error (cron sees the exit code)."""
    with hold_folder(config.state_dir, hint=STATE_DIR_HINT):
        return _loop(config, source, send, options=options, log=log, sleep=sleep,
                     clock=clock, on_phase=on_phase)


def _loop(config: WatchConfig, source: TenantSource, send: SendFunction, *,
          options: LoopOptions, log: Callable[[str], None], sleep: Callable[[float], None],
          clock: Callable[[], datetime], on_phase: PhaseHook | None) -> int:
    failures = 0
    attempts = 0
    succeeded = 0
    while True:
        started = clock()
        attempts += 1
        try:
            report = run_cycle(config, source, send, clock=clock, on_phase=on_phase)
        except Exception as exc:
            if options.once or not retryable(exc):
                log(failure_line(started=started, source=source.description, error=exc,
                                 retry_in=None))
                raise
            failures += 1
            wait = backoff(options.interval, failures)
            log(failure_line(started=started, source=source.description, error=exc,
                             retry_in=wait.total_seconds()))
        else:
            failures = 0
            succeeded += 1
            log(log_line(report.as_dict()))
            elapsed = clock() - started
            wait = max(options.interval - elapsed, timedelta(0))
        if options.once or (options.max_cycles is not None and attempts >= options.max_cycles):
            return succeeded
        sleep(wait.total_seconds())
