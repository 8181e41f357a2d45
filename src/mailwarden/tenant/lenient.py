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

from mailwarden.times import as_utc

#: Marks a lookup not yet made in a record shape.
_UNSEEN: Any = object()
#: Record shape (its keys, in order) -> lookups answered for that shape: each lower-cased
#: key -> the key itself, and each tuple of names asked -> the keys that answer it.
#: Records of one source share a handful of shapes, so lower-casing every key of every
#: record (most of the time of reading a large tenant) happens once per shape.
_SHAPES: dict[tuple[Any, ...], dict[Any, Any]] = {}
#: Shapes kept at most; a source whose records all differ only refills the cache.
_MAX_SHAPES = 4096


class _Keys(tuple[Any, ...]):
    """The keys of a record answering one lookup, when there are none or several; the
    first non-null value wins. A lone key is stored as itself."""

    __slots__ = ()


def _key_map(raw: Mapping[str, Any]) -> dict[Any, Any]:
    shape = tuple(raw)
    keys = _SHAPES.get(shape)
    if keys is None:
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        # When two keys differ only in case, the later one answers (as a dict built
        # from the record in order would keep it).
        keys = {str(key).lower(): key for key in shape}
        _SHAPES[shape] = keys
    return keys


class Record:
    """Case-insensitive view of one JSON object."""

    __slots__ = ("_keys", "raw")

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self._keys = _key_map(raw)

    # Each reader below inlines the usual case: `names` answered by one string key of
    # this shape (a saved call per property read; a large tenant reads millions).

    def get(self, *names: str) -> Any:
        found = self._keys.get(names)
        return self.raw[found] if type(found) is str else self._value(names)

    def _value(self, names: tuple[str, ...]) -> Any:
        # Names tuples and lower-cased keys share the shape's map: they never compare equal.
        found = self._keys.get(names, _UNSEEN)
        if found is _UNSEEN:
            found = self._learn(names)
        if type(found) is _Keys:
            for key in found:
                value = self.raw[key]
                if value is not None:
                    return value
            return None
        return self.raw[found]

    def _learn(self, names: tuple[str, ...]) -> Any:
        keys = self._keys
        present = [key for name in names if (key := keys.get(name.lower(), _UNSEEN)) is not _UNSEEN]
        found = present[0] if len(present) == 1 else _Keys(present)
        keys[names] = found
        return found

    def text(self, *names: str) -> str | None:
        found = self._keys.get(names)
        value = self.raw[found] if type(found) is str else self._value(names)
        if type(value) is str:  # the common case, without to_text's type checks
            return value.strip() or None
        return to_text(value)

    def flag(self, *names: str) -> bool | None:
        found = self._keys.get(names)
        value = self.raw[found] if type(found) is str else self._value(names)
        if value is None or type(value) is bool:
            return value
        return to_bool(value)

    def when(self, *names: str) -> datetime | None:
        found = self._keys.get(names)
        return to_datetime(self.raw[found] if type(found) is str else self._value(names))

    def texts(self, *names: str) -> tuple[str, ...] | None:
        found = self._keys.get(names)
        return to_texts(self.raw[found] if type(found) is str else self._value(names))

    def child(self, *names: str) -> Record:
        value = self._value(names)
        return Record(value if _is_mapping(value) else {})


def _is_mapping(value: Any) -> bool:
    # JSON objects are dicts; the abstract check is the slow path for other mappings.
    return type(value) is dict or isinstance(value, Mapping)


def to_text(value: Any) -> str | None:
    if type(value) is str:
        return value.strip() or None
    if value is None:
        return None
    if _is_mapping(value):
        # Exchange sometimes serialises identities as objects; their name is the useful part.
        inner = Record(value).get("Name", "DisplayName", "Identity", "Value", "value")
        return to_text(inner) if inner is not None else None
    text = str(value).strip()
    return text or None


_TRUE = {"true", "$true", "1", "yes", "on", "enabled"}
_FALSE = {"false", "$false", "0", "no", "off", "disabled"}
_BOOL_WORDS = dict.fromkeys(_TRUE, True) | dict.fromkeys(_FALSE, False)


def to_bool(value: Any) -> bool | None:
    if value is None or type(value) is bool:
        return value
    if isinstance(value, int | float):
        return bool(value)
    return _BOOL_WORDS.get(str(value).strip().lower())


_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_SPACED_DATE = re.compile(r"^\d{4}-\d\d-\d\d \d")
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(value: Any) -> datetime | None:
    """Parse ISO 8601 (with or without zone; naive means UTC) or `/Date(ms[+zzzz])/`, as an
    aware UTC datetime."""
    if type(value) is str:
        text = value.strip()
    elif value is None:
        return None
    elif isinstance(value, datetime):
        return as_utc(value)
    elif _is_mapping(value):  # PowerShell 5's {"value": "/Date(..)/", "DateTime": ".."}
        return to_datetime(Record(value).get("value", "DateTime"))
    else:
        text = str(value).strip()
    return _parse_date_text(text) if text else None


def _parse_date_text(text: str) -> datetime | None:
    # The character tests only skip regular expressions that could not match.
    if text[0] == "/":
        match = _MS_DATE.match(text)
        if match:
            # The offset in /Date(ms+zzzz)/ is informational: the milliseconds are UTC.
            return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    if text.startswith("0001-01-01"):
        return None  # .NET's DateTime.MinValue: "never"
    iso = text
    if text[10:11] == " " and _SPACED_DATE.match(text):
        iso = text.replace(" ", "T", 1)
    try:
        # Python 3.11 reads any number of fractional digits and keeps six, as the
        # truncation below does, so a string it accepts needs no rewriting.
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        if "." not in iso:
            return None
        try:  # .NET writes 7 fractional digits; older parsers wanted at most six
            parsed = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", iso))
        except ValueError:
            return None
    return as_utc(parsed)


def to_texts(value: Any) -> tuple[str, ...] | None:
    """A list of strings from an array, a lone value, or "a, b" / "{a, b}" text."""
    if value is None:
        return None
    if type(value) is list or isinstance(value, list | tuple):
        try:
            # Arrays of strings, the usual content, in one pass of C loops.
            return tuple(filter(None, map(str.strip, value)))
        except TypeError:  # some item is not a string
            return tuple(text for item in value if (text := to_text(item)))
    if _is_mapping(value):
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
