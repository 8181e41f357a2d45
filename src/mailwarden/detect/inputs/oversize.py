"""Records longer than the limit per record: found by streaming, never held whole.

Every record of a log file is read or counted as bad with a reason, and no record is
held in memory beyond the limit (`MAILWARDEN_MAX_RECORD_BYTES`, 16 MiB by default: a
sign-in or audit record is a few kilobytes, a Unified Audit Log record with a large
`AuditData` a few hundred).

DuckDB's JSON reader refuses a value over twice its `maximum_object_size` (which it
never sets below 16 MiB): the read fails and a more tolerant one follows, which keeps to
the limit. Its CSV reader, which also reads JSON Lines line by line here, reports a line
over `max_line_size` as a rejected row (`LINE SIZE OVER MAXIMUM`) only when the line
happens to fit its read buffers; otherwise the line is dropped without a trace, even with
`store_rejects`, and the lines after it are numbered one short (DuckDB 2.0.1;
`tests/detect/test_oversized.py` pins it). So a line-by-line read is accompanied by a scan
of the file for lines over the limit, in chunks of at most a mebibyte, and those lines are
counted as bad rows with their line number and size; DuckDB's own rejects of the same
lines are not counted again (`Engine._rejected`).

A CSV record spans lines when a quoted value holds line breaks; a long line inside such a
record is counted here, and DuckDB may also reject the record's first line (an
unterminated quote): that record is then counted twice, never lost.
"""

from __future__ import annotations

import gzip
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mailwarden.errors import InputError

#: The environment variable that sets the limit per record, in bytes.
RECORD_LIMIT_VARIABLE = "MAILWARDEN_MAX_RECORD_BYTES"
DEFAULT_RECORD_LIMIT = 16 << 20
#: Smaller limits would refuse ordinary records (and DuckDB's buffers need room).
MIN_RECORD_LIMIT = 4096
#: Long lines described one by one; all of them are counted.
KEPT = 20
SAMPLE_BYTES = 300
_CHUNK = 1 << 20


def record_limit() -> int:
    """`MAILWARDEN_MAX_RECORD_BYTES`, or 16 MiB."""
    raw = os.environ.get(RECORD_LIMIT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_RECORD_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if limit < MIN_RECORD_LIMIT:
        raise InputError(f"{RECORD_LIMIT_VARIABLE}={raw!r}: expected a number of bytes of at "
                         f"least {MIN_RECORD_LIMIT}")
    return limit


def size_text(size: int) -> str:
    """Bytes for a person, in binary units as the limit is set: '33 MiB', '1.5 KiB'."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value >= 10 or value.is_integer() \
                else f"{value:.1f} {unit}"
    return f"{size} bytes"


def too_long_reason(size: int, limit: int) -> str:
    """The bad-row reason for a record of `size` bytes (in bytes when it is close enough to
    the limit that rounding would make them look equal)."""
    shown, allowed = size_text(size), size_text(limit)
    if size < limit + limit // 20:
        shown, allowed = f"{size:,} bytes", f"{limit:,}-byte"
    return f"record of {shown} exceeds the {allowed} limit per record"


@dataclass(frozen=True, slots=True, kw_only=True)
class LongLine:
    line: int
    size: int
    head: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LongLines:
    """The lines over the limit: how many, and the first `KEPT` of them."""

    count: int = 0
    first: tuple[LongLine, ...] = ()
    #: The line number of every one (each is longer than the limit: a short list).
    numbers: tuple[int, ...] = ()
    #: Where each one starts, in bytes from the start of the (decompressed) file.
    offsets: tuple[int, ...] = ()


def find_long_lines(path: Path, compressed: bool, limit: int,
                    stop: threading.Event | None = None) -> LongLines:
    """Lines (numbered from 1; a line ends at LF) longer than `limit` bytes without their
    line end, read a chunk at a time. Chunks are never larger than `limit`, so a line that
    starts and ends inside one chunk is short enough: only lines running across chunks
    are measured, with `bytes.find`, and memory stays at one chunk. A broken gzip stream
    ends the scan (the read reports it); `stop` set ends it early."""
    chunk_size = min(_CHUNK, limit)
    numbers: list[int] = []
    offsets: list[int] = []
    first: list[LongLine] = []
    line = 1  # the number of the line being read
    start = 0  # where it starts
    length = 0  # its bytes so far
    head = b""
    read = 0  # bytes before the chunk
    for chunk in _chunks(path, compressed, chunk_size, stop):
        read += len(chunk)
        end = chunk.find(b"\n")
        if end < 0:
            if len(head) < SAMPLE_BYTES:
                head += chunk[:SAMPLE_BYTES - len(head)]
            length += len(chunk)
            continue
        if len(head) < SAMPLE_BYTES:
            head += chunk[:min(end, SAMPLE_BYTES - len(head))]
        length += end - _cr(chunk, end)
        if length > limit:
            numbers.append(line)
            offsets.append(start)
            if len(first) < KEPT:
                first.append(LongLine(line=line, size=length, head=_text(head)))
        last = chunk.rfind(b"\n")
        line += chunk.count(b"\n", end, last + 1)
        length = len(chunk) - last - 1
        start = read - length
        head = chunk[last + 1:last + 1 + SAMPLE_BYTES]
    if length > limit:
        numbers.append(line)
        offsets.append(start)
        if len(first) < KEPT:
            first.append(LongLine(line=line, size=length, head=_text(head)))
    return LongLines(count=len(numbers), first=tuple(first), numbers=tuple(numbers),
                     offsets=tuple(offsets))


def _chunks(path: Path, compressed: bool, size: int,
            stop: threading.Event | None) -> Iterator[bytes]:
    try:
        with gzip.open(path, "rb") if compressed else path.open("rb") as handle:
            while stop is None or not stop.is_set():
                chunk = handle.read(size)
                if not chunk:
                    return
                yield chunk
    except (OSError, EOFError, zlib.error):
        return


def _cr(chunk: bytes, end: int) -> int:
    """1 when the line ending at `chunk[end]` ends with CR (not counted in its size)."""
    return 1 if end > 0 and chunk[end - 1] == 0x0D else 0


def _text(head: bytes) -> str:
    text = head.decode("utf-8", errors="replace")[:SAMPLE_BYTES]
    return "".join(char for char in text if char.isprintable() or char == "\t")
