"""Microsoft Graph's v1.0 CSDL (`$metadata`), read into what the conformance tests ask of it:
which properties a type declares (with its base types'), which enum members exist, and
what type a request path returns (entity sets, singletons, navigation properties, keys,
type casts and bound actions).

The file is `../shared/reference/graph-v1.0-metadata.xml`, Microsoft's clean v1.0 metadata
from https://github.com/microsoftgraph/msgraph-metadata (`clean_v10_metadata/
cleanMetadata.xml`, MIT licence); see `../shared/reference/README.md`.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
#: Where the reference data lives: beside the repository, as in the shared checkout.
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
METADATA = REFERENCE / "graph-v1.0-metadata.xml"
ABSENT_REASON = (
    f"{METADATA} is absent: Microsoft's Graph CSDL sits beside the repository in the shared "
    "checkout (../shared/reference), which a clone of the project alone does not have"
)


@dataclass(slots=True)
class StructuredType:
    """An EntityType or ComplexType: its own declarations only (see `Schema.properties`)."""

    name: str  # qualified, e.g. "microsoft.graph.user"
    entity: bool
    base: str | None
    abstract: bool
    open: bool
    properties: dict[str, str] = field(default_factory=dict)  # name -> qualified type
    not_null: set[str] = field(default_factory=set)
    navigation: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Enum:
    name: str
    members: Mapping[str, int]
    flags: bool


@dataclass(frozen=True, slots=True)
class Target:
    """What a path returns: a (qualified) type, one object or a collection of them."""

    type: str
    collection: bool

    def __str__(self) -> str:
        return f"Collection({self.type})" if self.collection else self.type


class PathError(LookupError):
    """A request path that does not resolve through the CSDL."""


def element_type(type_name: str) -> tuple[str, bool]:
    """("microsoft.graph.x", True) for "Collection(microsoft.graph.x)"."""
    if type_name.startswith("Collection(") and type_name.endswith(")"):
        return type_name[len("Collection("):-1], True
    return type_name, False


class Schema:
    def __init__(self, path: Path) -> None:
        root = ET.parse(path).getroot()
        schemas = list(root.iter(f"{EDM}Schema"))
        self.aliases = {s.get("Alias"): s.get("Namespace") for s in schemas if s.get("Alias")}
        self.types: dict[str, StructuredType] = {}
        self.enums: dict[str, Enum] = {}
        self.roots: dict[str, Target] = {}
        #: (qualified binding type, action or function name) -> what it returns (None: nothing)
        self.bound: dict[tuple[str, str], Target | None] = {}
        #: the same key -> the names of its parameters besides the binding one (actions only)
        self.parameters: dict[tuple[str, str], frozenset[str]] = {}
        for schema in schemas:
            self._read_schema(schema)
        self.derived: dict[str, set[str]] = {}
        for item in self.types.values():
            base = item.base
            while base is not None:
                self.derived.setdefault(base, set()).add(item.name)
                base = self.types[base].base if base in self.types else None

    def _qualify(self, name: str, namespace: str, alias: str | None) -> str:
        inner, many = element_type(name)
        if inner.startswith("Edm."):
            qualified = inner
        else:
            prefix, _, simple = inner.rpartition(".")
            if prefix == alias:
                prefix = namespace
            qualified = f"{self.aliases.get(prefix, prefix)}.{simple}"
        return f"Collection({qualified})" if many else qualified

    def _read_schema(self, schema: ET.Element) -> None:
        namespace = schema.get("Namespace") or ""
        alias = schema.get("Alias")

        def q(name: str) -> str:
            return self._qualify(name, namespace, alias)

        for node in schema:
            tag = node.tag.removeprefix(EDM)
            name = f"{namespace}.{node.get('Name')}"
            if tag in {"EntityType", "ComplexType"}:
                item = StructuredType(
                    name=name, entity=tag == "EntityType",
                    base=q(node.get("BaseType", "")) if node.get("BaseType") else None,
                    abstract=node.get("Abstract") == "true", open=node.get("OpenType") == "true")
                for child in node:
                    child_tag = child.tag.removeprefix(EDM)
                    if child_tag == "Property":
                        item.properties[child.get("Name", "")] = q(child.get("Type", ""))
                        if child.get("Nullable") == "false":
                            item.not_null.add(child.get("Name", ""))
                    elif child_tag == "NavigationProperty":
                        item.navigation[child.get("Name", "")] = q(child.get("Type", ""))
                self.types[name] = item
            elif tag == "EnumType":
                members = {m.get("Name", ""): int(m.get("Value", "0"))
                           for m in node if m.tag == f"{EDM}Member"}
                self.enums[name] = Enum(name, members, node.get("IsFlags") == "true")
            elif tag in {"Action", "Function"} and node.get("IsBound") == "true":
                binding = next(p for p in node if p.tag == f"{EDM}Parameter")
                returns = next((r for r in node if r.tag == f"{EDM}ReturnType"), None)
                target = None
                if returns is not None:
                    inner, many = element_type(q(returns.get("Type", "")))
                    target = Target(inner, many)
                key = (q(binding.get("Type", "")), node.get("Name", ""))
                self.bound[key] = target
                if tag == "Action":
                    self.parameters[key] = frozenset(
                        p.get("Name", "") for p in node
                        if p.tag == f"{EDM}Parameter" and p is not binding)
            elif tag == "EntityContainer":
                for entry in node:
                    entry_tag = entry.tag.removeprefix(EDM)
                    if entry_tag == "EntitySet":
                        self.roots[entry.get("Name", "")] = Target(
                            q(entry.get("EntityType", "")), True)
                    elif entry_tag == "Singleton":
                        self.roots[entry.get("Name", "")] = Target(q(entry.get("Type", "")), False)

    # -- types -------------------------------------------------------------------------

    def lineage(self, type_name: str) -> Iterator[StructuredType]:
        """The type, then its base types up to the root."""
        current: str | None = type_name
        while current is not None:
            item = self.types[current]
            yield item
            current = item.base

    def properties(self, type_name: str) -> dict[str, str]:
        """Structural properties of the type and its bases: name -> qualified type."""
        return {name: kind for item in self.lineage(type_name)
                for name, kind in item.properties.items()}

    def navigation(self, type_name: str) -> dict[str, str]:
        return {name: kind for item in self.lineage(type_name)
                for name, kind in item.navigation.items()}

    def members(self, type_name: str) -> dict[str, str]:
        """Structural and navigation properties, as `$select` may name them."""
        return {**self.navigation(type_name), **self.properties(type_name)}

    def not_null(self, type_name: str) -> set[str]:
        return {name for item in self.lineage(type_name) for name in item.not_null}

    def is_open(self, type_name: str) -> bool:
        return any(item.open for item in self.lineage(type_name))

    def subtypes(self, type_name: str) -> set[str]:
        return self.derived.get(type_name, set())

    def is_a(self, type_name: str, base: str) -> bool:
        return any(item.name == base for item in self.lineage(type_name))

    def declaring(self, type_name: str, name: str) -> list[str]:
        """The type (or its bases) declaring `name`; else the derived types that do, for a
        collection of a polymorphic type (e.g. directoryObject members that are users)."""
        if name in self.members(type_name):
            return [type_name]
        return sorted(t for t in self.subtypes(type_name) if name in self.members(t))

    # -- paths -------------------------------------------------------------------------

    def resolve(self, path: str) -> Target:
        """What a path relative to the version root returns, e.g. "/groups/{id}/members"."""
        segments = [s for s in path.split("?", 1)[0].strip("/").split("/") if s]
        if not segments or segments[0] not in self.roots:
            raise PathError(f"{path}: {segments[0] if segments else '(empty)'!r} is no entity "
                            "set or singleton of the v1.0 EntityContainer")
        current = self.roots[segments[0]]
        for segment in segments[1:]:
            current = self._step(path, current, segment)
        return current

    def _step(self, path: str, current: Target, segment: str) -> Target:
        if segment in self.types and self.is_a(segment, current.type):
            return Target(segment, current.collection)  # a type cast
        bound = self._bound(current, segment)
        if bound is not None:
            return bound
        if current.collection:
            return Target(current.type, False)  # a key
        members = self.members(current.type) if current.type in self.types else {}
        if segment not in members:
            raise PathError(f"{path}: {current.type} has no property or navigation property "
                            f"{segment!r}")
        inner, many = element_type(members[segment])
        return Target(inner, many)

    def _bound_keys(self, current: Target, segment: str) -> list[tuple[str, str]]:
        binding = str(current)
        return [(binding, segment), *(((str(Target(b.name, current.collection)), segment)
                                       for b in list(self.lineage(current.type))[1:])
                                      if current.type in self.types else ())]

    def _bound(self, current: Target, segment: str) -> Target | None:
        for key in self._bound_keys(current, segment):
            if key in self.bound:
                return self.bound[key] or Target("Edm.Untyped", False)
        return None

    def action_parameters(self, path: str) -> frozenset[str] | None:
        """The parameters of the bound action a path ends in (a POST body names them), or
        None when the path does not end in an action."""
        head, _, last = path.split("?", 1)[0].rstrip("/").rpartition("/")
        if not head:
            return None
        try:
            current = self.resolve(head)
        except PathError:
            return None
        for key in self._bound_keys(current, last):
            if key in self.parameters:
                return self.parameters[key]
        return None

    def property_path(self, type_name: str, path: str) -> str | None:
        """Why a slash-separated property path (e.g. "signInActivity/lastSignInDateTime")
        is not declared on the type, or None when every step is."""
        current = type_name
        for step in path.split("/"):
            current, _ = element_type(current)
            if current not in self.types:
                return f"{path}: {current} is not a structured type, it has no {step!r}"
            declaring = self.declaring(current, step)
            if not declaring:
                return f"{path}: {current} (or a base or derived type) declares no {step!r}"
            current = self.members(declaring[0])[step]
        return None


@functools.cache
def load() -> Schema:
    return Schema(METADATA)
