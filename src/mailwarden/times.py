"""Times as mailwarden keeps them: aware UTC datetimes, written as ISO 8601 with a `Z`.

A time read without a zone is taken as UTC (Graph, Exchange, the log exports, DuckDB
and SQLite all hand back UTC), never as the machine's local time. This module is the
one place that reads and writes times as text:

- `iso`: the `Z` form of every document and state file (`2026-11-02T08:30:00Z`,
  microseconds when there are any; `timespec` cuts it to seconds or milliseconds for
  the wire formats that want that).
- `iso_with_offset`: the `+00:00` form that evidence values (in findings.json and
  alerts.json) and alert ids have always used; their readers and stored ids depend on it.
- `parse_time`: lenient, for input (None when unreadable); `read_time`: strict, for what
  mailwarden wrote itself (ValueError when it is not a time).

Times compare as datetimes, never as text: the same instant has several spellings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

Timespec = Literal["auto", "seconds", "milliseconds", "microseconds"]


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is UTC:  # the common case, and on the hot path of reading a tenant
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_time(text: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return as_utc(moment)


def read_time(text: str) -> datetime:
    """A timestamp mailwarden wrote (a state file, a journal) as an aware UTC datetime.
    Raises ValueError when `text` is not one (the caller says which file is damaged)."""
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    return as_utc(datetime.fromisoformat(text))


def iso(moment: datetime, *, timespec: Timespec = "auto") -> str:
    """`moment` in UTC as ISO 8601 with a `Z` (a naive datetime is taken as UTC)."""
    return as_utc(moment).isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_with_offset(moment: datetime) -> str:
    """`moment` in UTC as ISO 8601 with `+00:00` (a naive datetime is taken as UTC)."""
    return as_utc(moment).isoformat()
