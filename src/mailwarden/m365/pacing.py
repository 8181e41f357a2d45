"""A request rate budget for one service of one tenant: `rate` requests a second on
average, `burst` at once after a quiet spell, a `$batch` counting each of its parts.

Why parts: Microsoft Graph evaluates each request of a JSON batch on its own against its
throttling limits ("Throttling and batching", learn.microsoft.com/graph/throttling), and
the Exchange admin API's `$batch` is read the same way (the emulator throttles each of its
sub-requests). So a request weighs the number of parts of its `$batch`, else 1
(`request_weight`).

What is counted is what the service may count. A service takes a request's tokens at
some moment between its send and its answer, not necessarily at the send: a batch's parts
may be counted after it queued, a request sent first may be counted after one sent later.
So a request counts as taken when sent and as *in flight* until answered, and while it is
in flight it is reckoned as if the service might count it at any moment (a window of the
service's bucket that starts at its answer still holds it). With that, a service whose
bucket has the same rate and burst never refuses a request, whatever the delays on the
way; the same "count from the answer" rule as the reports pacer of `collect.logs`.

The arithmetic is GCRA (the generic cell rate algorithm) over one number, `full_at`: when
the bucket is full again if nothing more is sent. A request of weight w may go at `now`
when `max(full_at, now + in_flight / rate) + w / rate - burst / rate <= now`, which then
moves `full_at` on by w / rate; its answer moves `full_at` to at least
`now + in_flight / rate` (in flight counted up to the answer), and takes its weight off
what is in flight. One consequence: at most `burst` is in flight at once. A request
heavier than the burst (a 20-part batch under a burst of 10) goes alone into a full
bucket and is charged in full, so the requests after it wait for what it overdrew.

`take` and `give_back` are pure functions of the state; `LocalBudget` keeps one run's
state; `mailwarden.fleet.rate` keeps the same state in Redis for every worker of a fleet.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: A wait shorter than this is no wait (float rounding after a sleep of the exact wait).
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class RateBudget:
    rate: float  # requests per second, each `$batch` part one
    burst: int  # requests at once after a quiet spell

    def __post_init__(self) -> None:
        if not self.rate > 0 or self.burst < 1:
            raise ValueError("a rate budget needs a positive rate and a burst of 1 or more")

    @property
    def interval(self) -> float:
        """Seconds one request's token takes to come back."""
        return 1.0 / self.rate


def rate_budget(rate: float | None, burst: int | None) -> RateBudget | None:
    """The budget of a service's settings: none without a rate; a burst not given is one
    second's worth of requests."""
    if rate is None:
        return None
    return RateBudget(rate=rate, burst=burst if burst is not None else max(1, math.ceil(rate)))


def request_weight(method: str, url: str, json_body: Any) -> int:
    """What a request costs the budget: the parts of a `$batch` POST, else 1."""
    if method.upper() != "POST" or not urlsplit(url).path.endswith("$batch"):
        return 1
    parts = json_body.get("requests") if isinstance(json_body, Mapping) else None
    return max(1, len(parts)) if isinstance(parts, list) else 1


@dataclass(frozen=True, slots=True)
class BucketState:
    #: When the bucket is full again if nothing more is sent (-inf: full).
    full_at: float = -math.inf
    #: The weight sent and not yet answered.
    in_flight: int = 0


def take(state: BucketState, budget: RateBudget, now: float,
         weight: int) -> tuple[BucketState, float]:
    """(the state with `weight` taken, 0.0) when the request may go at `now`; else (the
    state unchanged, seconds to wait before asking again, assuming nothing in flight is
    answered meanwhile)."""
    start = max(state.full_at, now + state.in_flight * budget.interval)
    needed = min(weight, budget.burst)
    wait = start + (needed - budget.burst) * budget.interval - now
    if wait > _EPSILON:
        return state, wait
    return BucketState(full_at=start + weight * budget.interval,
                       in_flight=state.in_flight + weight), 0.0


def give_back(state: BucketState, budget: RateBudget, now: float, weight: int) -> BucketState:
    """The state once a request of `weight` was answered (or failed) at `now`."""
    full_at = max(state.full_at, now + state.in_flight * budget.interval)
    return BucketState(full_at=full_at, in_flight=max(0, state.in_flight - weight))


class LocalBudget:
    """One run's budget for one service. Requests take their turn in order (a `$batch`
    waiting for its parts' tokens is not passed by single requests); `take` waits until
    the request may go, `give_back` is called when it was answered or failed."""

    def __init__(self, budget: RateBudget, *, clock: Callable[[], float],
                 sleep: Callable[[float], Any]) -> None:
        self.budget = budget
        self.state = BucketState()
        self._clock = clock
        self._sleep = sleep
        self._turn = asyncio.Lock()
        self._answered = asyncio.Event()
        self.waited = 0  # times a request waited for the budget

    async def take(self, weight: int) -> None:
        async with self._turn:
            while True:
                now = self._clock()
                self.state, wait = take(self.state, self.budget, now, weight)
                if wait == 0.0:
                    return
                self.waited += 1
                alone = take(BucketState(full_at=self.state.full_at), self.budget, now,
                             weight)[1]
                if alone > 0.0:  # the time it takes tokens to come back
                    await self._sleep(alone)
                else:  # only what is in flight holds it: its answers free the way
                    self._answered.clear()
                    await self._answered.wait()

    def give_back(self, weight: int) -> None:
        self.state = give_back(self.state, self.budget, self._clock(), weight)
        self._answered.set()
