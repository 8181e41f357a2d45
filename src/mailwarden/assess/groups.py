"""Group membership expanded through nested groups, memoised, safe against cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from mailwarden.model.inventory import GroupMembers


@dataclass(frozen=True, slots=True, kw_only=True)
class Expansion:
    """Everyone a group reaches. `missing` names nested groups whose members were not
    collected, so `users` may be short of the truth."""

    users: frozenset[str]  # account ids, lower case
    groups: frozenset[str]  # every group visited, the start included
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


class GroupGraph:
    """Direct members per group, and their transitive expansion on demand.

    `available` False means the membership source itself was not read: every expansion
    is then incomplete, and says so.
    """

    def __init__(self, members: Iterable[GroupMembers], *, available: bool = True) -> None:
        self._users: dict[str, tuple[str, ...]] = {}
        self._nested: dict[str, tuple[str, ...]] = {}
        self._contacts: dict[str, tuple[str, ...]] = {}
        for entry in members:
            key = entry.group_id.lower()
            users = []
            nested = []
            contacts = []
            for member in entry.members:
                kind = member.object_type.lower()
                if kind == "user":
                    users.append(member.id.lower())
                elif kind == "group":
                    nested.append(member.id.lower())
                elif kind == "orgcontact":
                    contacts.append(member.id.lower())
            self._users[key] = tuple(users)
            self._nested[key] = tuple(nested)
            if contacts:
                self._contacts[key] = tuple(contacts)
        self.available = available
        self._cache: dict[str, Expansion] = {}

    def known(self, group_id: str) -> bool:
        return group_id.lower() in self._users

    def direct_users(self, group_id: str) -> tuple[str, ...]:
        return self._users.get(group_id.lower(), ())

    def direct_contacts(self, group_id: str) -> tuple[str, ...]:
        """Mail contacts (Graph orgContact ids) that are direct members: mail to the group
        reaches them, outside the organisation."""
        return self._contacts.get(group_id.lower(), ())

    def expand(self, group_id: str) -> Expansion:
        start = group_id.lower()
        cached = self._cache.get(start)
        if cached is not None:
            return cached
        users: set[str] = set()
        seen: set[str] = set()
        missing: list[str] = []
        pending = [start]
        while pending:
            current = pending.pop()
            if current in seen:
                continue  # a cycle, or a group reached twice: its members are already in
            seen.add(current)
            done = self._cache.get(current) if current != start else None
            if done is not None:
                # Reuse a finished expansion: it holds everything reachable from `current`.
                users |= done.users
                seen |= done.groups
                missing.extend(done.missing)
                continue
            if current not in self._users:
                missing.append(current)
                continue
            users.update(self._users[current])
            pending.extend(self._nested[current])
        if not self.available:
            missing.append("graph/groupMembers")
        result = Expansion(
            users=frozenset(users),
            groups=frozenset(seen),
            missing=tuple(dict.fromkeys(missing)),
        )
        self._cache[start] = result
        return result

    def path(self, group_id: str, account_id: str) -> tuple[str, ...] | None:
        """The shortest chain of groups from `group_id` down to one the account is a direct
        member of (both ends included, lower case), or None when it is not reached."""
        start, wanted = group_id.lower(), account_id.lower()
        parents: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if wanted in self._users.get(current, ()):
                chain = [current]
                while (parent := parents[chain[-1]]) is not None:
                    chain.append(parent)
                return tuple(reversed(chain))
            for nested in self._nested.get(current, ()):
                if nested not in parents:
                    parents[nested] = current
                    queue.append(nested)
        return None

    def contains(self, group_id: str, account_id: str) -> bool | None:
        """Whether the account is in the group (transitively); None when unknown."""
        expansion = self.expand(group_id)
        if account_id.lower() in expansion.users:
            return True
        return False if expansion.complete else None
