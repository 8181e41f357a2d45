"""Accounts: staff, leavers, guests, admins, service accounts and the accounts behind
shared and resource mailboxes, in realistic proportions."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from mailwarden.synth import names
from mailwarden.synth.constants import COLLECTED_AT, SKUS
from mailwarden.synth.context import GUID_NAMES_SINCE, Context
from mailwarden.synth.model import Account, AccountKind

EPOCH = datetime(2015, 1, 1, tzinfo=COLLECTED_AT.tzinfo)
STRONG_METHOD_SETS = (
    ("microsoftAuthenticatorPush", "softwareOneTimePasscode"),
    ("microsoftAuthenticatorPush",),
    ("mobilePhone", "microsoftAuthenticatorPush"),
    ("windowsHelloForBusiness", "microsoftAuthenticatorPush"),
    ("fido2SecurityKey", "microsoftAuthenticatorPush"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    """How many accounts of each kind a tenant of `total` users holds."""

    total: int
    shared: int
    rooms: int
    equipment: int
    scheduling: int
    guests: int
    recent_leavers: int
    old_leavers: int
    service: int
    admins: int

    @property
    def members(self) -> int:
        others = (self.shared + self.rooms + self.equipment + self.scheduling + self.guests
                  + self.recent_leavers + self.old_leavers + self.service + self.admins + 1)
        return self.total - others

    @classmethod
    def for_total(cls, total: int) -> Counts:
        return cls(
            total=total,
            shared=max(4, round(total / 20)),
            rooms=max(2, round(total / 60)),
            equipment=max(1, round(total / 300)),
            scheduling=1 if total < 2_000 else 2,
            guests=max(3, round(total * 0.04)),
            recent_leavers=max(4, round(total * 0.015)),
            old_leavers=max(4, round(total * 0.03)),
            service=max(2, round(total * 0.002)),
            admins=2 + total // 10_000,
        )


def _account(ctx: Context, *, kind: AccountKind, nickname: str, upn: str, created: datetime,
             **fields: Any) -> Account:
    account_id = ctx.guid()
    values: dict[str, Any] = {
        "given_name": None, "surname": None, "mail": None, "enabled": True, "skus": (),
        "user_type": "Member", "last_sign_in": None, "last_non_interactive": None,
        "last_success": None, "department": None, "job_title": None, "left_at": None,
        "onprem_sid": None, "mfa_methods": (), "guest_state": None, "recipient_type": None,
        "remote_powershell": True, "auth_policy": None,
        "password_changed": created + timedelta(seconds=ctx.rng.randrange(3, 90)),
    }
    values.update(fields)
    return Account(
        id=account_id, upn=upn, mail_nickname=nickname, kind=kind, created=created,
        exo_name=account_id if created >= GUID_NAMES_SINCE else nickname,
        exo_guid=ctx.guid(), exchange_guid=ctx.guid(), exo_sid=ctx.sid(), **values,
    )


def _person(ctx: Context, department: str, ad_sid: str,
            left_at: datetime | None = None) -> Account:
    """A member of staff; with `left_at`, one who left then and whose account is disabled."""
    rng = ctx.rng
    given, surname = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    nickname = ctx.alias(f"{given}.{surname}".lower())
    upn = f"{nickname}@{ctx.domain}"
    active_until = left_at or COLLECTED_AT
    created = ctx.moment(EPOCH, active_until - timedelta(days=120))
    draw = rng.random()
    sku = "SPE_E3" if draw < 0.7 else "SPE_E5" if draw < 0.85 else (
        "ENTERPRISEPACK" if draw < 0.95 else "STANDARDPACK")
    last = ctx.moment(active_until - timedelta(days=10), active_until)
    strong = rng.random() < 0.93
    return _account(
        ctx, kind="member" if left_at is None else "leaver", nickname=nickname, upn=upn,
        created=created, given_name=given, surname=surname, mail=upn, skus=(SKUS[sku],),
        department=department, job_title=rng.choice(names.DEPARTMENTS[department][1]),
        left_at=left_at, enabled=left_at is None, recipient_type="UserMailbox",
        display_name=f"{given} {surname}", password_changed=ctx.moment(created, last),
        last_sign_in=last, last_success=last,
        last_non_interactive=ctx.moment(last - timedelta(days=3), active_until),
        onprem_sid=f"{ad_sid}-{rng.randrange(1_100, 9_999_999)}" if rng.random() < 0.7 else None,
        mfa_methods=rng.choice(STRONG_METHOD_SETS) if strong else rng.choice(((), ("email",))),
    )


def members_and_leavers(ctx: Context, counts: Counts, ad_sid: str) -> list[Account]:
    """Staff spread over departments, then leavers, all disabled. Some recent leavers
    keep their licence while a manager reviews their mail; for the others the licence was
    removed and the mailbox stays, unlicensed, for Exchange's 30 days of grace. Old
    leavers have neither licence nor mailbox, but their accounts (and grants) remain."""
    departments = tuple(names.DEPARTMENTS)
    cumulative = list(itertools.accumulate((12, 6, 16, 8, 20, 8, 4, 10, 16)))

    def department() -> str:
        return departments[bisect.bisect(cumulative, ctx.rng.random() * cumulative[-1])]

    people = [_person(ctx, department(), ad_sid) for _ in range(counts.members)]
    for index in range(counts.recent_leavers):
        if index % 2:
            people.append(_person(ctx, department(), ad_sid, ctx.days_ago(31, 60)))
            continue
        leaver = _person(ctx, department(), ad_sid, ctx.days_ago(2, 29))
        people.append(replace(leaver, skus=()))
    for _ in range(counts.old_leavers):
        leaver = _person(ctx, department(), ad_sid, ctx.days_ago(200, 1_000))
        people.append(replace(leaver, skus=(), recipient_type=None))
    return people


def guests(ctx: Context, count: int) -> list[Account]:
    rng = ctx.rng
    result = []
    for _ in range(count):
        given, surname = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        external = f"{given}.{surname}@{rng.choice(names.PARTNER_DOMAINS)}".lower()
        nickname = ctx.alias(external.replace("@", "_"))
        created = ctx.days_ago(10, 1_500)
        pending = rng.random() < 0.2
        last = None if pending else ctx.moment(created, COLLECTED_AT)
        result.append(_account(
            ctx, kind="guest", nickname=nickname, created=created,
            upn=f"{nickname}#EXT#@{ctx.initial_domain}", display_name=f"{given} {surname}",
            given_name=given, surname=surname, mail=external, user_type="Guest",
            guest_state="PendingAcceptance" if pending else "Accepted",
            last_sign_in=last, last_success=last,
        ))
    return result


def administrators(ctx: Context, count: int) -> list[Account]:
    """Cloud-only admin accounts without licence or mailbox, and one break-glass account."""
    result = []
    for _ in range(count):
        given, surname = ctx.rng.choice(names.FIRST_NAMES), ctx.rng.choice(names.LAST_NAMES)
        nickname = ctx.alias(f"adm-{given}.{surname}".lower())
        last = ctx.days_ago(0, 5)
        result.append(_account(
            ctx, kind="admin", nickname=nickname, upn=f"{nickname}@{ctx.initial_domain}",
            created=ctx.days_ago(100, 2_000), display_name=f"Admin {given} {surname}",
            given_name=given, surname=surname, department="IT", job_title="Administrator",
            last_sign_in=last, last_success=last, mfa_methods=("fido2SecurityKey",),
        ))
    nickname = ctx.alias("breakglass01")
    result.append(_account(
        ctx, kind="breakglass", nickname=nickname, upn=f"{nickname}@{ctx.initial_domain}",
        created=ctx.days_ago(900, 2_000), display_name="Emergency Access 01",
        mfa_methods=("fido2SecurityKey",),
    ))
    return result


def service_accounts(ctx: Context, count: int) -> list[Account]:
    """Unlicensed user mailboxes that devices and integrations sign in to."""
    result = []
    for index in range(count):
        base, title = names.SERVICE_ACCOUNTS[index % len(names.SERVICE_ACCOUNTS)]
        nickname = ctx.alias(base)
        created = ctx.days_ago(60, 2_500)
        last = ctx.days_ago(0, 2)
        result.append(_account(
            ctx, kind="service", nickname=nickname, upn=f"{nickname}@{ctx.domain}",
            mail=f"{nickname}@{ctx.domain}", created=created, display_name=title,
            recipient_type="UserMailbox", last_non_interactive=last, last_sign_in=last,
            last_success=last,
        ))
    return result


def resource(ctx: Context, kind: AccountKind, nickname: str, display_name: str,
             department: str | None = None) -> Account:
    """The account behind a shared, room, equipment or scheduling mailbox: created by
    Exchange with a random password, sign-in blocked, never used."""
    recipient_type = {
        "shared": "SharedMailbox", "room": "RoomMailbox",
        "equipment": "EquipmentMailbox", "scheduling": "SchedulingMailbox",
    }[kind]
    nickname = ctx.alias(nickname)
    upn = f"{nickname}@{ctx.domain}"
    return _account(
        ctx, kind=kind, nickname=nickname, upn=upn, mail=upn, display_name=display_name,
        created=ctx.moment(EPOCH, COLLECTED_AT - timedelta(days=7)), enabled=False,
        recipient_type=recipient_type, department=department,
    )
