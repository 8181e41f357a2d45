"""The registry of action kinds: every kind is registered once, in one module, and every
kind a plan produces can be built, read, judged and undone."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from pathlib import Path

import mailwarden.remediate.kinds as kinds_package
from mailwarden.remediate.kinds import AUTOMATED, BY_KIND, KINDS, kind_of
from mailwarden.remediate.model import ActionKind, ExoCall, GraphCall, Plan
from tests.remediate.remediate_helpers import app_for, plan_for, small_scan, wire_to

OPERATIONS = ("build", "read", "satisfied", "undo")
#: The synthetic tenant's mail-enabled security group an access policy already names.
APP_SCOPE = "App scope - Helpdesk Notifier"


def everything() -> Plan:
    """The widest plan of the small tenant: every mailbox named, EWS and ActiveSync too."""
    mailboxes = plan_for(mailboxes=tuple(e.upn for e in small_scan().result.inventory),
                         include_ews=True, include_activesync=True)
    # Tenant-wide changes are planned only when no mailbox is named.
    tenant = plan_for(app_scope_group=APP_SCOPE, remove_app_grants=True)
    extra = tuple(a for a in tenant.actions if not a.upn)
    return dataclasses.replace(mailboxes, actions=mailboxes.actions + extra)


def test_every_action_kind_is_registered_once() -> None:
    assert sorted(k.kind for k in KINDS) == sorted(ActionKind)
    assert set(BY_KIND) == set(ActionKind)


def test_every_module_in_the_package_is_a_registered_kind() -> None:
    folder = Path(kinds_package.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem not in {"__init__", "base"})
    registered = []
    for name in modules:
        module = importlib.import_module(f"mailwarden.remediate.kinds.{name}")
        assert module.KIND in KINDS, name
        assert module.KIND.kind.value == name.replace("_", "-"), name
        registered.append(module.KIND)
    assert len(registered) == len(KINDS)


def test_every_kind_has_its_four_operations_and_answers_some_check() -> None:
    for kind in KINDS:
        for operation in OPERATIONS:
            assert callable(getattr(kind, operation)), (kind.kind, operation)
        assert kind.answers, kind.kind
    assert frozenset(c for k in KINDS for c in k.answers) == AUTOMATED


def test_every_kind_the_plan_produces_is_read_judged_and_undone() -> None:
    plan = everything()
    # The conditional-access kinds act on tenants the small one is not (accounts excluded
    # by id, no legacy-auth block): tests/remediate/test_conditional_access.py runs them.
    tenant_wide = {ActionKind.CA_REMOVE_EXCLUSION, ActionKind.CA_CREATE_LEGACY_BLOCK}
    assert {a.kind for a in plan.actions} == set(ActionKind) - tenant_wide

    async def main() -> None:
        async with wire_to(app_for()) as wire:
            for action in plan.actions:
                kind = kind_of(action)
                assert kind.kind is action.kind
                prior = await kind.read(action, wire)
                assert prior and not kind.satisfied(action, prior), action
                calls = kind.undo(action, prior)
                assert calls and all(isinstance(c, ExoCall | GraphCall) for c in calls)

    asyncio.run(main())
