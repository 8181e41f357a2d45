"""Words in the sentences people read: one way to count things in English."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` with `noun` in the right number: "1 sign-in", "2 sign-ins", "0 recipients";
    give `many` where adding an "s" is wrong ("1 policy", "3 policies")."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many if many is not None else noun + 's'}"
