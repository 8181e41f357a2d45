"""Rate limiting of the sign-in and custodian-link endpoints, per client address.

A sliding window in memory: the console is one process, and a limit that forgets on
restart still stops guessing (a local token or a link id has 256 bits; the limit keeps the
log and the database quiet under a scan). The clock is injected.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta


class RateLimiter:
    def __init__(self, *, limit: int, window: timedelta,
                 clock: Callable[[], datetime]) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one attempt by `key`; False when it is over the limit in the window."""
        now = self.clock()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (at least 1)."""
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return 1
            wait = self.window - (self.clock() - hits[0])
        return max(1, int(wait.total_seconds()) + 1)
