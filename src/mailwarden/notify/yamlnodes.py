"""YAML read as nodes, so every validation error can name the file and line it is about.

A file is checked whole: `Problems` collects every error (each with its line) and raises
them as one `InputError` listing them all, so a person fixes a file in one go instead of
one error per run. A syntax error still stops at once: nothing after it can be read.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import yaml

from mailwarden.errors import InputError
from mailwarden.yamltext import compose


class LocatedError(InputError):
    """One problem at one line of a YAML file."""

    def __init__(self, message: str, *, line: int) -> None:
        super().__init__(message)
        self.line = line


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known word, '' when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(slots=True)
class Problems:
    """Every problem found in one file, in line order."""

    source: str
    found: list[LocatedError] = field(default_factory=list)

    def add(self, error: LocatedError) -> None:
        self.found.append(error)

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Check one independent part (a channel, a route): a problem that stops it is
        recorded and the next part is still checked."""
        try:
            yield
        except LocatedError as exc:
            self.add(exc)

    def raise_any(self) -> None:
        if not self.found:
            return
        ordered = sorted(self.found, key=lambda e: e.line)
        if len(ordered) == 1:
            raise ordered[0]
        listed = "\n".join(f"  {error}" for error in ordered)
        raise InputError(f"{self.source}: {len(ordered)} problems, fix them all and run "
                         f"again:\n{listed}")


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

    def error(self, message: str) -> LocatedError:
        return LocatedError(f"{self.where}: {message}", line=self.line)

    @property
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag.endswith(":null")

    @property
    def text(self) -> str:
        if not isinstance(self.node, yaml.ScalarNode) or self.is_null:
            raise self.error("expected a single value here")
        return str(self.node.value)

    def items_of(self, problems: Problems | None = None) -> Iterator[tuple[str, Located]]:
        """A mapping's entries in file order; keys must be unique text. With `problems`, a
        repeated or non-text key is recorded there and skipped; without, it raises."""
        if not isinstance(self.node, yaml.MappingNode):
            raise self.error("expected a mapping of names to settings")
        seen: dict[str, int] = {}
        for key_node, value_node in self.node.value:
            key = Located(key_node, self.source)
            try:
                name = key.text
                if name in seen:
                    raise key.error(f"{name!r} is given twice (first on line {seen[name]})")
            except LocatedError as exc:
                if problems is None:
                    raise
                problems.add(exc)
                continue
            seen[name] = key.line
            yield name, Located(value_node, self.source)

    def mapping(self, allowed: set[str], *, required: set[str] | None = None,
                problems: Problems | None = None) -> dict[str, Located]:
        """A mapping with known keys only: a misspelt key is an error, not ignored. With
        `problems`, every unknown, repeated or missing key is recorded there and the known
        ones are returned; without, the first one raises."""
        fields: dict[str, Located] = {}
        found: list[LocatedError] = []
        for name, value in self.items_of(problems):
            if name not in allowed:
                key = next(k for k, v in self.node.value if v is value.node)
                found.append(Located(key, self.source).error(
                    f"unknown key {name!r}{did_you_mean(name, allowed)} "
                    f"(expected {', '.join(sorted(allowed))})"))
                continue
            fields[name] = value
        missing = sorted((required or set()) - set(fields))
        if missing:
            found.append(self.error(f"missing {', '.join(missing)}"))
        if found and problems is None:
            raise found[0]
        for error in found:
            assert problems is not None
            problems.add(error)
        return fields

    def sequence(self) -> list[Located]:
        if not isinstance(self.node, yaml.SequenceNode):
            raise self.error("expected a list")
        return [Located(item, self.source) for item in self.node.value]


def located(text: str, source: str) -> Located:
    """The document's root node; a syntax error names its line."""
    root = compose(text, source)
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
