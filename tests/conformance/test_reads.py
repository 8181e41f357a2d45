"""Every property the recorded-tenant readers read from a Graph object is declared on it.

The readers (`tenant/graph.py` and whatever reads a Graph source) are run unchanged over
each Graph source of a synthetic tenant, with every object wrapped so that each property
name they *ask for* is noted with where it sits (`signInActivity/lastSuccessfulSignInDateTime`
under a user, `conditions/users/includeUsers` under a policy): names asked are noted
whether or not the object holds them, so a misspelt name that always reads as absent is
caught. Each noted path must be declared on the type of the source's path, through
complex types, as `test_requests` holds the requests to.

A reader that accepts several spellings of one value (`record.text("a", "b")`) must have
at least one of them declared; the others are lenient alternatives for hand exports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from mailwarden.synth import generate
from mailwarden.tenant import lenient
from mailwarden.tenant.lenient import Record
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.conformance.csdl import Schema
from tests.conformance.sources import graph_sources
from tests.conformance.test_beta import BETA, template

MEMBERS_SOURCE = "graph/groupMembers"
MEMBERS_PATH = "/groups/{id}/members"
Asked = set[tuple[tuple[str, ...], tuple[str, ...]]]  # (path to the object, names asked)


class Traced(Mapping[str, Any]):
    """A JSON object that knows where it sits: its values come back traced as well."""

    def __init__(self, raw: Mapping[str, Any], path: tuple[str, ...]) -> None:
        self.raw = raw
        self.path = path

    def __getitem__(self, key: str) -> Any:
        return _wrap(self.raw[key], (*self.path, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


def _wrap(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        return Traced(value, path)
    if isinstance(value, list):
        return [_wrap(item, path) for item in value]  # items sit where the list does
    return value


class _AskedKeys(dict[Any, Any]):
    """A record's key map (see `lenient.Record`) that notes every lookup by names."""

    def __init__(self, keys: Mapping[Any, Any], path: tuple[str, ...], asked: Asked) -> None:
        super().__init__(keys)
        self.path = path
        self.asked = asked

    def get(self, key: Any, default: Any = None) -> Any:
        if isinstance(key, tuple):
            self.asked.add((self.path, key))
        return super().get(key, default)


def asked_by_readers(data: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch) -> Asked:
    """Run the snapshot readers over `data` (source -> raw value) and return what they asked."""
    asked: Asked = set()
    key_map = lenient._key_map
    child = Record.child

    def noting_key_map(raw: Mapping[str, Any]) -> dict[Any, Any]:
        keys = key_map(raw)
        return _AskedKeys(keys, raw.path, asked) if isinstance(raw, Traced) else keys

    def noting_child(self: Record, *names: str) -> Record:
        found = child(self, *names)
        if isinstance(self.raw, Traced) and not isinstance(found.raw, Traced):
            return Record(Traced({}, (*self.raw.path, names[0])))  # absent: keep the path
        return found

    monkeypatch.setattr(lenient, "_key_map", noting_key_map)
    monkeypatch.setattr(Record, "child", noting_child)
    snapshot_from_recorded(RecordedTenant(data=data))
    return asked


def _traced_sources(data: Mapping[str, Any]) -> dict[str, Any]:
    traced: dict[str, Any] = {}
    for name, value in data.items():
        if name == MEMBERS_SOURCE:
            traced[name] = {group: [_wrap(m, (name,)) for m in members]
                            for group, members in value.items()}
        elif name.startswith("graph/"):
            traced[name] = _wrap(value, (name,))
        else:
            traced[name] = value
    return traced


def test_every_property_the_readers_ask_of_graph_objects_is_declared(
        schema: Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    data = generate("small", seed=0).recorded.data
    asked = asked_by_readers(_traced_sources(data), monkeypatch)
    types = {s.name: schema.resolve(s.path).type for s in graph_sources() if s.version == "v1.0"}
    types[MEMBERS_SOURCE] = schema.resolve(MEMBERS_PATH).type
    seen = {path[0] for path, _ in asked}
    assert {"graph/users", MEMBERS_SOURCE, "graph/conditionalAccessPolicies"} <= seen
    assert (("graph/users", "signInActivity"), ("lastSuccessfulSignInDateTime",)) in asked
    beta = {s.name: BETA.get(template(s.path)) for s in graph_sources() if s.version == "beta"}
    problems = []
    for path, names in sorted(asked):
        source, inner = path[0], "/".join(path[1:])
        if source in beta:
            entry = beta[source]
            documented = entry.properties if entry else ()
            if not any(f"{inner}/{n}".strip("/") in documented for n in names):
                problems.append(f"{source}: {' or '.join(names)} under {inner or 'the object'}"
                                " is not a documented property of the beta resource")
            continue
        if source not in types:
            continue  # not a Graph source
        declared = [n for n in names
                    if schema.property_path(types[source], f"{inner}/{n}".strip("/")) is None]
        if not declared and not all(n.startswith("@odata.") for n in names):
            problems.append(f"{source}: {' or '.join(names)} under "
                            f"{inner or 'the object'} is not declared on {types[source]}")
    assert problems == []


def test_a_misspelt_read_is_caught(schema: Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tracing itself: a name asked of an object that lacks it is still noted."""
    user = {"id": "u", "userPrincipalName": "a@b.c"}
    asked = asked_by_readers({"graph/users": [_wrap(user, ("graph/users",))]}, monkeypatch)
    assert (("graph/users", "signInActivity"), ("lastSuccessfulSignInDateTime",)) in asked
    assert (("graph/users",), ("employeeLeaveDateTime",)) in asked
    assert schema.property_path("microsoft.graph.user", "signInActivity/lastSuccessful") is not None
