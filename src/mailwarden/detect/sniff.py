"""Recognise a log file from its content (never its name): compression, container, kind.

Only a bounded prefix is read. gzip is recognised by its magic bytes. The container is
CSV, JSON Lines, a JSON array (or a saved Graph page `{"value": [...]}`), or a stream of
pretty-printed JSON values. The kind (which normalized table the records belong to) is
decided from the CSV header or the keys of the first JSON record.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from mailwarden.detect.inputs.jsonsplit import split_elements
from mailwarden.errors import InputError

Container = Literal["csv", "jsonl", "json_array", "json_page", "json_stream"]
Kind = Literal["signins", "directory_audits", "ual"]

GZIP_MAGIC = b"\x1f\x8b"
_FIRST_READ = 1 << 20
_MAX_READ = 32 << 20
#: Elements looked at to recognise a file whose first records are too long.
_MAX_ELEMENTS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Sniffed:
    path: Path
    gzip: bool
    container: Container
    kind: Kind
    format_name: str
    #: CSV header as written (BOM removed); empty for JSON.
    header: tuple[str, ...] = ()
    delimiter: str = ","
    #: Lower-cased keys of the first record (or the CSV header, lower-cased).
    keys: frozenset[str] = frozenset()
    #: JSON Lines and arrays: lower-cased keys of every record in the first megabyte, and
    #: those whose values there were all objects (or null). A hint for a faster read,
    #: never trusted: records further on may differ.
    prefix_keys: frozenset[str] = frozenset()
    object_keys: frozenset[str] = frozenset()


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _read_prefix(path: Path, compressed: bool, size: int) -> bytes:
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as handle:
            return bytes(handle.read(size))
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the file ({exc}); check it is a complete "
                         "log export (gzip files must not be truncated)") from exc


def _looks_utf16(data: bytes) -> bool:
    """Text saved as UTF-16 without a byte-order mark: a NUL in every other byte (the high
    byte of ASCII characters), which UTF-8 text never has."""
    head = data[:512]
    if len(head) < 8:
        return False
    odd, even = head[1::2], head[0::2]
    return any(half.count(0) >= 0.9 * len(half) and other.count(0) <= 0.1 * len(other)
               for half, other in ((odd, even), (even, odd)))


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: the file is UTF-16; re-save it as UTF-8 and run again")
    if _looks_utf16(data):
        raise InputError(f"{path}: the file looks like UTF-16 without a byte-order mark; "
                         "re-save it as UTF-8 and run again")
    # A prefix may end inside a multi-byte character.
    return data.decode("utf-8-sig", errors="ignore")


def _first_json_value(text: str, start: int) -> object | None:
    decoder = json.JSONDecoder()
    index = start
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    try:
        value, _ = decoder.raw_decode(text, index)
    except json.JSONDecodeError:
        return None
    return cast(object, value)


def _keys(value: object) -> frozenset[str]:
    if isinstance(value, dict):
        return frozenset(str(key).lower() for key in value)
    return frozenset()


def classify(keys: frozenset[str]) -> tuple[Kind, str] | None:
    """Which table records with these (lower-cased) keys or columns belong to."""
    if "auditlogrecordtype" in keys:
        return "ual", "Graph audit log query records (auditLogRecord)"
    if "auditdata" in keys:
        if "operations" in keys or "userids" in keys or "resultindex" in keys:
            return "ual", "Unified Audit Log (Search-UnifiedAuditLog / Purview export)"
        return "ual", "Unified Audit Log with AuditData (Purview audit search export)"
    if "operation" in keys and ({"officeworkload", "workload", "recordtype"} & keys):
        if "officeworkload" in keys:
            return "ual", "Log Analytics OfficeActivity"
        return "ual", "Unified Audit Log records (AuditData shape)"
    signin_markers = {"resulttype", "status", "sign-in error code", "clientappused", "client app"}
    if ("userprincipalname" in keys or "username" in keys) and (signin_markers & keys) and not (
        {"activitydisplayname", "activity", "targetresources"} & keys
    ):
        if "resulttype" in keys:
            return "signins", "Log Analytics SigninLogs / AADNonInteractiveUserSignInLogs"
        if "sign-in error code" in keys or "date (utc)" in keys:
            return "signins", "Entra admin center sign-in download"
        return "signins", "Graph signIn objects"
    if "activitydisplayname" in keys or "initiatedby" in keys or "targetresources" in keys:
        if "operationname" in keys:
            return "directory_audits", "Log Analytics AuditLogs"
        return "directory_audits", "Graph directoryAudit objects"
    if "activity" in keys and ({"actoruserprincipalname", "target1objectid", "actortype"} & keys):
        return "directory_audits", "Entra admin center audit log download"
    return None


def _sniff_json(path: Path, text: str, compressed: bool) -> tuple[Container, frozenset[str]]:
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    if stripped.startswith("["):
        first = _first_json_value(text, offset + 1)
        if first is None and len(text) >= _FIRST_READ:
            bigger = _decode(path, _read_prefix(path, compressed, _MAX_READ))
            first = _first_json_value(bigger, offset + 1)
        return "json_array", _keys(first)
    first_line = stripped.split("\n", 1)[0].strip()
    try:
        first_value = json.loads(first_line)
    except json.JSONDecodeError:
        first_value = None
    if isinstance(first_value, dict):
        if isinstance(first_value.get("value"), list):
            items = first_value["value"]
            return "json_page", _keys(items[0] if items else {})
        return "jsonl", _keys(first_value)
    value = _first_json_value(text, offset)
    if value is None and len(text) >= _FIRST_READ:
        value = _first_json_value(_decode(path, _read_prefix(path, compressed, _MAX_READ)), offset)
    if isinstance(value, dict) and isinstance(value.get("value"), list):
        items = value["value"]
        return "json_page", _keys(items[0] if items else {})
    return "json_stream", _keys(value)


def _prefix_records(text: str, container: Container) -> list[dict[str, object]]:
    """The complete records at the start of a JSON Lines file or JSON array."""
    if container == "jsonl":
        lines = text.split("\n")[:-1]  # the last line may be cut off
        values = []
        for line in lines:
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return [value for value in values if isinstance(value, dict)]
    records: list[dict[str, object]] = []
    decoder = json.JSONDecoder()
    index = text.find("[") + 1
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            return records
        if isinstance(value, dict):
            records.append(value)


def _prefix_shapes(text: str, container: Container) -> tuple[frozenset[str], frozenset[str]]:
    """(keys seen, keys whose values were all objects or null) in the prefix's records."""
    if container not in ("jsonl", "json_array"):
        return frozenset(), frozenset()
    seen: set[str] = set()
    objects: set[str] = set()
    plain: set[str] = set()
    for record in _prefix_records(text, container):
        for key, value in record.items():
            name = str(key).lower()
            seen.add(name)
            if isinstance(value, dict):
                objects.add(name)
            elif value is not None:
                plain.add(name)
    return frozenset(seen), frozenset(objects - plain)


def _past_long_records(path: Path, compressed: bool,
                       container: Container) -> tuple[Container, frozenset[str]]:
    """The keys of the first record that fits in the prefix, when the file's first record
    is longer than that (a record over the limit per record is a bad row, not a reason to
    refuse the file): the elements are cut out one by one, streaming, the long ones only
    measured. The file is then read element by element."""
    for seen, element in enumerate(split_elements(path, compressed, _FIRST_READ)):
        if seen >= _MAX_ELEMENTS:
            break
        if isinstance(element, str):
            try:
                value = json.loads(element)
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(value, dict):
                return container, _keys(value)
    return container, frozenset()


def _sniff_csv(path: Path, text: str) -> tuple[tuple[str, ...], str]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (StopIteration, csv.Error) as exc:
        raise InputError(f"{path}: no CSV header row; is this a log export?") from exc
    return tuple(name.strip() for name in header), delimiter


def sniff(path: Path) -> Sniffed:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    compressed = is_gzip(path)
    text = _decode(path, _read_prefix(path, compressed, _FIRST_READ))
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    header: tuple[str, ...] = ()
    delimiter = ","
    container: Container
    if text.lstrip()[:1] in ("[", "{"):
        container, keys = _sniff_json(path, text, compressed)
        if not keys and len(text) >= _FIRST_READ and container in ("json_array", "json_stream"):
            container, keys = _past_long_records(path, compressed, container)
    else:
        container = "csv"
        header, delimiter = _sniff_csv(path, text)
        keys = frozenset(name.lower() for name in header)
    found = classify(keys)
    if found is None:
        shown = ", ".join(sorted(keys)[:12]) or "none"
        raise InputError(
            f"{path}: not a recognised sign-in, audit or Unified Audit Log export "
            f"(fields seen: {shown}); see `mailwarden detect --help` for the accepted formats"
        )
    kind, name = found
    container_name = {"csv": "CSV", "jsonl": "JSON Lines", "json_array": "JSON array",
                      "json_page": "Graph response page", "json_stream": "JSON"}[container]
    prefix_keys, object_keys = _prefix_shapes(text, container)
    return Sniffed(path=path, gzip=compressed, container=container, kind=kind,
                   format_name=f"{name}, {container_name}" + (", gzip" if compressed else ""),
                   header=header, delimiter=delimiter, keys=keys, prefix_keys=prefix_keys,
                   object_keys=object_keys)
