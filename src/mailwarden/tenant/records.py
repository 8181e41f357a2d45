"""Shared parsing of recorded-tenant rows: a row that cannot be used becomes a
`SkippedRecord` with its reason, never a silent drop; parsed rows come in a canonical order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from itertools import groupby
from operator import attrgetter
from typing import Any, TypeVar

from mailwarden.model.inventory import SkippedRecord
from mailwarden.tenant.lenient import Record

T = TypeVar("T")


class RecordError(ValueError):
    """A record lacks what makes it usable (its reason goes into SkippedRecord)."""


def required(record: Record, *names: str) -> str:
    value = record.text(*names)
    if value is None:
        raise RecordError(f"no {names[0]}")
    return value


def canonical_order(items: list[T]) -> tuple[T, ...]:
    """`items` sorted by their repr, without computing most reprs.

    A dataclass repr starts with the repr of its first field, and reprs of strings (and
    None) are never a prefix of one another, so ordering by that field's repr gives the
    repr order wherever those differ. Only runs of equal first fields are sorted by the
    whole repr. Both sorts are stable, so the result is exactly `sorted(items, key=repr)`.
    """
    first = _first_repr_field(items)
    if first is None:
        return tuple(sorted(items, key=repr))
    keys = list(map(repr, map(attrgetter(first), items)))
    ordered = [items[i] for i in sorted(range(len(items)), key=keys.__getitem__)]
    if len(set(keys)) == len(keys):
        return tuple(ordered)
    result: list[T] = []
    for _, group in groupby(ordered, key=attrgetter(first)):
        run = list(group)
        result.extend(sorted(run, key=repr) if len(run) > 1 else run)
    return tuple(result)


#: Below this many items, checking whether the shortcut applies costs more than it saves.
_SHORTCUT_FROM = 32


def _first_repr_field(items: list[Any]) -> str | None:
    """The first field shown in the items' repr, when the shortcut above is sound for them."""
    if len(items) < _SHORTCUT_FROM:
        return None
    sample, kind = items[0], type(items[0])
    if not is_dataclass(sample) or isinstance(sample, type):
        return None
    shown = [f.name for f in fields(sample) if f.repr]
    if not shown or set(map(type, items)) != {kind}:
        return None
    name = shown[0]
    if not set(map(type, map(attrgetter(name), items))) <= {str, type(None)}:
        return None
    # A class with its own __repr__ may not start with its first field.
    if not repr(sample).startswith(f"{kind.__qualname__}({name}={getattr(sample, name)!r}"):
        return None
    return name


def parse_list(
    source: str,
    rows: Any,
    parse_one: Callable[[Record], T],
    skipped: list[SkippedRecord],
    subject: Callable[[Record], str | None] | None = None,
) -> tuple[T, ...]:
    """Parse every row; a row that cannot be used is kept in `skipped`, with the object
    `subject` says it belongs to (e.g. the mailbox of a permission row) when it still
    says, so that what depends on that object can tell it is incomplete."""
    items: list[T] = []
    for index, row in enumerate(rows or ()):
        if type(row) is not dict and not isinstance(row, Mapping):
            skipped.append(SkippedRecord(source=source, index=index, reason="not an object"))
            continue
        record = Record(row)
        try:
            items.append(parse_one(record))
        except (RecordError, ValueError, TypeError) as exc:
            sample = {k: row[k] for k in list(row)[:6]}
            skipped.append(
                SkippedRecord(
                    source=source,
                    index=index,
                    reason=str(exc),
                    sample=sample,
                    subject=_subject(subject, record),
                )
            )
    return canonical_order(items)


def _subject(subject: Callable[[Record], str | None] | None, record: Record) -> str | None:
    if subject is None:
        return None
    try:
        return subject(record)
    except (ValueError, TypeError):  # the row is already known to be malformed
        return None

