"""Lenient value readers for data shaped like PowerShell or Graph output.

Property names in any case; booleans as JSON booleans, "True"/"$false", 0/1; dates as ISO
8601 or `/Date(ms)/`; lists as arrays, lone values or comma-separated strings; enums as
names or integers. Every reader returns None for "absent", never a guessed default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any


class Record:
    """Case-insensitive view of one JSON object."""

    __slots__ = ("_lower", "raw")

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self._lower = {str(k).lower(): v for k, v in raw.items()}

    def get(self, *names: str) -> Any:
        for name in names:
            value = self._lower.get(name.lower())
            if value is not None:
                return value
        return None

    def text(self, *names: str) -> str | None:
        return to_text(self.get(*names))

    def flag(self, *names: str) -> bool | None:
        return to_bool(self.get(*names))

    def when(self, *names: str) -> datetime | None:
        return to_datetime(self.get(*names))

    def texts(self, *names: str) -> tuple[str, ...] | None:
        return to_texts(self.get(*names))

    def child(self, *names: str) -> Record:
        value = self.get(*names)
        return Record(value if isinstance(value, Mapping) else {})


def to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        # Exchange sometimes serialises identities as objects; their name is the useful part.
        inner = Record(value).get("Name", "DisplayName", "Identity", "Value", "value")
        return to_text(inner) if inner is not None else None
    text = str(value).strip()
    return text or None


_TRUE = {"true", "$true", "1", "yes", "on", "enabled"}
_FALSE = {"false", "$false", "0", "no", "off", "disabled"}


def to_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def to_datetime(value: Any) -> datetime | None:
    """Parse ISO 8601 (with or without zone; naive means UTC) or `/Date(ms[+zzzz])/`."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, Mapping):  # PowerShell 5's {"value": "/Date(..)/", "DateTime": ".."}
        return to_datetime(Record(value).get("value", "DateTime"))
    text = str(value).strip()
    if not text:
        return None
    match = _MS_DATE.match(text)
    if match:
        # The offset in /Date(ms+zzzz)/ is informational: the milliseconds are UTC.
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
    if text.startswith("0001-01-01"):
        return None  # .NET's DateTime.MinValue: "never"
    iso = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", text) else text
    iso = re.sub(r"(\.\d{6})\d+", r"\1", iso)  # .NET writes 7 fractional digits
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_texts(value: Any) -> tuple[str, ...] | None:
    """A list of strings from an array, a lone value, or "a, b" / "{a, b}" text."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        items = [to_text(v) for v in value]
        return tuple(i for i in items if i)
    if isinstance(value, Mapping):
        text = to_text(value)
        return (text,) if text else ()
    text = str(value).strip().strip("{}")
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def to_enum(value: Any, names: Mapping[int, str]) -> str | None:
    """An enum given as its name or as an integer; an unknown integer stays visible."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return names.get(value, f"Unknown({value})")
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        number = int(text)
        return names.get(number, f"Unknown({number})")
    return text or None


def to_flags(value: Any, flags: Mapping[int, str]) -> tuple[str, ...] | None:
    """A [Flags] enum given as names, a list of names or integers, or one combined integer."""
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            names.extend(_split_flags(item, flags))
        elif isinstance(item, str) and item.strip().isdigit():
            names.extend(_split_flags(int(item.strip()), flags))
        else:
            names.extend(to_texts(item) or ())
    return tuple(dict.fromkeys(names))


def _split_flags(number: int, flags: Mapping[int, str]) -> list[str]:
    if number in flags:
        return [flags[number]]
    found = [name for bit, name in flags.items() if bit and number & bit == bit]
    covered = 0
    for bit in flags:
        if number & bit == bit:
            covered |= bit
    if covered != number:
        found.append(f"Unknown({number & ~covered})")
    return found
