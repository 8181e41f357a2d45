"""Group nesting, the one membership cycle, and which mailboxes have per-mailbox data."""

from __future__ import annotations

from typing import Any

import pytest

from mailwarden.synth import SyntheticTenant

OWNERLESS_TYPES = {"SharedMailbox", "RoomMailbox", "EquipmentMailbox", "SchedulingMailbox"}


def _group_edges(data: Any) -> dict[str, list[str]]:
    return {group_id: [m["id"] for m in members if m["@odata.type"] == "#microsoft.graph.group"]
            for group_id, members in data["graph/groupMembers"].items()}


def _cycles(edges: dict[str, list[str]]) -> list[set[str]]:
    """Strongly connected components with more than one group, or a group in itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in edges.get(node, []):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = set()
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.add(item)
                if item == node:
                    break
            if len(component) > 1 or node in edges.get(node, []):
                found.append(component)

    for node in edges:
        if node not in index:
            visit(node)
    return found


def _depth(edges: dict[str, list[str]], node: str, seen: frozenset[str] = frozenset()) -> int:
    children = [c for c in edges.get(node, []) if c not in seen]
    return 1 + max((_depth(edges, c, seen | {node}) for c in children), default=0)


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_exactly_one_membership_cycle(fixture: str, request: pytest.FixtureRequest) -> None:
    tenant: SyntheticTenant = request.getfixturevalue(fixture)
    cycles = _cycles(_group_edges(tenant.recorded.data))
    assert len(cycles) == 1
    assert len(cycles[0]) == 3


def test_groups_nest_several_levels(small: SyntheticTenant) -> None:
    data = small.recorded.data
    edges = _group_edges(data)
    all_staff = next(g["id"] for g in data["graph/groups"] if g["displayName"] == "All Staff")
    assert _depth(edges, all_staff) >= 4  # All Staff > department > team > leads
    kinds = {(g["securityEnabled"], g["mailEnabled"], tuple(g["groupTypes"]))
             for g in data["graph/groups"]}
    assert (True, True, ()) in kinds  # mail-enabled security groups
    assert (False, True, ("Unified",)) in kinds  # Microsoft 365 groups
    assert (True, False, ()) in kinds  # security-only
    for members in data["graph/groupMembers"].values():
        for member in members:
            assert member["@odata.type"] in {"#microsoft.graph.user", "#microsoft.graph.group"}


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_per_mailbox_data_only_for_ownerless(fixture: str, request: pytest.FixtureRequest) -> None:
    tenant: SyntheticTenant = request.getfixturevalue(fixture)
    data = tenant.recorded.data
    licensed = {u["id"] for u in data["graph/users"] if u["assignedLicenses"]}
    ownerless = {
        row["Identity"] for row in data["exo/Get-Mailbox"]
        if row["RecipientTypeDetails"] in OWNERLESS_TYPES
        or (row["RecipientTypeDetails"] == "UserMailbox"
            and row["ExternalDirectoryObjectId"] not in licensed)
    }
    permission_owners = {row["Identity"] for row in data["exo/Get-MailboxPermission"]}
    assert permission_owners == ownerless  # every ownerless mailbox at least has SELF
    assert {row["MailboxOwnerId"] for row in data["exo/Get-InboxRule"]} <= ownerless
    mailboxes = {row["Identity"] for row in data["exo/Get-Mailbox"]}
    assert {row["Identity"] for row in data["exo/Get-RecipientPermission"]} <= mailboxes


def test_exchange_names_follow_the_object_id_for_new_mailboxes(small: SyntheticTenant) -> None:
    rows = [r for r in small.recorded.data["exo/Get-Mailbox"]
            if r["RecipientTypeDetails"] != "DiscoveryMailbox"]
    by_id = [r for r in rows if r["Name"] == r["ExternalDirectoryObjectId"]]
    by_alias = [r for r in rows if r["Name"] == r["Alias"]]
    assert by_id and by_alias and len(by_id) + len(by_alias) == len(rows)
    assert all(r["Identity"] == r["Name"] for r in rows)
