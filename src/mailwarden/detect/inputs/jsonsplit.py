"""Recover the elements of a malformed JSON array (or stream of JSON values).

DuckDB reads well-formed arrays itself; when one element is broken it refuses the whole
file. This splitter then cuts the document into its top-level elements without parsing
them, streaming, and writes one element per line, so the line reader can keep the good
ones and report the bad ones by element number. Memory is bounded by the limit per
record: an element longer than that is not kept but measured, and written as a blank line
(so the lines after it keep their numbers); `write_lines` returns where it was and how long.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mailwarden.detect.inputs.oversize import SAMPLE_BYTES, LongLine

_INTERESTING = re.compile(r'["\\\[\]{},]')
_CHUNK = 1 << 20


def _chunks(path: Path, compressed: bool) -> Iterator[str]:
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


@dataclass(frozen=True, slots=True)
class Oversized:
    """An element longer than the limit: its length in characters and its first ones."""

    size: int
    head: str


class _Element:
    """The text of the element being cut out, kept only while within the limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.head = ""

    def add(self, text: str) -> None:
        if not text:
            return
        if self.size == 0:
            stripped = text.lstrip()
            if not stripped:
                return  # whitespace between elements is not part of one
            text = stripped
        if len(self.head) < SAMPLE_BYTES:
            self.head += text[:SAMPLE_BYTES - len(self.head)]
        self.size += len(text)
        if self.size > self.limit:
            self.parts = []
        else:
            self.parts.append(text)

    def take(self) -> Iterator[str | Oversized]:
        if self.size > self.limit:
            yield Oversized(self.size, self.head)
        else:
            yield from _flush(self.parts)
        self.parts, self.size, self.head = [], 0, ""


def split_elements(path: Path, compressed: bool,
                   limit: int = 16 << 20) -> Iterator[str | Oversized]:
    """Top-level elements of an array, or top-level values of a stream, as raw text; an
    element over `limit` characters as its size and head only."""
    depth = 0
    in_string = False
    # Where the character a backslash escapes is (offset in the file's text): only that
    # one is escaped, whether or not it is one the pattern stops at (`\u001f`, `\n`).
    escaped_at = -1
    offset = 0
    element = _Element(limit)
    array_mode: bool | None = None
    for chunk in _chunks(path, compressed):
        start = 0
        for match in _INTERESTING.finditer(chunk):
            char = match.group()
            position = match.start()
            if in_string:
                if offset + position == escaped_at:
                    pass
                elif char == "\\":
                    escaped_at = offset + position + 1
                elif char == '"':
                    in_string = False
                continue
            if array_mode is None:
                array_mode = char == "["
                if array_mode:
                    depth = 1
                    start = position + 1
                    continue
            base = 1 if array_mode else 0
            if char == '"':
                in_string = True
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
                if depth < base:  # the closing bracket of the outer array
                    element.add(chunk[start:position])
                    start = position + 1
                    yield from element.take()
                    depth = base
                elif depth == base and not array_mode:
                    element.add(chunk[start:position + 1])
                    start = position + 1
                    yield from element.take()
            elif char == "," and depth == base:
                element.add(chunk[start:position])
                start = position + 1
                yield from element.take()
        element.add(chunk[start:])
        offset += len(chunk)
    yield from element.take()


def _flush(parts: list[str]) -> Iterator[str]:
    text = "".join(parts).strip()
    if text:
        yield text


@dataclass(frozen=True, slots=True)
class Written:
    """How many elements were written, and those over the limit (written as blank lines)."""

    count: int
    oversized: tuple[LongLine, ...]
    oversized_count: int


def write_lines(path: Path, compressed: bool, out: IO[str], *, limit: int = 16 << 20,
                kept: int = 20) -> Written:
    """Write each element on one line (compact when it parses). An element over `limit`
    (characters as cut out, or UTF-8 bytes as written) is a blank line; the first `kept`
    of those are returned with their line number, all are counted."""
    count = 0
    oversized: list[LongLine] = []
    oversized_count = 0
    for element in split_elements(path, compressed, limit):
        count += 1
        if isinstance(element, Oversized):
            size, head, line = element.size, element.head, ""
        else:
            try:
                # ASCII: a string holding a lone surrogate (valid JSON) stays writable.
                line = json.dumps(json.loads(element), separators=(",", ":"))
            except (json.JSONDecodeError, RecursionError):
                line = " ".join(element.split())  # kept, so it is reported as a bad row
            size = len(line.encode("utf-8", errors="replace"))
            head = line[:SAMPLE_BYTES]
        if size > limit:
            line = ""
            oversized_count += 1
            if len(oversized) < kept:
                oversized.append(LongLine(line=count, size=size, head=head))
        out.write(line)
        out.write("\n")
    return Written(count=count, oversized=tuple(oversized), oversized_count=oversized_count)
