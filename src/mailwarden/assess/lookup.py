"""Find an item by any of several keys, building each key's map only when asked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
#: An attribute holding one key, or a function giving an item's several keys.
Keys = str | Callable[[T], Iterable[str | None]]


def _single_valued(values: list[str | None]) -> dict[str, int]:
    keys = [value.lower() if value else None for value in values]
    built = {key: position for position, key in enumerate(keys) if key}
    present = sum(1 for key in keys if key)
    if len(built) != present:  # some key is carried twice: it identifies nobody
        for key, count in Counter(key for key in keys if key).items():
            if count > 1:
                del built[key]
    return built


def _multi_valued(values: Iterable[Iterable[str | None]]) -> dict[str, int]:
    built: dict[str, int] = {}
    clashes = set()
    for position, item_values in enumerate(values):
        for value in item_values:
            if value:
                key = value.lower()
                if built.setdefault(key, position) != position:
                    clashes.add(key)
    for key in clashes:
        del built[key]
    return built


class KeyedLookup(Generic[T]):
    """Finds an item by any of several keys, tried in order (the first is the strongest).

    Each key's map is built the first time a lookup needs it, so keys nobody asks about
    cost nothing. A value that several items carry finds none of them: an ambiguous name
    must not silently pick one.
    """

    def __init__(self, items: Sequence[T], keys: Sequence[Keys[T]]) -> None:
        self.items = items
        self._keys = keys
        self._maps: list[dict[str, int] | None] = [None] * len(keys)
        self._answers: dict[str, int | None] = {}  # the same names come up again and again

    def _build(self, number: int) -> dict[str, int]:
        spec = self._keys[number]
        if isinstance(spec, str):
            built = _single_valued([getattr(item, spec) for item in self.items])
        else:
            built = _multi_valued(spec(item) for item in self.items)
        self._maps[number] = built
        return built

    def position(self, key: str | None) -> int | None:
        if not key:
            return None
        wanted = key.lower()
        if wanted in self._answers:
            return self._answers[wanted]
        answer = None
        for number, built in enumerate(self._maps):
            found = (self._build(number) if built is None else built).get(wanted)
            if found is not None:
                answer = found
                break
        self._answers[wanted] = answer
        return answer

    def find(self, key: str | None) -> T | None:
        position = self.position(key)
        return None if position is None else self.items[position]


def address(value: str) -> str:
    """`smtp:a@b` / `SMTP:a@b` -> `a@b`."""
    return value.split(":", 1)[1] if value.lower().startswith("smtp:") else value


def proxy_value(value: str, kind: str) -> str | None:
    """The value of a proxy address of `kind`: `X500:/o=...` -> `/o=...` for "x500"; None
    for a proxy address of another kind."""
    prefix, colon, rest = value.partition(":")
    return rest if colon and prefix.lower() == kind else None
