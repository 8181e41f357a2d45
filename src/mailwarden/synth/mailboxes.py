"""Decisions per ownerless mailbox: which are hardened, which carry which problem."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from mailwarden.synth import access, posture, rules, upkeep
from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.context import Context
from mailwarden.synth.groups import GroupLayout
from mailwarden.synth.model import (
    Account,
    Custodian,
    Grant,
    InboxRule,
    MailContact,
    OwnerlessMailbox,
)

BASIC_AUTH_POLICY = "Allow Basic Auth for Devices"
#: The sign-in planted before Graph recorded successful sign-ins (1 December 2023).
OLD_SIGN_IN = datetime(2023, 9, 14, 8, 30, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxPlan:
    accounts: tuple[Account, ...]
    ownerless: tuple[OwnerlessMailbox, ...]
    custodians: tuple[Custodian, ...]
    exceptions: tuple[str, ...]  # account ids the legacy-auth block excludes
    bypass_account: str
    privileged_account: str


@dataclass(slots=True)
class _Roles:
    """Which mailbox plays which planted part (several parts may share a mailbox)."""

    privileged: str
    external_forwarding: set[str]
    internal_forwarding: str
    verified_forwarding: str
    contact_forwarding: str  # ForwardingAddress names a mail contact: mail leaves
    everyone: str
    all_staff: str
    partners: str
    bypass_target: str
    mfa_registered: str
    smtp_auth: set[str]
    basic_auth: str
    exceptions: set[str]
    leaver_grants: str
    inferable: str
    no_owner: str | None
    hostile_rules: set[str]
    ordinary_rules: set[str]
    disabled_rule: str
    hidden_rule: str
    deny_trap: str
    audit_off: str
    audit_legacy: str
    old_sign_in: str | None


def _cycle(ids: list[str], index: int) -> str:
    return ids[index % len(ids)]


def _roles(ctx: Context, ownerless: list[Account], clean: set[str]) -> _Roles:
    rng = ctx.rng
    loose = [a.id for a in ownerless if a.id not in clean]
    shared = [a.id for a in ownerless if a.kind == "shared" and a.id not in clean]
    rng.shuffle(shared)
    others = [a.id for a in ownerless if a.kind in {"room", "equipment"} and a.id not in clean]
    rooms = [a.id for a in ownerless if a.kind == "room" and a.id not in clean]
    services = {a.id for a in ownerless if a.kind == "service"}
    rule_count = max(3, len(loose) // 150)
    clean_shared = sorted(a.id for a in ownerless if a.kind == "shared" and a.id in clean)
    no_owner = rng.choice(others) if others else None
    exceptions = {_cycle(shared, 15), _cycle(shared, 16)} | services | set(rooms[:1])
    created = {a.id: a.created for a in ownerless}
    mfa_registered = _cycle(shared, 7)
    old_sign_in = next((box for box in shared if created[box] < OLD_SIGN_IN - timedelta(days=30)
                        and box != mfa_registered), None)
    internal, verified = _cycle(shared, 3), _cycle(shared, 4)
    # A mailbox of its own where there is one, so that the forwarding by name to a
    # colleague (internal) and to a verified address stay planted beside it.
    contact = next((box for box in shared[19 % len(shared):] + shared + loose
                    if box not in {internal, verified}), _cycle(shared, 19))
    # Not a mailbox whose forwarding is planted otherwise: its hidden rule forwards outside.
    hidden = next((box for box in shared[19 % len(shared):] + shared
                   if box not in {internal, verified, contact}), _cycle(shared, 19))
    return _Roles(
        privileged=_cycle(shared, 0), external_forwarding={_cycle(shared, 1), _cycle(shared, 2)},
        internal_forwarding=internal, verified_forwarding=verified, contact_forwarding=contact,
        everyone=_cycle(shared, 5), all_staff=_cycle(shared, 6), partners=_cycle(shared, 9),
        bypass_target=_cycle(shared, 10), mfa_registered=mfa_registered,
        smtp_auth={_cycle(shared, 8), _cycle(shared, 11)} | services,
        basic_auth=_cycle(shared, 12), exceptions=exceptions,
        leaver_grants=_cycle(shared, 13), inferable=_cycle(shared, 14), no_owner=no_owner,
        hostile_rules=set(rng.sample(loose, min(rule_count, len(loose)))),
        ordinary_rules=set(rng.sample(loose, min(max(2, rule_count // 2), len(loose)))),
        disabled_rule=rng.choice(loose), deny_trap=rng.choice(clean_shared),
        audit_off=_cycle(shared, 17), audit_legacy=_cycle(shared, 18), old_sign_in=old_sign_in,
        hidden_rule=hidden,
    )


def plan_mailboxes(ctx: Context, accounts: list[Account], layout: GroupLayout,
                   pools: access.Pools, contacts: tuple[MailContact, ...]) -> MailboxPlan:
    rng = ctx.rng
    people = {account.id: account for account in accounts}
    ownerless = [account for account in accounts if account.ownerless]
    shared = [a.id for a in ownerless if a.kind == "shared"]
    rooms = [a.id for a in ownerless if a.kind == "room"]
    clean = set(rng.sample(shared, max(2, round(len(shared) * 0.12))))
    clean |= set(rng.sample(rooms, max(1, round(len(rooms) * 0.25))))
    roles = _roles(ctx, ownerless, clean)
    it_staff = [p for p in pools.active if p.department == "IT"] or list(pools.active)
    bypass = rng.choice(it_staff)

    updated: dict[str, Account] = {}
    configs: list[OwnerlessMailbox] = []
    custodians: list[Custodian] = []
    for mailbox in ownerless:
        team = mailbox.department or ("Facilities" if mailbox.kind in {"room", "equipment"}
                                      else "Operations")
        if mailbox.id in clean:
            account = posture.hardened_account(mailbox)
            grants = access.clean_grants(ctx, pools, frozenset({bypass.id}))
            if mailbox.id == roles.deny_trap and pools.leavers:
                grants += (access.user("FullAccess", rng.choice(pools.leavers), deny=True),)
            config = OwnerlessMailbox(
                account_id=mailbox.id, settings=posture.hardened_settings(ctx), grants=grants,
                rules=(), system_rows=mailbox.created.year < 2020, hardened=True)
            candidates = access.direct_custodian_candidates(grants, people)
            custodians.append(access.custodian(ctx, mailbox, team, candidates, people, pools))
        else:
            account, config, has_custodian = _loose(ctx, mailbox, roles, layout, pools, people,
                                                    bypass, contacts)
            if has_custodian:
                candidates = access.direct_custodian_candidates(config.grants, people)
                custodians.append(access.custodian(ctx, mailbox, team, candidates, people, pools))
        updated[account.id] = account
        configs.append(config)
    changed, configs = upkeep.plant({**people, **updated}, configs, pools)
    updated.update(changed)
    accounts_out = tuple(updated.get(account.id, account) for account in accounts)
    return MailboxPlan(accounts=accounts_out, ownerless=tuple(configs),
                       custodians=tuple(custodians), exceptions=tuple(sorted(roles.exceptions)),
                       bypass_account=bypass.id, privileged_account=roles.privileged)


def _loose(ctx: Context, mailbox: Account, roles: _Roles, layout: GroupLayout,
           pools: access.Pools, people: dict[str, Account], bypass: Account,
           contacts: tuple[MailContact, ...]) -> tuple[Account, OwnerlessMailbox, bool]:
    rng = ctx.rng
    box = mailbox.id
    account = posture.loose_account(ctx, mailbox)
    settings = posture.loose_settings(ctx, mailbox)
    grants = list(access.loose_grants(ctx, pools, mailbox))
    if box == roles.mfa_registered:
        # Someone registered a passkey in the authenticator app on the shared account, after
        # an admin reset its password so the team could sign in to it: a passkey alone is a
        # strong method.
        reset = ctx.moment(account.created + timedelta(days=2), COLLECTED_AT - timedelta(days=1))
        used = ctx.moment(reset, COLLECTED_AT)
        account = replace(account, enabled=True, mfa_methods=("passKeyDeviceBoundAuthenticator",),
                          password_changed=reset, last_sign_in=used, last_success=used)
    if box == roles.old_sign_in:
        # Someone signed in to the shared account in 2023, before Graph recorded successful
        # sign-ins: the files show the attempt and no success, which cannot be judged.
        account = replace(account, last_sign_in=OLD_SIGN_IN, last_success=OLD_SIGN_IN,
                          last_non_interactive=None)
    if box == roles.audit_off:
        settings = replace(settings, audit_enabled=False)
    if box == roles.audit_legacy:
        settings = replace(settings, **posture.legacy_audit())
    if box in roles.exceptions and account.kind == "room":
        account = replace(account, enabled=True)
    if box == roles.basic_auth or account.kind == "service":
        account = replace(account, auth_policy=BASIC_AUTH_POLICY)
    if box in roles.smtp_auth:
        settings = replace(settings, smtp_auth_disabled=False)
    if box in roles.external_forwarding:
        target = rules.external_target(ctx).address
        settings = replace(settings, forwarding_smtp=f"smtp:{target}",
                           deliver_and_forward=rng.random() < 0.5)
    if box == roles.internal_forwarding:
        colleague = rng.choice(pools.active)
        settings = replace(settings, forwarding_address=colleague.exo_name,
                           deliver_and_forward=True)
    if box == roles.verified_forwarding:
        colleague = rng.choice(pools.active)
        settings = replace(settings, forwarding_smtp=f"smtp:{colleague.upn}",
                           deliver_and_forward=True)
    if box == roles.no_owner:
        inferable = set(access.direct_custodian_candidates(grants, people))
        grants = [g for g in grants if g.right != "FullAccess" or g.principal not in inferable]
    grants += _planted_grants(ctx, box, roles, layout, pools, bypass)
    rule_list: list[InboxRule] = []
    if box in roles.hostile_rules:
        rule_list += rules.hostile_rules(ctx, mailbox)
    if box in roles.ordinary_rules:
        rule_list += rules.ordinary_rules(ctx, mailbox, rng.choice(pools.active))
    if box == roles.disabled_rule:
        rule_list.append(rules.disabled_hiding_rule(ctx))
    if box == roles.hidden_rule:
        rule_list += rules.hidden_rules(mailbox)
    if box == roles.contact_forwarding and contacts:
        # Chosen by position, not drawn: the random stream stays as it was.
        contact = contacts[int(box[:8], 16) % len(contacts)]
        settings = replace(settings, forwarding_address=contact.name, deliver_and_forward=True)
        rule_list.append(rules.contact_forwarding_rule(contact))
    has_custodian = box not in {roles.no_owner, roles.inferable} and rng.random() < 0.85
    config = OwnerlessMailbox(
        # Exchange keeps one entry per trustee and right, however often it was granted.
        account_id=box, settings=settings, grants=tuple(dict.fromkeys(grants)),
        rules=tuple(rule_list),
        system_rows=mailbox.created.year < 2020, hardened=False)
    return account, config, has_custodian


def _planted_grants(ctx: Context, box: str, roles: _Roles, layout: GroupLayout,
                    pools: access.Pools, bypass: Account) -> list[Grant]:
    rng = ctx.rng
    grants: list[Grant] = []
    if box == roles.everyone:
        grants.append(Grant(right="FullAccess", principal_kind="special", principal="Everyone"))
    if box == roles.all_staff:
        grants.append(Grant(right="FullAccess", principal_kind="group",
                            principal=layout.all_staff))
    if box == roles.partners:
        grants.append(Grant(right="FullAccess", principal_kind="group", principal=layout.partners))
        if pools.guests:
            grants.append(access.user("SendAs", rng.choice(pools.guests)))
    if box == roles.bypass_target:
        grants.append(access.user("FullAccess", bypass))
    if box == roles.inferable:
        grants.append(access.user("FullAccess", rng.choice(pools.active)))
    if box == roles.leaver_grants and pools.leavers:
        grants.append(access.user("FullAccess", rng.choice(pools.leavers)))
        grants.append(access.user("SendAs", rng.choice(pools.leavers)))
        holders = pools.leavers_with_mailbox or pools.leavers
        grants.append(access.user("SendOnBehalf", rng.choice(holders)))
        grants.append(Grant(right="FullAccess", principal_kind="sid", principal=ctx.sid()))
    return grants
