"""A lease in Redis: one holder at a time of a key, for a time it renews while it works.

The fleet runs one job of a tenant at a time across every worker (its jobs share the
tenant's state folder, and a tenant collected twice at once only doubles its load). A
holder that dies stops renewing, and the lease lapses `ttl` after its last renewal, so a
crashed worker never wedges its tenant for longer than that. Only the holder renews or
releases it (its token is compared in Redis, in one script).
"""

from __future__ import annotations

import uuid
from typing import Any

import redis

#: Prolong the lease if this holder still has it.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
#: Release the lease if this holder still has it.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class Lease:
    """`key` held for `ttl_ms` from each `acquire` or `renew`; `holder` says who holds
    it (shown to whoever finds it taken)."""

    def __init__(self, client: redis.Redis, key: str, *, ttl_ms: int, holder: str) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = ttl_ms
        self.holder_name = holder
        self.token = f"{holder}|{uuid.uuid4().hex}"
        self._renew: Any = client.register_script(_RENEW)
        self._release: Any = client.register_script(_RELEASE)

    def acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def renew(self) -> bool:
        """Prolong it; False when it lapsed or someone else holds it now."""
        return bool(self._renew(keys=[self.key], args=[self.token, self.ttl_ms]))

    def release(self) -> bool:
        """Let go of the lease if this holder has it (never another's)."""
        return bool(self._release(keys=[self.key], args=[self.token]))

    def holder(self) -> str | None:
        """Who holds the lease now (without their token's random part)."""
        value = self.client.get(self.key)
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else str(value)
        return text.rsplit("|", 1)[0]
