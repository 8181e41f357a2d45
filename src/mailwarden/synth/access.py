"""Who was given access to each ownerless mailbox, and who answers for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailwarden.synth.context import Context
from mailwarden.synth.model import Account, Custodian, Grant, Right


@dataclass(frozen=True, slots=True, kw_only=True)
class Pools:
    """The people and groups grants are drawn from."""

    active: tuple[Account, ...]  # enabled, licensed members of staff
    leavers: tuple[Account, ...]  # disabled former staff
    leavers_with_mailbox: tuple[Account, ...]
    guests: tuple[Account, ...]
    unlicensed: tuple[Account, ...]  # enabled accounts without a licence (integrations)
    teams: tuple[str, ...]  # group ids of mail-enabled team groups


def user(right: Right, account: Account, *, deny: bool = False) -> Grant:
    return Grant(right=right, principal_kind="user", principal=account.id, deny=deny)


def clean_grants(ctx: Context, pools: Pools, avoid: frozenset[str]) -> tuple[Grant, ...]:
    """Only enabled, licensed members of staff, granted directly."""
    people = [person for person in ctx.rng.sample(pools.active, min(6, len(pools.active)))
              if person.id not in avoid][: ctx.rng.randrange(1, 4)]
    grants = [user("FullAccess", person) for person in people]
    grants += [user("SendAs", person) for person in people if ctx.rng.random() < 0.4]
    if ctx.rng.random() < 0.3:
        grants.append(user("SendOnBehalf", people[0]))
    return tuple(grants)


def _delegate(ctx: Context, pools: Pools) -> Account:
    """Mostly current staff; sometimes someone who left, a guest, or an integration."""
    draw = ctx.rng.random()
    if draw < 0.12 and pools.leavers:
        return ctx.rng.choice(pools.leavers)
    if draw < 0.15 and pools.guests:
        return ctx.rng.choice(pools.guests)
    if draw < 0.17 and pools.unlicensed:
        return ctx.rng.choice(pools.unlicensed)
    return ctx.rng.choice(pools.active)


def loose_grants(ctx: Context, pools: Pools, mailbox: Account) -> tuple[Grant, ...]:
    rng = ctx.rng
    if mailbox.kind == "leaver":
        return (user("FullAccess", rng.choice(pools.active)),) if rng.random() < 0.6 else ()
    if mailbox.kind in {"service", "scheduling"}:
        return (user("FullAccess", rng.choice(pools.active)),) if rng.random() < 0.5 else ()
    count = rng.randrange(1, 6) if mailbox.kind == "shared" else rng.randrange(0, 3)
    people = {person.id: person for person in (_delegate(ctx, pools) for _ in range(count))}
    grants = [user("FullAccess", person) for person in people.values()]
    grants += [user("SendAs", person) for person in people.values() if rng.random() < 0.4]
    if mailbox.kind == "shared":
        for team in rng.sample(pools.teams, rng.choice((0, 0, 1, 1, 2))):
            grants.append(Grant(right="FullAccess", principal_kind="group", principal=team))
            if rng.random() < 0.2:
                grants.append(Grant(right="SendAs", principal_kind="group", principal=team))
        if rng.random() < 0.2:
            holders = pools.leavers_with_mailbox if rng.random() < 0.3 else pools.active
            grants.append(user("SendOnBehalf", rng.choice(holders or pools.active)))
    if mailbox.created.year < 2021 and rng.random() < 0.08:
        # The grant of an account that was deleted: only its SID is left.
        grants.append(Grant(right="FullAccess", principal_kind="sid", principal=ctx.sid()))
        if rng.random() < 0.3:
            grants.append(Grant(right="SendAs", principal_kind="sid", principal=ctx.sid()))
    return tuple(grants)


def direct_custodian_candidates(grants: Sequence[Grant], people: dict[str, Account]) -> list[str]:
    """Account ids a custodian can be inferred from: enabled, licensed members of staff
    holding FullAccess directly (allowed, explicit)."""
    found = []
    for grant in grants:
        if grant.right != "FullAccess" or grant.principal_kind != "user":
            continue
        if grant.deny or grant.inherited:
            continue
        person = people[grant.principal]
        if person.enabled and person.licensed and person.user_type == "Member":
            found.append(person.id)
    return found


def custodian(ctx: Context, mailbox: Account, team: str, candidates: Sequence[str],
              people: dict[str, Account], pools: Pools) -> Custodian:
    chosen = people[candidates[0]] if candidates and ctx.rng.random() < 0.7 else (
        ctx.rng.choice(pools.active))
    return Custodian(mailbox=mailbox.upn.lower(), custodian=chosen.upn.lower(), team=team)
