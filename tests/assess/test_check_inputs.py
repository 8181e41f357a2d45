"""What each check reads, as its catalogue entry declares it (SPEC section 9: a check that
cannot see its input never passes).

Over synthetic tenants of several seeds (every kind of planted finding), each check is
run with one of its declared inputs taken away the way a failed collection takes it
away (the source absent and recorded as failed, or a property absent from every object
of a source), and compared with the run on the whole tenant:

- a source the check `needs`: every finding of the check is `error`;
- a source it `uses`, or a property in its `fields`: no finding becomes `pass` that was
  not one with the whole tenant (a fail may stand, a severity may drop);
- every source it does not declare, all taken away at once: its verdicts (status,
  severity, message, evidence) do not change. A check that reads something it does not
  declare fails here. Which mailboxes are ownerless is the inventory's question
  (exo/Get-Mailbox and the licences in graph/users): the verdicts compared are those on
  the mailboxes judged in both runs.

`tenant.json` (when the tenant was read, its verified domains) is every check's context
and is left in place for the last test; checks whose verdict depends on it declare it.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from mailwarden.assess import CATALOGUE, assess
from mailwarden.assess.checks import Check
from mailwarden.model.findings import Finding, Scope, Status
from mailwarden.model.inventory import LIMITABLE_PARTS, RoleAssignment
from mailwarden.synth import generate
from mailwarden.tenant.recorded import ALL_SOURCES, RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.assess.assess_factory import GLOBAL_ADMIN, adding, finding, group, hardened, run, without

SEEDS = (0, 1, 2, 3)
MAILBOXES = "exo/Get-Mailbox"
CONTEXT = "tenant"
#: (check, input) pairs known to pass without their input, with the reason and what
#: removes it. Strict: once the check no longer passes, the test says to drop the entry.
KNOWN: dict[tuple[str, str], str] = {
    ("direct-sign-in-observed", "graph/users:signInActivity"):
        "Graph omits signInActivity for a user who never signed in, so one user without it "
        "passes rightly; a tenant where no user has it was read without it (no Entra ID P1, "
        "or no AuditLog.Read.All), which the collection must record as a limitation that "
        "makes this check say error",
    ("direct-sign-in-observed", "graph/users:signInActivity/lastSuccessfulSignInDateTime"):
        "lastSuccessfulSignInDateTime exists from December 2023 and is not backfilled "
        "(https://learn.microsoft.com/graph/api/resources/signinactivity): with a sign-in "
        "attempt on record and no successful timestamp, whether one succeeded is unknown",
}
Key = tuple[str, str | None]  # (check id, mailbox upn or None for the tenant)


def _check_ids() -> list[str]:
    return [check.info.id for check in CATALOGUE]


@functools.cache
def _recorded(seed: int) -> RecordedTenant:
    return generate("small", seed=seed).recorded


def _without_sources(recorded: RecordedTenant, sources: frozenset[str]) -> RecordedTenant:
    """The tenant without `sources`: a whole source failed, or a part of one (such as
    `graph/users.signInActivity`) withheld as a licence withholds it."""
    parts = {s for s in sources if s not in ALL_SOURCES}
    whole = sources - parts
    data = {k: v for k, v in recorded.data.items() if k not in whole}
    for part in parts:
        source, _, path = part.partition(".")
        if source in data:
            data[source] = copy.deepcopy(data[source])
            _drop(data[source], path.split("/"))
    errors = {**recorded.errors, **dict.fromkeys(whole, "taken away by the test")}
    limitations = {**recorded.limitations, **dict.fromkeys(parts, "taken away by the test")}
    return RecordedTenant(data=data, errors=errors, limitations=limitations)


def _drop(value: Any, path: list[str]) -> None:
    """Remove `path` (a property, maybe nested) from an object or from each object of a
    list, a per-group mapping of lists included."""
    if isinstance(value, list):
        for item in value:
            _drop(item, path)
        return
    if not isinstance(value, dict):
        return
    if len(path) == 1:
        value.pop(path[0], None)
    elif path[0] in value:
        _drop(value[path[0]], path[1:])


def _without_field(recorded: RecordedTenant, field: str) -> RecordedTenant:
    source, _, path = field.partition(":")
    data = dict(recorded.data)
    if source in data:
        data[source] = copy.deepcopy(data[source])
        _drop(data[source], path.split("/"))
    return RecordedTenant(data=data, errors=recorded.errors)


def _findings(recorded: RecordedTenant) -> dict[Key, Finding]:
    result = assess(snapshot_from_recorded(recorded))
    return {(f.check_id, f.resource.upn): f for f in result.findings}


@functools.cache
def _whole(seed: int) -> dict[Key, Finding]:
    return _findings(_recorded(seed))


@functools.cache
def _lacking(seed: int, sources: frozenset[str]) -> dict[Key, Finding]:
    return _findings(_without_sources(_recorded(seed), sources))


@functools.cache
def _lacking_field(seed: int, field: str) -> dict[Key, Finding]:
    return _findings(_without_field(_recorded(seed), field))


def _of(check_id: str, findings: Mapping[Key, Finding]) -> Iterator[tuple[Key, Finding]]:
    return ((key, f) for key, f in findings.items() if key[0] == check_id)


def _new_passes(check_id: str, seed: int, reduced: Mapping[Key, Finding]) -> list[str]:
    whole = _whole(seed)
    return [f"{key[1] or 'tenant'}: {whole[key].status.value} -> pass ({found.message})"
            for key, found in _of(check_id, reduced)
            if found.status is Status.PASS and key in whole
            and whole[key].status is not Status.PASS]


def _by_id(check_id: str) -> Check:
    return next(c for c in CATALOGUE if c.info.id == check_id)


def test_every_declared_input_is_one_the_recorded_tenant_has() -> None:
    for check in CATALOGUE:
        info = check.info
        # A source, or a part of one that a licence can withhold ("graph/users.signInActivity").
        whole = {s.partition(".")[0] if s not in ALL_SOURCES else s for s in info.sources}
        assert whole <= set(ALL_SOURCES), info.id
        assert {s for s in info.sources if s not in ALL_SOURCES} <= set(LIMITABLE_PARTS), info.id
        assert not set(info.needs) & set(info.uses), info.id
        for field in info.fields:
            source, _, path = field.partition(":")
            assert source in info.sources and path, (info.id, field)
        if info.scope is Scope.MAILBOX:  # it judges the rows of Get-Mailbox
            assert "exo/Get-Mailbox" in info.sources, info.id


@pytest.mark.parametrize("check_id", _check_ids())
def test_a_needed_source_missing_makes_every_finding_an_error(check_id: str) -> None:
    check = _by_id(check_id)
    for seed in SEEDS:
        for source in check.info.needs:
            if source == MAILBOXES and not check.info.reads_mailbox:
                continue  # judged from its other sources: the next test
            for key, found in _of(check_id, _lacking(seed, frozenset({source}))):
                assert found.status is Status.ERROR, (seed, source, key, found.message)
                assert source in found.evidence.get("missing_sources", {}), (seed, key)


@pytest.mark.parametrize("check_id", [c.info.id for c in CATALOGUE if not c.info.reads_mailbox])
def test_a_check_that_reads_no_mailbox_property_judges_without_get_mailbox(
    check_id: str,
) -> None:
    """Get-Mailbox failed: the mailboxes are listed by Get-User and Get-CASMailbox, and a
    check that declares it reads no Get-Mailbox property gives the verdicts it gives with
    Get-Mailbox, on every mailbox."""
    for seed in SEEDS:
        whole, reduced = _whole(seed), _lacking(seed, frozenset({MAILBOXES}))
        for key, found in _of(check_id, whole):
            assert key in reduced, (seed, key)
            assert _verdict(reduced[key]) == _verdict(found), (seed, key, reduced[key].message)


def _judged(check_id: str, inputs: tuple[str, ...],
            lacking: Callable[[int, str], Mapping[Key, Finding]]) -> None:
    problems = []
    for taken in inputs:
        found = [f"seed {seed}, without {taken}: {problem}" for seed in SEEDS
                 for problem in _new_passes(check_id, seed, lacking(seed, taken))]
        if (check_id, taken) in KNOWN:
            assert found, f"{check_id} no longer passes without {taken}: drop it from KNOWN"
            continue
        problems += found
    assert problems == []


@pytest.mark.parametrize("check_id", _check_ids())
def test_a_used_source_missing_never_makes_a_pass(check_id: str) -> None:
    _judged(check_id, _by_id(check_id).info.uses,
            lambda seed, source: _lacking(seed, frozenset({source})))


@pytest.mark.parametrize("check_id", _check_ids())
def test_a_declared_field_missing_never_makes_a_pass(check_id: str) -> None:
    _judged(check_id, _by_id(check_id).info.fields, _lacking_field)


def _verdict(found: Finding) -> tuple[Any, ...]:
    return found.status, found.severity, found.message, found.evidence


@pytest.mark.parametrize("check_id", _check_ids())
def test_a_check_reads_nothing_it_does_not_declare(check_id: str) -> None:
    check = _by_id(check_id)
    undeclared = frozenset(ALL_SOURCES) - set(check.info.sources) - {CONTEXT}
    problems = []
    for seed in SEEDS:
        whole, reduced = _whole(seed), _lacking(seed, undeclared)
        for key, found in _of(check_id, whole):
            other = reduced.get(key)
            if other is not None and _verdict(other) != _verdict(found):
                changed = sorted(k for k in {*found.evidence, *other.evidence}
                                 if found.evidence.get(k) != other.evidence.get(k))
                problems.append(f"seed {seed}: {key[1] or 'tenant'}: {found.status.value} "
                                f"{found.severity.value} '{found.message}' became "
                                f"{other.status.value} {other.severity.value} "
                                f"'{other.message}' (evidence changed: {changed})")
    assert problems == [], f"{check_id} reads one of {sorted(undeclared)}"


def test_a_role_through_a_group_whose_members_were_not_read_is_unknown() -> None:
    """privileged-account: an account that holds no role directly may hold one through a
    group; with the group's members (or the groups) not collected that is unknown, not
    a pass."""
    snapshot = hardened()
    hr = next(a for a in snapshot.accounts if a.mail_nickname == "hr")
    admins, members = group("Helpdesk admins", hr)
    assignment = RoleAssignment(id="ra-g", principal_id=admins.id,
                                role_definition_id=GLOBAL_ADMIN)
    held = adding(snapshot, groups=(admins,), group_members=(members,),
                  role_assignments=(assignment,))
    assert finding(run(held), "privileged-account").status is Status.FAIL
    for source, field in (("graph/groupMembers", "group_members"), ("graph/groups", "groups")):
        verdict = finding(run(without(held, source, field)), "privileged-account")
        assert verdict.status is Status.ERROR, (source, verdict.message)
        assert "through a group is unknown" in verdict.message
    alone = adding(snapshot, role_assignments=(assignment,))  # a group nothing says is one
    assert finding(run(without(alone, "graph/groups", "groups")),
                   "privileged-account").status is Status.ERROR
    assert finding(run(snapshot), "privileged-account").status is Status.PASS
