"""Phrases the alert summaries are written with.

A rule's summary is a template over its facts; a rule whose sentence depends on the
numbers (one sign-in, two sign-ins) or leaves out what is not there (no address, no
recipient) also has a wording function that turns the facts into those phrases, after
the query, so that the SQL returns values and never English.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Items of a list a summary names before it says how many more there are.
LIST_SHOWN = 5


def listing(items: Sequence[str]) -> str:
    """`a, b, c, d, e and 2 more`; `none` for no items."""
    if not items:
        return "none"
    extra = len(items) - LIST_SHOWN
    return ", ".join(items[:LIST_SHOWN]) + (f" and {extra} more" if extra > 0 else "")


def joined(items: Sequence[str]) -> str:
    """Every item, the last after "and": `a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def from_addresses(addresses: Sequence[str]) -> str:
    """` from 203.0.113.5, 203.0.113.6`, or nothing when no address is known."""
    return f" from {listing(addresses)}" if addresses else ""


def in_brackets(items: Sequence[str] | None) -> str:
    """` (a, b)`, or nothing when there are none."""
    return f" ({listing(items)})" if items else ""


def actor_or_someone(actor: str | None) -> str:
    """Who did it, at the start of a sentence, when the log may not say."""
    return actor or "Someone"
