"""Recover the elements of a malformed JSON array (or stream of JSON values).

DuckDB reads well-formed arrays itself; when one element is broken it refuses the whole
file. This splitter then cuts the document into its top-level elements without parsing
them, streaming, and writes one element per line, so the line reader can keep the good
ones and report the bad ones by element number. Memory is bounded by the largest element.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_INTERESTING = re.compile(r'["\\\[\]{},]')
_CHUNK = 1 << 20


def _chunks(path: Path, compressed: bool) -> Iterator[str]:
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def split_elements(path: Path, compressed: bool) -> Iterator[str]:
    """Top-level elements of an array, or top-level values of a stream, as raw text."""
    depth = 0
    in_string = False
    escaped = False
    element: list[str] = []
    array_mode: bool | None = None
    for chunk in _chunks(path, compressed):
        start = 0
        for match in _INTERESTING.finditer(chunk):
            char = match.group()
            position = match.start()
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
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
                    element.append(chunk[start:position])
                    start = position + 1
                    yield from _flush(element)
                    element = []
                    depth = base
                elif depth == base and not array_mode:
                    element.append(chunk[start:position + 1])
                    start = position + 1
                    yield from _flush(element)
                    element = []
            elif char == "," and depth == base:
                element.append(chunk[start:position])
                start = position + 1
                yield from _flush(element)
                element = []
        element.append(chunk[start:])
    yield from _flush(element)


def _flush(parts: list[str]) -> Iterator[str]:
    text = "".join(parts).strip()
    if text:
        yield text


def write_lines(path: Path, compressed: bool, out: IO[str]) -> int:
    """Write each element on one line (compact when it parses); return how many."""
    count = 0
    for element in split_elements(path, compressed):
        try:
            line = json.dumps(json.loads(element), ensure_ascii=False, separators=(",", ":"))
        except json.JSONDecodeError:
            line = " ".join(element.split())  # kept, so it is reported as a bad row
        out.write(line)
        out.write("\n")
        count += 1
    return count
