"""Durations as people write them on a command line: 90s, 15m, 24h, 8d, 1h30m."""

from __future__ import annotations

import re
from datetime import timedelta

from mailwarden.errors import ConfigError

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str, *, what: str) -> timedelta:
    """`text` as a timedelta; ConfigError naming `what` when it is not a duration > 0."""
    cleaned = text.strip().lower()
    parts = _PART.findall(cleaned)
    if not parts or _PART.sub("", cleaned).strip():
        raise ConfigError(f"{what} {text!r} is not a duration; write it like 90s, 15m, 24h, "
                          "8d or 1h30m")
    total = timedelta()
    for amount, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total <= timedelta(0):
        raise ConfigError(f"{what} must be longer than zero (got {text!r})")
    return total
