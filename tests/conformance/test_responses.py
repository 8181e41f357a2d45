"""Every v1.0 answer the emulator serves holds only what Microsoft's v1.0 schema declares.

Two views of the same promise:

- the answers recorded while mailwarden collects a synthetic tenant (in both modes, so
  whole objects as well as `$select`ed ones), reads its logs and remediates it (see
  `traffic.py`): each object of each v1.0 collection, each single object, and each
  primitive answer is checked against the type its path returns;
- every object the emulator can serve from a recorded tenant's Graph sources (for the
  synthetic tenants of several seeds), since a request may `$select` any of its
  properties: each row of each source the collector lists, checked against the type of
  the source's path.

"Declared" means a property of the type, of a base type, or of the derived type the
object's `@odata.type` names; values are checked recursively into complex types and
collections: type, enum membership, non-nullable properties not null. OData control
information (`@odata.*`) is allowed anywhere. See `conform.py` for open types.

Source of the schema: `../shared/reference/graph-v1.0-metadata.xml` (msgraph-metadata,
clean v1.0, MIT).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import pytest

from mailwarden import synth
from mailwarden.synth import SyntheticTenant, generate
from tests.conformance.conform import violations
from tests.conformance.csdl import Schema, Target
from tests.conformance.sources import graph_sources
from tests.conformance.traffic import Call, recorded_calls

#: Seeds of the small synthetic tenant whose sources are checked row by row.
SEEDS = (0, 1, 2, 3)
MEMBERS_SOURCE = "graph/groupMembers"
MEMBERS_PATH = "/groups/{id}/members"


def _variants() -> list[tuple[int, str | None]]:
    """(seed, profile): each seed with the default licences, and seed 0 with each licence
    profile the generator offers (`synth.PROFILES`, when it has them)."""
    profiles = getattr(synth, "PROFILES", ())
    if profiles and "profile" not in inspect.signature(generate).parameters:
        profiles = ()
    return [(seed, None) for seed in SEEDS] + [(0, str(name)) for name in profiles]


@functools.cache
def tenant(seed: int, profile: str | None = None) -> SyntheticTenant:
    if profile is None:
        return generate("small", seed=seed)
    return generate("small", seed=seed, profile=profile)  # type: ignore[call-arg,unused-ignore]


def answer_problems(schema: Schema, call: Call) -> list[str]:
    """Why the emulator's answer to `call` is not what the CSDL says its path returns."""
    if call.status >= 400 or call.answer is None:
        return []
    target = schema.resolve(call.path)
    answer = call.answer
    if not isinstance(answer, dict):
        return [f"{call}: the answer is not a JSON object"]
    if target.collection and call.method == "POST":
        target = Target(target.type, False)  # creating in a collection answers the entity
    if target.collection:
        items = answer.get("value")
        if not isinstance(items, list):
            return [f"{call}: a collection answer without a value array"]
        extra = [k for k in answer if k != "value" and not k.startswith("@odata.")]
        problems = [f"{call}: {k!r} beside the collection's value" for k in extra]
        for index, item in enumerate(items):
            problems += violations(schema, target.type, item, f"{call} value[{index}]")
        return problems
    if target.type in schema.types:
        return violations(schema, target.type, answer, str(call))
    return violations(schema, str(target), answer.get("value"), f"{call} value")


def test_every_v1_answer_served_while_mailwarden_runs_is_declared(schema: Schema) -> None:
    calls = [call for call in recorded_calls() if call.version == "v1.0"]
    answered = {call.path.split("/")[1] for call in calls if call.answer is not None}
    assert {"users", "groups", "organization", "identity", "reports", "roleManagement",
            "auditLogs", "security"} <= answered
    problems = [problem for call in calls for problem in answer_problems(schema, call)]
    assert problems == []


def _rows(tenant: SyntheticTenant, source: str) -> list[tuple[str, Any]]:
    value = tenant.recorded.data.get(source)
    if source == MEMBERS_SOURCE:
        return [(f"{source}[{group}][{i}]", member)
                for group, members in (value or {}).items()
                for i, member in enumerate(members)]
    rows = value if isinstance(value, list) else [value]
    return [(f"{source}[{i}]", row) for i, row in enumerate(rows) if row is not None]


@pytest.mark.parametrize(("seed", "profile"), _variants())
def test_every_object_the_emulator_can_serve_is_declared(schema: Schema, seed: int,
                                                        profile: str | None) -> None:
    synthetic = tenant(seed, profile)
    sources = [(s.name, s.path) for s in graph_sources() if s.version == "v1.0"]
    sources.append((MEMBERS_SOURCE, MEMBERS_PATH))
    problems: list[str] = []
    for name, path in sources:
        if name not in synthetic.recorded.data:
            assert name in synthetic.recorded.errors, f"the synthetic tenant has no {name}"
            continue  # a profile whose licences refuse the source
        target = schema.resolve(path)
        for where, row in _rows(synthetic, name):
            problems += violations(schema, target.type, row, where)
    assert problems == []


def test_an_invented_or_misspelt_property_is_caught(schema: Schema) -> None:
    """The check itself: what the tests above would report."""
    user = dict(tenant(0).recorded.data["graph/users"][0])
    assert violations(schema, "microsoft.graph.user", user, "user") == []
    assert violations(schema, "microsoft.graph.user", {**user, "lastSignIn": None}, "u")
    assert violations(schema, "microsoft.graph.user",
                      {**user, "signInActivity": {"lastSuccessfulSignIn": None}}, "u")
    assert violations(schema, "microsoft.graph.user", {**user, "accountEnabled": "true"}, "u")
    assert violations(schema, "microsoft.graph.user",
                      {**user, "extension_0123456789abcdef0123456789abcdef_team": "x"},
                      "u") == []
    policy = dict(tenant(0).recorded.data["graph/conditionalAccessPolicies"][0])
    assert violations(schema, "microsoft.graph.conditionalAccessPolicy",
                      {**policy, "state": "on"}, "p")
    record = {"@odata.type": "#microsoft.graph.group", "id": "g", "userPrincipalName": "x"}
    assert violations(schema, "microsoft.graph.directoryObject", record, "m")
