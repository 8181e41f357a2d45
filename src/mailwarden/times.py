"""Times as mailwarden keeps them: aware UTC datetimes, written as ISO 8601 with a `Z`.

A time read without a zone is taken as UTC (Graph, Exchange and the log exports all
write UTC), never as the machine's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(text: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """`moment` in UTC as ISO 8601 with a `Z` (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
