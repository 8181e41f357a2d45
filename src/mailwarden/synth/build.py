"""Assemble a whole tenant, in the generator's own terms, from a size and a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from mailwarden.synth import names, people, policies
from mailwarden.synth.access import Pools
from mailwarden.synth.apps import PlantedApp, plan_apps
from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.contacts import mail_contacts
from mailwarden.synth.context import Context
from mailwarden.synth.groups import build_groups, with_users
from mailwarden.synth.ids import cloud_sid, domain_sid
from mailwarden.synth.licensing import eligibilities, licensing, relicensed
from mailwarden.synth.mailboxes import plan_mailboxes
from mailwarden.synth.model import Account, Group, Tenant


def _shared(ctx: Context, count: int) -> list[Account]:
    candidates: list[tuple[str, str, str]] = []
    for department, (_teams, _titles, functions) in names.DEPARTMENTS.items():
        for function in functions:
            title = function.replace("-", " ").title()
            candidates.append((function, f"{department} - {title}", department))
            candidates += [(f"{function}.{region}", f"{department} - {title} ({region.upper()})",
                            department) for region in names.REGIONS]
    # The plain names (info@, hr@, invoices@) exist first; regional copies follow.
    plain = [c for c in candidates if "." not in c[0]]
    regional = [c for c in candidates if "." in c[0]]
    ctx.rng.shuffle(plain)
    ctx.rng.shuffle(regional)
    ordered = plain + regional
    result = []
    for index in range(count):
        nickname, display, department = ordered[index % len(ordered)]
        result.append(people.resource(ctx, "shared", nickname, display, department))
    return result


def _resources(ctx: Context, counts: people.Counts) -> list[Account]:
    rng = ctx.rng
    result = _shared(ctx, counts.shared)
    for _ in range(counts.rooms):
        office = rng.choice(names.OFFICES)
        floor, number, seats = rng.randrange(1, 12), rng.randrange(1, 40), rng.choice((4, 6, 8, 12))
        result.append(people.resource(
            ctx, "room", f"room-{office.lower()}-{floor}-{number:02d}",
            f"{office} Room {floor}.{number:02d} ({seats} seats)"))
    for _ in range(counts.equipment):
        office, kind = rng.choice(names.OFFICES), rng.choice(names.EQUIPMENT)
        slug = kind.lower().replace(" ", "")
        result.append(people.resource(ctx, "equipment", f"equip-{slug}-{office.lower()}",
                                      f"{kind} ({office})"))
    for business in ("ITSupport", "CustomerSuccess")[: counts.scheduling]:
        result.append(people.resource(ctx, "scheduling", f"{business}Bookings",
                                      f"{business} Bookings"))
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantIdentity:
    """What names a synthetic tenant: its id, organisation and verified domains."""

    tenant_id: str
    display_name: str
    verified_domains: tuple[str, ...]


def _identity(rng: random.Random) -> tuple[Context, str, tuple[str, str, str], str]:
    """The first draws of every tenant: its organisation, domains and tenant id."""
    organisation, slug = rng.choice(names.ORGANISATIONS)
    domain = f"{slug}.com"
    initial = f"{slug.replace('-', '')}.onmicrosoft.com"
    ctx = Context(rng, domain, initial)
    return ctx, organisation, (domain, f"{slug}.co.uk", initial), ctx.guid()


def tenant_identity(seed: int) -> TenantIdentity:
    """The id and domains `build_tenant` gives the tenant of `seed` (whatever its size or
    profile), without building it: an emulator lists many tenants before it builds any."""
    _, organisation, verified, tenant_id = _identity(random.Random(seed))
    return TenantIdentity(tenant_id=tenant_id, display_name=organisation,
                          verified_domains=verified)


def build_tenant(total: int, seed: int, profile: str | None = None) -> Tenant:
    """The tenant of `total` users for `seed` under a licence profile (synth.licensing);
    every profile of one seed draws the same random numbers."""
    licences = licensing(profile)
    rng = random.Random(seed)
    ctx, organisation, verified, tenant_id = _identity(rng)
    domain, initial = verified[0], verified[2]
    counts = people.Counts.for_total(total)
    staff = people.members_and_leavers(ctx, counts, domain_sid(rng))
    guests = people.guests(ctx, counts.guests)
    admins = people.administrators(ctx, counts.admins)
    service = people.service_accounts(ctx, counts.service)
    accounts = staff + guests + admins + service + _resources(ctx, counts)
    layout = build_groups(ctx, staff, guests)
    members = [p for p in staff if p.kind == "member"]
    leavers = [p for p in staff if p.kind == "leaver"]
    pools = Pools(
        active=tuple(members), leavers=tuple(leavers),
        leavers_with_mailbox=tuple(p for p in leavers if p.recipient_type),
        guests=tuple(guests), unlicensed=tuple(service), teams=layout.teams,
    )
    contacts = mail_contacts(tenant_id)
    plan = plan_mailboxes(ctx, accounts, layout, pools, contacts)
    layout = with_users(layout, layout.exceptions, plan.exceptions)
    breakglass = admins[-1]
    threshold, duration = rng.choice(((10, 60), (20, 60), (10, 30), (15, 60)))
    audit_disabled_org = rng.random() < 0.15  # rare, and a tenant-wide blind spot
    active = policies.role_assignments(ctx, admins[:-1], breakglass, members,
                                       plan.privileged_account)
    # Drawn under every profile, so that what follows draws the same numbers.
    conditional_access = policies.conditional_access(ctx, breakglass, layout.exceptions)
    relicensed_accounts = relicensed(plan.accounts, licences)
    ownerless_ids = {box.account_id for box in plan.ownerless}
    apps, scopes = plan_apps(
        tenant_id, organisation,
        [a.id for a in accounts if a.kind == "shared" and a.id in ownerless_ids],
        [p.id for p in members])
    return Tenant(
        tenant_id=tenant_id, display_name=organisation, default_domain=domain,
        initial_domain=initial, verified_domains=verified, exo_forest=ctx.forest,
        exo_domain_sid=ctx.exo_sid, accounts=relicensed_accounts,
        groups=layout.groups + _scope_groups(ctx, apps, scopes),
        ownerless=plan.ownerless,
        role_assignments=active,
        policies=conditional_access if licences.p1 else (),
        auth_policies=policies.authentication_policies(),
        default_auth_policy=policies.DEFAULT_AUTH_POLICY, transport_smtp_auth_disabled=True,
        audit_disabled_org=audit_disabled_org, bypass_account_ids=frozenset({plan.bypass_account}),
        lockout_threshold=threshold, lockout_duration_seconds=duration,
        custodians=plan.custodians, user_send_as=_deputies(ctx, members),
        profile=licences.profile, entra_p1=licences.p1, entra_p2=licences.p2,
        security_defaults=licences.security_defaults,
        role_eligibilities=eligibilities(
            licences, relicensed_accounts, plan.ownerless, active),
        contacts=contacts, apps=apps,
        # Drawn apart from the main stream, so that every other draw stays as it was.
        reject_direct_send=random.Random(f"direct-send-{tenant_id}").random() < 0.5,
    )


def _scope_groups(ctx: Context, apps: tuple[PlantedApp, ...],
                  scopes: dict[str, tuple[str, ...]]) -> tuple[Group, ...]:
    """The mail-enabled security groups the planted access policies name."""
    names = {group_id: f"App scope - {app.display_name}" for app in apps
             for _, group_id in app.policies}
    result = []
    for group_id, users in scopes.items():
        nickname = "appscope-" + names[group_id].split(" - ", 1)[1].lower().replace(" ", "-")
        result.append(Group(
            id=group_id, display_name=names[group_id],
            description="Mailboxes an application access policy names",
            mail_nickname=nickname, mail=f"{nickname}@{ctx.domain}", security_enabled=True,
            unified=False, created=COLLECTED_AT - timedelta(days=400), users=users,
            groups=(), exo_sid=cloud_sid(group_id)))
    return tuple(result)


def _deputies(ctx: Context, members: list[Account]) -> tuple[tuple[str, str], ...]:
    """A few staff may send as a manager: grants on licensed mailboxes, which no check of
    ownerless mailboxes may count."""
    pairs = []
    for _ in range(max(1, len(members) // 200)):
        manager, deputy = ctx.rng.sample(members, 2)
        pairs.append((manager.id, deputy.id))
    return tuple(pairs)
