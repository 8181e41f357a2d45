"""Fields that DuckDB's JSON reader projects itself: the fast way to read JSON records.

`read_json(..., columns={...})` parses each record once and fills one column per field
asked for, which is far cheaper than extracting dozens of paths from each record's text.
Keys are matched in any case (`case_insensitive_keys`); a record holding one key in two
casings makes the read fail, and the file is then read the tolerant way. A value that is
an object or an array arrives as its JSON text and a string as itself, exactly what
`json_extract_string` gives, so the mappings work unchanged.

Knowing the first records of a file (`Sniffed.prefix_keys`, `object_keys`) makes the read
cheaper still: a candidate field absent from them is not mapped at all, only checked to
stay empty (`recheck`), and an object field the mapping reads members of (a sign-in's
`status`) is read as a STRUCT of just those members instead of as text to parse again.
A record that breaks either assumption fails the read or is marked for a recheck, and
the file is read again without them.
"""

from __future__ import annotations

import re

from mailwarden.detect.inputs.access import coalesce, nested, quote_identifier, sql_string

_MEMBER_PATH = re.compile(r"\$\.([A-Za-z0-9_]+)")
#: Stands in for an object field where a mapping only asks whether it holds a plain value:
#: valid JSON, not empty, and no word a mapping looks for.
_OBJECT_STAND_IN = "'{}'"


class FieldAccessor:
    is_csv = False

    def __init__(self, *, present: frozenset[str] | None = None,
                 objects: frozenset[str] = frozenset()):
        """`present`: lower-case keys that may hold values (None: any); `objects`: keys
        read as a STRUCT of the members asked for (each must also be present)."""
        self.fields: list[str] = []
        self._present = present
        self._objects = objects
        self._members: dict[str, list[str]] = {}
        #: An object field was asked for together with another present candidate: its
        #: text is not at hand, so this accessor cannot map the record.
        self.conflict = False

    def has(self, name: str) -> bool:
        return True

    def column(self, name: str) -> str:
        key = name.lower()
        if key not in self.fields:
            self.fields.append(key)
        return f"_f{self.fields.index(key)}"

    def _mapped(self, key: str) -> bool:
        return self._present is None or key in self._present

    def _keys(self, names: tuple[str, ...]) -> list[str]:
        keys: list[str] = []
        for name in names:
            self.column(name)  # every candidate is read, if only to check it stays empty
            key = name.lower()
            if self._mapped(key) and key not in keys:
                keys.append(key)
        return keys

    def text(self, *names: str) -> str:
        parts = []
        for key in self._keys(names):
            column = self.column(key)
            parts.append(f"CASE WHEN {column} IS NOT NULL THEN {_OBJECT_STAND_IN} END"
                         if key in self._objects else f"mw_null({column})")
        return coalesce(parts)

    def inner(self, names: tuple[str, ...], path: str) -> str:
        keys = self._keys(names)
        typed = [key for key in keys if key in self._objects]
        if not typed:
            return nested(self.text(*names), path)
        member = _MEMBER_PATH.fullmatch(path)
        if len(keys) > 1 or member is None:
            self.conflict = True
            return "NULL::VARCHAR"
        name = member.group(1).lower()
        members = self._members.setdefault(typed[0], [])
        if name not in members:
            members.append(name)
        return f"{self.column(typed[0])}.{quote_identifier(name)}"

    def _type(self, key: str) -> str:
        members = self._members.get(key)
        if key not in self._objects or not members:
            return "'VARCHAR'"
        inner = ", ".join(f"{quote_identifier(name)} VARCHAR" for name in members)
        return sql_string(f"STRUCT({inner})")

    def columns_struct(self) -> str:
        """The `columns` argument of read_json for every field asked for."""
        return "{" + ", ".join(f"{sql_string(key)}: {self._type(key)}"
                               for key in self.fields) + "}"

    def renamed(self) -> str:
        """The reader's columns under the names `column` gives (`_f0`, `_f1`, ...), so a
        field can never clash with a normalized column of the same name."""
        return ", ".join(f"{quote_identifier(key)} AS _f{index}"
                         for index, key in enumerate(self.fields)) or "NULL AS _f"

    def mapped_columns(self) -> str:
        """The columns the mapping reads (the others are only checked by `recheck`)."""
        return ", ".join(f"_f{index}" for index, key in enumerate(self.fields)
                         if self._mapped(key)) or "NULL AS _f"

    def absent_columns(self) -> dict[str, str]:
        """Column -> key of the fields assumed absent (read only to check they stay empty)."""
        return {f"_f{index}": key for index, key in enumerate(self.fields)
                if not self._mapped(key)}

    def absent_values(self) -> str:
        """The fields assumed absent as one list, NULL when all are empty: kept with the
        mapped fields, they let a read whose assumption failed be normalized again
        without reading the file again. One list rather than a column each, as a column
        of NULLs per absent field costs as much to store as a field read."""
        columns = list(self.absent_columns())
        if not columns:
            return "NULL::VARCHAR[]"
        held = " OR ".join(f"{column} IS NOT NULL" for column in columns)
        return f"CASE WHEN {held} THEN [{', '.join(columns)}]::VARCHAR[] END"

    def recheck(self) -> str:
        """True for a record the mapping may misread: one without any of the fields
        (also a JSON `null`), or one holding a field that was assumed absent."""
        columns = [f"_f{index}" for index in range(len(self.fields))]
        empty = " AND ".join(f"{column} IS NULL" for column in columns) or "true"
        unmapped = [f"{column} IS NOT NULL" for column in self.absent_columns()]
        return " OR ".join([f"({empty})", *unmapped])
