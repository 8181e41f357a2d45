"""Words in the sentences people read: one way to count things in English, and text from
outside made safe to show."""

from __future__ import annotations

import re


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` with `noun` in the right number: "1 sign-in", "2 sign-ins", "0 recipients";
    give `many` where adding an "s" is wrong ("1 policy", "3 policies")."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {many if many is not None else noun + 's'}"


#: Characters that act on a terminal, a header or a log line instead of showing: C0 controls
#: but tab and line feed (ESC and BEL among them), DEL, C1 controls (CSI is one), and the
#: bidirectional overrides and isolates that make text read differently from what it is.
_NOT_SHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\r\n\u2028\u2029]+")


def printable(text: str, *, lines: bool = False) -> str:
    """`text` with the characters that could act instead of show removed: safe for a terminal,
    a comment, a header or a log field. Tabs stay; line breaks stay with `lines` (as line
    feeds), else each run of them becomes one space."""
    if lines:
        text = text.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    else:
        text = _LINE_BREAKS.sub(" ", text)
    return _NOT_SHOWN.sub("", text)
