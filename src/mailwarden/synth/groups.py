"""Groups: All Staff > departments > teams > leads, nested several levels deep, with
exactly one membership cycle, plus partner, project and exception groups."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from mailwarden.synth import names
from mailwarden.synth.context import Context
from mailwarden.synth.model import Account, Group


@dataclass(slots=True)
class _Draft:
    display_name: str
    description: str
    mail_enabled: bool = True
    security_enabled: bool = True
    unified: bool = False
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupLayout:
    groups: tuple[Group, ...]
    all_staff: str
    partners: str
    exceptions: str
    teams: tuple[str, ...]  # team group ids, the ones mailboxes are delegated to
    cycle: tuple[str, str, str]


class _Builder:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.drafts: dict[str, _Draft] = {}

    def add(self, draft: _Draft) -> str:
        group_id = self.ctx.guid()
        self.drafts[group_id] = draft
        return group_id

    def freeze(self) -> tuple[Group, ...]:
        result = []
        for group_id, draft in self.drafts.items():
            slug = re.sub(r"[^a-z0-9]+", "-", draft.display_name.lower()).strip("-")
            nickname = self.ctx.alias(slug)
            result.append(Group(
                id=group_id, display_name=draft.display_name, description=draft.description,
                mail_nickname=nickname,
                mail=f"{nickname}@{self.ctx.domain}" if draft.mail_enabled else None,
                security_enabled=draft.security_enabled, unified=draft.unified,
                created=self.ctx.days_ago(30, 2_500), users=tuple(draft.users),
                groups=tuple(draft.groups), exo_sid=self.ctx.sid(),
            ))
        return tuple(result)


def _chunks(items: Sequence[str], ctx: Context) -> Iterable[list[str]]:
    start = 0
    while start < len(items):
        size = ctx.rng.randrange(4, 16)
        yield list(items[start:start + size])
        start += size


def build_groups(ctx: Context, staff: Sequence[Account], guests: Sequence[Account]) -> GroupLayout:
    """`staff` are members and leavers (leavers stay in their groups: nobody removed
    them). The exceptions group starts empty; `with_users` fills it once the accounts
    it holds are chosen."""
    builder = _Builder(ctx)
    rng = ctx.rng
    by_department: dict[str, list[str]] = {}
    for person in staff:
        by_department.setdefault(person.department or "Operations", []).append(person.id)
    department_ids: list[str] = []
    team_ids: list[str] = []
    teams_by_department: dict[str, list[str]] = {}
    for department, people in by_department.items():
        team_names = names.DEPARTMENTS[department][0]
        rng.shuffle(people)
        teams: list[str] = []
        for number, chunk in enumerate(_chunks(people, ctx)):
            name = team_names[number % len(team_names)]
            suffix = f" {number // len(team_names) + 1}" if number >= len(team_names) else ""
            team = _Draft(f"{department} - {name}{suffix}", f"{name} team, {department}",
                          users=chunk)
            if rng.random() < 0.2 and len(chunk) > 3:
                leads = builder.add(_Draft(f"{department} - {name}{suffix} Leads",
                                           f"Leads of {name}", users=chunk[:2]))
                team.groups.append(leads)
                team.users = chunk[2:]
            teams.append(builder.add(team))
        teams_by_department[department] = teams
        team_ids.extend(teams)
        department_ids.append(builder.add(_Draft(
            f"Dept - {department}", f"Everyone in {department}", groups=list(teams),
            users=[people[0]],
        )))
    all_staff = builder.add(_Draft("All Staff", "Every employee", groups=department_ids))

    largest = max(teams_by_department.values(), key=len)
    # Three teams of one department; a tiny tenant may need teams of several. Even the
    # smallest tenant (MIN_USERS) has more staff than two teams of 15 can hold.
    first, second, third = (largest if len(largest) >= 3 else team_ids)[:3]
    # Someone nested teams into each other to "share" access; it closes a loop.
    builder.drafts[first].groups.append(second)
    builder.drafts[second].groups.append(third)
    builder.drafts[third].groups.append(first)

    partner_guests = [guest.id for guest in guests[: max(2, len(guests) // 2)]]
    partners = builder.add(_Draft("External Partners", "Guests working with us",
                                  users=[*partner_guests, staff[0].id]))
    for number in range(max(2, len(staff) // 400)):
        members = [person.id for person in rng.sample(list(staff), min(len(staff), 8))]
        builder.add(_Draft(f"Project {names.LAST_NAMES[number % len(names.LAST_NAMES)]} "
                           f"{number + 1}", "Project team", security_enabled=False,
                           unified=True, users=members))
    exceptions = builder.add(_Draft(
        "Legacy Auth Exceptions", "Accounts that still need basic authentication",
        mail_enabled=False,
    ))
    return GroupLayout(groups=builder.freeze(), all_staff=all_staff, partners=partners,
                       exceptions=exceptions, teams=tuple(team_ids),
                       cycle=(first, second, third))


def with_users(layout: GroupLayout, group_id: str, users: Iterable[str]) -> GroupLayout:
    """`layout` with `users` added as direct members of one group."""
    groups = tuple(
        replace(group, users=group.users + tuple(users)) if group.id == group_id else group
        for group in layout.groups
    )
    return replace(layout, groups=groups)
