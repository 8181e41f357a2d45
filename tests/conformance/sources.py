"""Where mailwarden's Graph requests are written down: the collector's source tables and
every Graph path literal in the code, found without a list kept by hand.

- `graph_sources()`: each `GRAPH_*` table of `collect/live.py` (source name -> (path,
  $select, ...)), so a source added there is checked without editing these tests.
- `graph_literals()`: every string (or f-string, its holes as `{}`) in `src/mailwarden`
  outside the emulator and the synthetic generator that is a Graph path: one starting
  with a top-level Graph segment (`/users`, `/groups`, ...), or a `graph.microsoft.com`
  URL such as a remediation's instructions (`PATCH https://graph.microsoft.com/...`).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import mailwarden
from mailwarden.collect import live

SOURCE_ROOT = Path(mailwarden.__file__).resolve().parent
#: Packages that serve or fabricate Graph rather than call it.
NOT_CLIENTS = ("emulator", "synth")
#: Modules whose path-like strings are no requests: lower-cased prefixes matched against
#: a lower-cased URL to name the permission a refused call needs.
NOT_REQUESTS = ("m365/permissions.py",)
_URL = re.compile(r"^(?:(?P<method>GET|POST|PATCH|PUT|DELETE) )?https://graph\.microsoft\.com/"
                  r"(?P<version>v1\.0|beta)(?P<rest>/.*?)(?: (?P<body>\{.*\}))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class GraphSource:
    name: str  # the recorded-tenant source, e.g. "graph/users"
    path: str
    select: tuple[str, ...]
    version: str


def graph_sources() -> list[GraphSource]:
    """The collector's Graph sources, from every `GRAPH_*` table of `collect.live` whose
    entries are (path, $select or None, ..., version)."""
    found = []
    for table_name, table in vars(live).items():
        if not table_name.startswith("GRAPH") or not isinstance(table, dict):
            continue
        for name, entry in table.items():
            if not (isinstance(entry, tuple) and entry and isinstance(entry[0], str)):
                continue
            version = next((e for e in entry[1:] if e in {"v1.0", "beta"}), "v1.0")
            select = next((e for e in entry[1:] if isinstance(e, tuple)), ())
            found.append(GraphSource(str(name), entry[0], tuple(select), str(version)))
    return found


@dataclass(frozen=True, slots=True)
class Literal:
    """A Graph path written in the code; `{}` stands for each f-string hole."""

    where: str  # file:line
    method: str | None
    version: str | None  # None: relative to whatever version the client uses
    path: str
    query: dict[str, str]
    body: Any


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "{}"
                       for v in node.values)
    return None


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String constants and f-strings, adjacent literals joined (implicit concatenation
    arrives joined already), outermost first; parts of a larger f-string are skipped."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside.update(id(v) for v in node.values)
        if id(node) in inside:
            continue
        text = _text(node)
        if text is not None:
            yield getattr(node, "lineno", 0), text


def _literal(where: str, text: str, roots: Iterable[str]) -> Literal | None:
    match = _URL.match(text.strip())
    method = version = None
    body: Any = None
    if match:
        method, version, rest = match["method"], match["version"], match["rest"]
        if match["body"]:
            try:
                body = json.loads(match["body"])
            except ValueError:
                body = None
    elif (rest := text.removeprefix("{}")).startswith("/") and (
            rest.strip("/").split("/")[0].split("?")[0] in roots):
        pass  # a path, maybe after a base URL's hole: f"{base}/security/auditLog/queries"
    else:
        return None
    path, _, query = rest.partition("?")
    head, _, last = path.rpartition("/")
    if last.endswith("{}") and last != "{}":
        path = f"{head}/{last.removesuffix('{}')}"  # f"/groups/{gid}/members{query}"
    return Literal(where=where, method=method, version=version, path=unquote(path),
                   query=dict(parse_qsl(query, keep_blank_values=True)), body=body)


def graph_literals(roots: Iterable[str]) -> list[Literal]:
    """Graph paths written in the client code (see the module docstring)."""
    roots = frozenset(roots)
    found = []
    for file in sorted(SOURCE_ROOT.rglob("*.py")):
        relative = file.relative_to(SOURCE_ROOT)
        if relative.parts[0] in NOT_CLIENTS or relative.as_posix() in NOT_REQUESTS:
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for line, text in _strings(tree):
            literal = _literal(f"{relative}:{line}", text, roots)
            if literal is not None:
                found.append(literal)
    return found
