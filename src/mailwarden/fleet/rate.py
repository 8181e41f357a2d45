"""Each tenant's request rate budget, shared in Redis by every worker of a fleet.

The same budget as one run keeps in memory (`mailwarden.m365.pacing`: GCRA over `full_at`,
each request counted from its send until its answer), kept for each tenant and service
in one Redis hash, `mailwarden:fleet:rate:<tenant>:<service>`:

- `full_at`: when the bucket is full again if nothing more is sent, in microseconds of
  the Redis server's clock (`TIME`), so that the workers' own clocks do not matter;
- one field per request in flight, `h:<holder>` = "<weight> <lease end>".

`take` (a Lua script, atomic) either takes a request's weight and records it in flight,
or answers how long to wait and changes nothing; `give_back` (another) counts the
answered request up to now and forgets it. A worker that dies with requests in flight
leaves them counted until their lease ends (`lease_ms`, the workers' `--dead-after`), not
for as long as the tenant stays busy. The key expires once the bucket is full again and
no lease runs, so an idle tenant leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

import redis

from mailwarden.m365.pacing import RateBudget

#: Redis keys of the budgets: one hash per tenant and service under this prefix.
RATE_PREFIX = "mailwarden:fleet:rate"

#: The bucket as it stands: lapsed leases dropped, the weight in flight summed, and the
#: last lease of the other holders than ARGV[1].
_STATE = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[3])
local full_at, in_flight, leased = 0, 0, now
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local name, value = fields[i], fields[i + 1]
  if name == 'full_at' then
    full_at = tonumber(value)
  else
    local weight, ends = string.match(value, '^(%d+) (%d+)$')
    if weight == nil or tonumber(ends) <= now then
      redis.call('HDEL', KEYS[1], name)
    else
      in_flight = in_flight + tonumber(weight)
      if name ~= 'h:' .. ARGV[1] then leased = math.max(leased, tonumber(ends)) end
    end
  end
end
local function keep(until_)
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((until_ - now) / 1000)))
end
"""
#: ARGV: holder, weight, interval (µs per request), burst, lease (µs).
#: Returns {1, 0, 0} when the weight was taken, else {0, µs to wait, 1 when only answers
#: to requests in flight can shorten the wait}.
_TAKE = _STATE + """
local weight, burst, lease = tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5])
local short = (math.min(weight, burst) - burst) * interval
if full_at + short - now > 0 then return {0, math.ceil(full_at + short - now), 0} end
if in_flight * interval + short > 0 then
  return {0, math.ceil(in_flight * interval + short), 1}
end
local start = math.max(full_at, now + in_flight * interval)
full_at = math.ceil(start + weight * interval)
redis.call('HSET', KEYS[1], 'full_at', string.format('%.0f', full_at),
           'h:' .. ARGV[1], string.format('%.0f %.0f', weight, now + lease))
keep(math.max(full_at, leased, now + lease))
return {1, 0, 0}
"""
#: ARGV: holder, weight, interval. A holder whose lease lapsed still counts up to now.
_GIVE_BACK = _STATE + """
local name = 'h:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], name) == 0 then
  in_flight = in_flight + tonumber(ARGV[2])
end
full_at = math.max(full_at, math.ceil(now + in_flight * interval))
redis.call('HDEL', KEYS[1], name)
redis.call('HSET', KEYS[1], 'full_at', string.format('%.0f', full_at))
keep(math.max(full_at, leased))
return 1
"""


class SharedRateBudgets:
    """The tenants' budgets in Redis; `lease_ms`: how long a request counts as in flight
    at most when its worker never gives it back."""

    def __init__(self, client: redis.Redis, *, key_prefix: str = RATE_PREFIX,
                 lease_ms: int = 15 * 60 * 1000) -> None:
        self.key_prefix = key_prefix
        self.lease_ms = lease_ms
        self._take: Any = client.register_script(_TAKE)
        self._give_back: Any = client.register_script(_GIVE_BACK)

    def key(self, tenant_id: str, service: str) -> str:
        return f"{self.key_prefix}:{tenant_id.lower()}:{service}"

    def take(self, tenant_id: str, service: str, budget: RateBudget, weight: int,
             holder: str) -> tuple[float, bool]:
        """(0.0, False) when `weight` was taken, in flight under `holder` until given back;
        else (the seconds to wait before asking again, whether answers to requests in
        flight may end the wait sooner), nothing taken."""
        taken, wait, answers = self._take(keys=[self.key(tenant_id, service)], args=[
            holder, weight, repr(budget.interval * 1e6), budget.burst, self.lease_ms * 1000])
        if int(taken):
            return 0.0, False
        return max(int(wait), 1) / 1e6, bool(int(answers))

    def give_back(self, tenant_id: str, service: str, budget: RateBudget, weight: int,
                  holder: str) -> None:
        """The request `holder` took was answered (or failed)."""
        self._give_back(keys=[self.key(tenant_id, service)],
                        args=[holder, weight, repr(budget.interval * 1e6)])
