"""What the log endpoints share: Graph's query options (`$filter` on a time, `$orderby`,
`$top`, `$skiptoken`), the reports throttle, and the guard every log request passes
(token check, the emulator's conditions, a configured refusal)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from mailwarden.emulator.answers import graph_error, retry_after_text
from mailwarden.emulator.config import Service
from mailwarden.emulator.tokens import GRAPH_AUDIENCES
from mailwarden.tenant.logs import LogKind
from mailwarden.times import parse_time

if TYPE_CHECKING:  # the runtime holds this module's limiter: no import cycle at run time
    from mailwarden.emulator.runtime import Emulator

_CLAUSE = re.compile(r"^\(?\s*(?P<field>[A-Za-z]+)\s+(?P<op>eq|ge|gt|le|lt)\s+"
                     r"(?P<value>'[^']*'|[^\s()]+)\s*\)?$", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class QueryError(ValueError):
    """A query option Graph would refuse with 400; the message is Graph-like."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeWindow:
    start: datetime | None = None
    start_inclusive: bool = True
    end: datetime | None = None
    end_inclusive: bool = False


def parse_time_filter(text: str | None, field: str) -> TimeWindow:
    """`field ge X and field lt Y` (any of eq/ge/gt/le/lt) into one window."""
    if text is None or not text.strip():
        return TimeWindow()
    window: dict[str, Any] = {}
    for clause in _AND.split(text.strip()):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise QueryError(f"Invalid filter clause: '{clause.strip()}'. Supported: "
                             f"{field} with eq, ge, gt, le or lt, joined by 'and'.")
        if match["field"].lower() != field.lower():
            raise QueryError(f"Filtering on '{match['field']}' is not supported here; "
                             f"filter on {field}.")
        moment = parse_time(match["value"].strip("'"))
        if moment is None:
            raise QueryError(f"Invalid DateTimeOffset value '{match['value']}'.")
        op = match["op"].lower()
        if op in {"ge", "gt", "eq"}:
            _tighten(window, "start", moment, op != "gt", later=True)
        if op in {"le", "lt", "eq"}:
            _tighten(window, "end", moment, op != "lt", later=False)
    return TimeWindow(**window)


def _tighten(window: dict[str, Any], side: str, moment: datetime, inclusive: bool, *,
             later: bool) -> None:
    current = window.get(side)
    if current is None or (moment > current if later else moment < current) or (
            moment == current and not inclusive):
        window[side] = moment
        window[f"{side}_inclusive"] = inclusive


def parse_order(text: str | None, field: str) -> bool:
    """True for newest first (Graph's default for the logs)."""
    if text is None or not text.strip():
        return True
    parts = text.strip().split()
    if parts[0].lower() != field.lower() or len(parts) > 2 or (
            len(parts) == 2 and parts[1].lower() not in {"asc", "desc"}):
        raise QueryError(f"Ordering by '{text}' is not supported; order by {field} asc or desc.")
    return len(parts) == 2 and parts[1].lower() == "desc"


def parse_top(text: str | None, *, default: int, largest: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= largest:
        raise QueryError(f"Invalid page size specified: '{text}'. "
                         f"Must be between 1 and {largest} inclusive.")
    return int(text)


def encode_token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_token(text: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise QueryError("The $skiptoken is not valid.") from exc


def next_link(request: Request, token: Any) -> str:
    options = [(k, v) for k, v in request.query_params.items() if k != "$skiptoken"]
    options.append(("$skiptoken", encode_token(token)))
    query = "&".join(f"{k}={quote(v, safe=',$')}" for k, v in options)
    return f"{str(request.base_url).rstrip('/')}{request.url.path}?{query}"


class ReportsLimiter:
    """At most `limit` requests in any `window` seconds; the rest learn when to return."""

    def __init__(self, limit: int | None, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> float:
        """0 when a request may pass now (it is counted), else the seconds to wait."""
        if self.limit is None:
            return 0.0
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return 0.0
            return max(0.001, self._sent[0] + self.window - now)


async def guarded(request: Request, handle: Callable[[Emulator], Awaitable[Response]],
                  *, reports: bool = False) -> Response:
    """The token check, the conditions of the tenant the token was issued for, and (for
    the `reports`) their throttle; a QueryError from `handle` becomes Graph's 400."""
    from mailwarden.emulator.tenancy import tenancy_of

    emulator = tenancy_of(request.app).for_token(request.headers.get("authorization"))
    limiter = emulator.reports if reports else None
    route = request.url.path + (f"?{request.url.query}" if request.url.query else "")

    async def answer() -> Response:
        reason = emulator.tokens.check(request.headers.get("authorization"), GRAPH_AUDIENCES)
        if reason is not None:
            return graph_error(401, "InvalidAuthenticationToken", reason,
                               {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'})
        wait = 0.0 if limiter is None else limiter.wait()
        if wait > 0:
            return graph_error(429, "TooManyRequests",
                               "Too many requests; retry after the time in Retry-After.",
                               {"Retry-After": retry_after_text(wait)})
        try:
            return await handle(emulator)
        except QueryError as exc:
            return graph_error(400, "BadRequest", str(exc))

    return await emulator.conditions.guard(Service.GRAPH, route, answer)


def refused(emulator: Emulator, kind: LogKind) -> Response | None:
    """The answer configured for a failing kind (failing_sources["logs/<kind>"])."""
    status = emulator.config.failing_sources.get(f"logs/{kind}")
    if status is None:
        return None
    if status == 403:
        return graph_error(403, "Authorization_RequestDenied",
                           "Insufficient privileges to complete the operation.")
    return graph_error(status, "InternalServerError" if status >= 500 else "BadRequest",
                       "The service failed to answer this request.")
