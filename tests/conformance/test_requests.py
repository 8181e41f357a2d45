"""Every Graph request mailwarden makes names only what Microsoft's v1.0 schema declares.

Requests come from three places, none of them a list kept by hand (see `sources.py` and
`traffic.py`): the collector's `GRAPH_*` source tables; every Graph path written in the
client code (including the Graph calls remediation advice tells a person to make); and
the requests the code really sends when it collects a tenant (both modes), reads the
logs and applies and rolls back a remediation against the emulator. For each v1.0
request the path must resolve through the CSDL's EntityContainer (entity sets and
singletons, navigation properties, keys, casts, bound actions), and every property that
`$select`, `$filter`, `$orderby` or `$expand` names, and every property of a request
body (recursively, with enum values checked), must be declared on the type the path
returns or its base types. A collection of a polymorphic type (a group's `members`, of
type directoryObject) may name a property of a derived type (user's
`userPrincipalName`): Graph resolves it against each member's own type.

Beta paths are not in the v1.0 CSDL: each one the code uses is listed in `test_beta.BETA`
with Microsoft's documentation for the path and its properties; a beta request that table
does not cover fails, and so does a property the documentation does not list.

Source of the schema: `../shared/reference/graph-v1.0-metadata.xml`, the clean v1.0
metadata of https://github.com/microsoftgraph/msgraph-metadata (MIT).
"""

from __future__ import annotations

import re

import pytest

from mailwarden.collect import fields
from tests.conformance.conform import listed, query_properties, unknown, violations
from tests.conformance.csdl import PathError, Schema, Target
from tests.conformance.sources import graph_literals, graph_sources
from tests.conformance.test_beta import beta_problems
from tests.conformance.traffic import recorded_calls


def _target(schema: Schema, path: str) -> Target:
    try:
        return schema.resolve(path)
    except PathError as exc:
        pytest.fail(str(exc))


def _request_problems(schema: Schema, label: str, path: str, query: dict[str, str],
                      method: str | None, body: object) -> list[str]:
    target = _target(schema, path)
    problems = []
    if target.type in schema.types:
        for option, name in query_properties(query):
            problems += [f"{label}: {option} {p}" for p in unknown(schema, target.type, [name])]
    elif query:
        problems.append(f"{label}: query options on {target.type}, which has no properties")
    action = schema.action_parameters(path)
    if body is not None and method == "POST" and action is not None:
        names = body.keys() if isinstance(body, dict) else ()
        problems += [f"{label} body: the action takes no parameter {name!r}"
                     for name in names if name not in action]
    elif body is not None and method in {"POST", "PATCH", "PUT"}:
        if target.type in schema.types:
            problems += violations(schema, target.type, body, f"{label} body")
        elif body not in ({}, None):
            problems.append(f"{label}: a body for {target}, which takes none")
    return problems


def test_every_v1_source_of_the_collector_selects_declared_properties(schema: Schema) -> None:
    sources = graph_sources()
    assert {s.name for s in sources} >= {"graph/users", "graph/userRegistrationDetails"}
    problems: list[str] = []
    for source in sources:
        if source.version == "beta":
            problems += beta_problems(source.name, source.path,
                                       {"$select": ",".join(source.select)}, None)
            continue
        target = _target(schema, source.path)  # a collection, or a singleton's one object
        problems += [f"{source.name}: $select {p}"
                     for p in unknown(schema, target.type, source.select)]
    assert problems == []


def test_members_and_organization_selects_are_declared(schema: Schema) -> None:
    members = _target(schema, "/groups/{id}/members")
    organization = _target(schema, "/organization")
    assert unknown(schema, members.type, fields.MEMBER) == []
    assert unknown(schema, organization.type, fields.ORGANIZATION) == []
    # verifiedDomains is read item by item (name, isDefault): see test_reads.
    for read in ("verifiedDomains/name", "verifiedDomains/isDefault"):
        assert schema.property_path(organization.type, read) is None


def test_every_graph_path_written_in_the_code_resolves(schema: Schema) -> None:
    literals = graph_literals(schema.roots)
    wanted = {"/users", "/groups/{}/members", "/security/auditLog/queries", "/organization"}
    assert wanted <= {literal.path for literal in literals}
    problems: list[str] = []
    for literal in literals:
        label = f"{literal.where} {literal.method or ''} {literal.path}".replace("  ", " ")
        path = re.sub(r"\{[^}]*\}|<[^>]*>", "{id}", literal.path)
        if literal.version == "beta":
            problems += beta_problems(label, path.replace("{id}", "x"), literal.query,
                                       literal.body)
            continue
        problems += _request_problems(schema, label, path, literal.query, literal.method,
                                      literal.body)
    assert problems == []


def test_every_request_sent_names_only_declared_properties(schema: Schema) -> None:
    calls = recorded_calls()
    runs = {call.run for call in calls}
    assert {"collect fast", "collect fast ($batch)", "collect sequential", "logs",
            "remediate"} <= runs
    problems: list[str] = []
    for call in calls:
        if call.version == "beta":
            problems += beta_problems(str(call), call.path, call.query, call.body)
        else:
            problems += _request_problems(schema, f"{call.run}: {call}", call.path, call.query,
                                          call.method, call.body)
    assert problems == []


def test_every_collector_source_is_requested_in_the_recorded_runs(schema: Schema) -> None:
    """The traffic the other tests check covers every source the collector lists, so a
    source added to a `GRAPH_*` table is exercised (if the emulator cannot serve it yet,
    this fails and says which)."""
    requested = {(call.version, call.path) for call in recorded_calls() if call.method == "GET"}
    missing = [source.name for source in graph_sources()
               if (source.version, source.path) not in requested]
    assert missing == []


def test_the_fast_collection_asks_for_what_its_source_table_says() -> None:
    by_path = {(s.version, s.path): s for s in graph_sources()}
    for call in recorded_calls():
        source = by_path.get((call.version, call.path))
        if call.run == "collect fast" and source is not None:
            assert listed(call.query.get("$select")) == list(source.select), call


def test_an_invented_name_is_caught_in_every_part_of_a_request(schema: Schema) -> None:
    def problems(path: str, query: dict[str, str], method: str = "GET",
                 body: object = None) -> list[str]:
        return _request_problems(schema, "x", path, query, method, body)

    assert problems("/users", {"$select": "id,signInActivity"}) == []
    assert problems("/users", {"$select": "id,lastSignIn"})
    assert problems("/users", {"$filter": "signInActivity/lastSignIn le 2026-01-01T00:00:00Z"})
    assert problems("/auditLogs/signIns", {"$orderby": "created desc"})
    assert problems("/users/{id}", {}, "PATCH", {"enabled": False})
    assert problems("/security/auditLog/queries", {}, "POST",
                    {"recordTypeFilters": ["exchangeItemz"]})
