"""Field accessors: how a mapping names a source field, for CSV columns and JSON keys alike.

A mapping asks for a field by its candidate names (`text("UserPrincipalName",
"Username")`) and gets back a SQL expression. For CSV the header decides which columns
exist (matched case-insensitively); for JSON every candidate is looked up in several
casings, all in one `json_extract_string(doc, [paths])` call so each record is parsed
once. Names are constants of this package, never data: the SQL built here holds no
values read from a file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


def sql_string(text: str) -> str:
    """A SQL string literal for a constant of this package."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """A SQL identifier for a field name of this package (may hold spaces, dashes)."""
    return '"' + name.replace('"', '""') + '"'


def coalesce(parts: list[str]) -> str:
    """The first non-NULL of several SQL expressions."""
    if not parts:
        return "NULL::VARCHAR"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


class Accessor(Protocol):
    is_csv: bool

    def text(self, *names: str) -> str:
        """The first non-empty candidate field, as trimmed VARCHAR (NULL when none)."""

    def has(self, name: str) -> bool:
        """Whether the field can exist in this source (CSV: is in the header)."""

    def inner(self, names: tuple[str, ...], path: str) -> str:
        """A value inside the first non-empty candidate field, which holds JSON (an object,
        or a string holding JSON); `path` is a JSON path such as '$.errorCode'."""


def nested(value_sql: str, path: str) -> str:
    """A value inside a field that holds JSON (an object, or a string holding JSON)."""
    return f"mw_jget({value_sql}, {sql_string(path)})"


class CsvAccessor:
    is_csv = True

    def __init__(self, header: Iterable[str], prefix: str = "c"):
        self._index: dict[str, int] = {}
        for position, name in enumerate(header):
            self._index.setdefault(name.strip().lower(), position)
        self._prefix = prefix

    def column(self, name: str) -> str | None:
        position = self._index.get(name.lower())
        return None if position is None else f"{self._prefix}{position}"

    def has(self, name: str) -> bool:
        return name.lower() in self._index

    def text(self, *names: str) -> str:
        columns = [column for column in (self.column(name) for name in names) if column]
        return coalesce([f"mw_null({column})" for column in columns])

    def inner(self, names: tuple[str, ...], path: str) -> str:
        return nested(self.text(*names), path)


def _variants(name: str) -> list[str]:
    found: list[str] = []
    for variant in (name, name[:1].upper() + name[1:], name[:1].lower() + name[1:], name.lower()):
        if variant not in found:
            found.append(variant)
    return found


class JsonAccessor:
    """Fields of a JSON document, extracted in one pass into the list column `alias`."""

    is_csv = False

    def __init__(self, alias: str):
        self.alias = alias
        self.paths: list[str] = []

    def has(self, name: str) -> bool:
        return True

    def _slot(self, key: str) -> str:
        path = '$."' + key.replace('"', '\\"') + '"'
        if path not in self.paths:
            self.paths.append(path)
        return f"{self.alias}[{self.paths.index(path) + 1}]"

    def text(self, *names: str) -> str:
        slots: list[str] = []
        for name in names:
            slots.extend(self._slot(variant) for variant in _variants(name))
        return coalesce([f"mw_null({slot})" for slot in slots])

    def inner(self, names: tuple[str, ...], path: str) -> str:
        return nested(self.text(*names), path)

    def extraction(self, document_sql: str) -> str:
        """The projection that fills `alias`; add it after every field was asked for."""
        if not self.paths:
            return f"NULL::VARCHAR[] AS {self.alias}"
        paths = ", ".join(sql_string(path) for path in self.paths)
        return (f"CASE WHEN json_valid({document_sql}) THEN "
                f"json_extract_string({document_sql}, [{paths}]) END AS {self.alias}")


class LayeredAccessor:
    """A record whose details sit in an inner JSON document (the UAL's AuditData):
    the inner document is asked first, the outer record second."""

    def __init__(self, details: JsonAccessor, outer: Accessor):
        self.details = details
        self.outer = outer
        self.is_csv = outer.is_csv

    def has(self, name: str) -> bool:
        return True

    def text(self, *names: str) -> str:
        return coalesce([self.details.text(*names), self.outer.text(*names)])

    def inner(self, names: tuple[str, ...], path: str) -> str:
        return nested(self.text(*names), path)
