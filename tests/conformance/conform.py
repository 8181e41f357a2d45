"""Checks of JSON values and OData query options against the CSDL (see `csdl.py`).

`violations` walks an object as Graph would send it: every property must be declared on
its type (the type the path returns, or the derived type its `@odata.type` names, with
their base types), recursively into complex types and collections; values must have
the declared type, enum values must be members, and a property declared non-nullable
must not be null. OData control information (`@odata.*`, `name@odata.*`) is always
allowed.

Open types: Graph's directory objects (user, group, ...) are OpenType only so that
directory extension properties (`extension_<appId without dashes>_<name>`) can appear;
nothing else may. Open *complex* types (the audit log's auditData records, identity
sets, dictionaries) carry free-form content by design, so their undeclared members are
accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from tests.conformance.csdl import Schema, element_type

DIRECTORY_EXTENSION = re.compile(r"^extension_[0-9a-f]{32}_\w+$")
_INTEGERS = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"}
_NUMBERS = {"Edm.Double", "Edm.Single", "Edm.Decimal"}
_TEXTS = {"Edm.String", "Edm.Binary", "Edm.Date", "Edm.TimeOfDay", "Edm.Duration"}


def _annotation(key: str) -> bool:
    return key.startswith("@") or "@odata." in key


def _actual(schema: Schema, declared: str, value: Mapping[str, Any], where: str,
            found: list[str]) -> str:
    """The type an object really has: its `@odata.type` when that derives from `declared`."""
    named = value.get("@odata.type")
    if not isinstance(named, str):
        return declared
    name = named.removeprefix("#")
    if name not in schema.types or not schema.is_a(name, declared):
        found.append(f"{where}: @odata.type {named!r} is not {declared} or a type derived "
                     "from it")
        return declared
    return name


def violations(schema: Schema, type_name: str, value: Any, where: str) -> list[str]:
    """Why `value` is not a `type_name` as the CSDL declares it (empty: it is)."""
    found: list[str] = []
    _check(schema, type_name, value, where, found, nullable=True)
    return found


def _check(schema: Schema, type_name: str, value: Any, where: str, found: list[str], *,
           nullable: bool) -> None:
    inner, many = element_type(type_name)
    if value is None:
        if not nullable:
            found.append(f"{where}: null, but {type_name} is declared Nullable=\"false\"")
        return
    if many:
        if not isinstance(value, list):
            found.append(f"{where}: {type(value).__name__} where {type_name} is declared")
            return
        for index, item in enumerate(value):
            _check(schema, inner, item, f"{where}[{index}]", found, nullable=False)
        return
    if inner in schema.types:
        _object(schema, inner, value, where, found)
    elif inner in schema.enums:
        _enum(schema, inner, value, where, found)
    else:
        problem = _primitive(inner, value)
        if problem:
            found.append(f"{where}: {problem}")


def _object(schema: Schema, declared: str, value: Any, where: str, found: list[str]) -> None:
    if not isinstance(value, Mapping):
        found.append(f"{where}: {type(value).__name__} where the object {declared} is declared")
        return
    actual = _actual(schema, declared, value, where, found)
    members = schema.members(actual)
    required = schema.not_null(actual)
    item = schema.types[actual]
    for key, member in value.items():
        if _annotation(key):
            continue
        if key in members:
            _check(schema, members[key], member, f"{where}.{key}", found,
                   nullable=key not in required)
        elif schema.is_open(actual) and (not item.entity or DIRECTORY_EXTENSION.match(key)):
            continue
        else:
            found.append(f"{where}.{key}: {actual} declares no property {key!r}")


def _enum(schema: Schema, name: str, value: Any, where: str, found: list[str]) -> None:
    enum = schema.enums[name]
    if not isinstance(value, str):
        found.append(f"{where}: {value!r} is not a member name of the enum {name}")
        return
    names = [part.strip() for part in value.split(",")] if enum.flags else [value]
    for part in names:
        if part not in enum.members:
            shown = ", ".join(list(enum.members)[:12])
            more = ", ..." if len(enum.members) > 12 else ""
            found.append(f"{where}: {part!r} is not a member of the enum {name} "
                         f"({shown}{more})")


def _primitive(type_name: str, value: Any) -> str | None:
    ok: bool
    if type_name == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif type_name in _INTEGERS:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name in _NUMBERS:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif type_name == "Edm.DateTimeOffset":
        ok = isinstance(value, str) and _datetime(value)
    elif type_name == "Edm.Guid":
        ok = isinstance(value, str) and _guid(value)
    elif type_name in _TEXTS:
        ok = isinstance(value, str)
    else:  # Edm.Untyped, Edm.Stream, geography, ...
        ok = True
    return None if ok else f"{value!r} is not an {type_name}"


def _datetime(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _guid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


# -- query options --------------------------------------------------------------------

_STRING = re.compile(r"'(?:[^']|'')*'")
_KEYWORDS = frozenset({
    "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in", "has", "add", "sub", "mul",
    "div", "mod", "true", "false", "null", "asc", "desc", "any", "all",
})
_FUNCTIONS = frozenset({"startswith", "endswith", "contains", "tolower", "toupper", "length",
                        "indexof", "substring", "trim", "concat", "year", "month", "day",
                        "hour", "minute", "second", "date", "time", "now", "cast", "isof"})


def listed(text: str | None) -> list[str]:
    """The items of `$select`, `$expand` or `$orderby` (directions dropped)."""
    items = [part.strip().split(" ")[0] for part in (text or "").split(",")]
    return [item.split("(")[0] for item in items if item]


def filter_properties(expression: str | None) -> list[str]:
    """The property paths a `$filter` expression names (literals, operators, functions
    and lambda variables left out), e.g. "createdDateTime" or "signInActivity/x"."""
    if not expression:
        return []
    text = _STRING.sub(" ", expression)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?", " ", text)
    names: list[str] = []
    lambdas = set(re.findall(r"(?:any|all)\(\s*(\w+)\s*:", text))
    for token in re.findall(r"[A-Za-z_][\w/]*", text):
        head = token.split("/")[0]
        if token.lower() in _KEYWORDS or token.lower() in _FUNCTIONS or head in lambdas:
            continue
        parts = [p for p in token.split("/") if p.lower() not in {"any", "all"}]
        if parts:
            names.append("/".join(parts))
    return names


def query_properties(query: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(option, property path) for every property `$select`, `$filter`, `$orderby` or
    `$expand` names."""
    for option in ("$select", "$expand", "$orderby"):
        for item in listed(query.get(option)):
            yield option, item
    for item in filter_properties(query.get("$filter")):
        yield "$filter", item


def unknown(schema: Schema, type_name: str, paths: Iterable[str]) -> list[str]:
    """The property paths of `paths` not declared on `type_name` (see `property_path`)."""
    return [problem for path in paths
            if (problem := schema.property_path(type_name, path)) is not None]
