"""YAML read as nodes, so every validation error can name the file and line it is about."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from mailwarden.errors import InputError


@dataclass(frozen=True, slots=True)
class Located:
    node: yaml.Node
    source: str

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def error(self, message: str) -> InputError:
        return InputError(f"{self.where}: {message}")

    @property
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag.endswith(":null")

    @property
    def text(self) -> str:
        if not isinstance(self.node, yaml.ScalarNode) or self.is_null:
            raise self.error("expected a single value here")
        return str(self.node.value)

    def items_of(self) -> Iterator[tuple[str, Located]]:
        """A mapping's entries in file order; keys must be unique text."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error("expected a mapping of names to settings")
        seen: dict[str, int] = {}
        for key_node, value_node in self.node.value:
            key = Located(key_node, self.source)
            name = key.text
            if name in seen:
                raise key.error(f"{name!r} is given twice (first on line {seen[name]})")
            seen[name] = key.line
            yield name, Located(value_node, self.source)

    def mapping(self, allowed: set[str], *, required: set[str] | None = None
                ) -> dict[str, Located]:
        """A mapping with known keys only: a misspelt key is an error, not ignored."""
        fields: dict[str, Located] = {}
        for name, value in self.items_of():
            if name not in allowed:
                raise Located(self._key_node(name), self.source).error(
                    f"unknown key {name!r} (expected {', '.join(sorted(allowed))})")
            fields[name] = value
        missing = sorted((required or set()) - set(fields))
        if missing:
            raise self.error(f"missing {', '.join(missing)}")
        return fields

    def _key_node(self, name: str) -> yaml.Node:
        assert isinstance(self.node, yaml.MappingNode)  # items_of checked it
        found: yaml.Node = next(k for k, _ in self.node.value
                                if getattr(k, "value", None) == name)
        return found

    def sequence(self) -> list[Located]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error("expected a list")
        return [Located(item, self.source) for item in self.node.value]


def located(text: str, source: str) -> Located:
    """The document's root node; a syntax error names its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise InputError(f"{source}{where}: not valid YAML ({problem})") from exc
    if root is None:
        raise InputError(f"{source}:1: the file is empty")
    return Located(root, source)


def scalar_list(node: Located) -> list[Located]:
    """A list of single values; one value alone counts as a list of one."""
    if isinstance(node.node, yaml.ScalarNode):
        return [node] if not node.is_null else []
    items = node.sequence()
    for item in items:
        if not isinstance(item.node, yaml.ScalarNode) or item.is_null:
            raise item.error("expected a single value in this list")
    return items
