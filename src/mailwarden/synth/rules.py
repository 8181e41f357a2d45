"""Inbox rules: the ones attackers leave behind (forward out, delete, hide) and the
ordinary ones people make, so that a detector has to tell them apart; and the hidden ones
(Get-InboxRule shows them only with -IncludeHidden): an intruder's, set through MAPI so
that Outlook and a plain Get-InboxRule never list it, and Exchange's own Junk E-mail Rule.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from mailwarden.synth import names
from mailwarden.synth.context import Context
from mailwarden.synth.ids import derived_guid, legacy_dn
from mailwarden.synth.model import Account, InboxRule, MailContact, RuleTarget


def internal_target(ctx: Context, person: Account) -> RuleTarget:
    """How Exchange shows a recipient picked from the address book in ForwardTo: by its
    mailbox's legacyExchangeDN."""
    # Drawn and dropped: the DN once was random, and every later value of a seed's tenant
    # follows from the stream, so the draw stays for the same seed to give the same tenant.
    ctx.rng.getrandbits(128)
    return RuleTarget(display_name=person.display_name, address=person.upn,
                      internal_dn=legacy_dn(person.exchange_guid, person.mail_nickname))


def contact_target(contact: MailContact) -> RuleTarget:
    """A mail contact picked from the address book: shown by its legacyExchangeDN like a
    mailbox, although its mail leaves the organisation."""
    return RuleTarget(display_name=contact.display_name, address=contact.external_address,
                      internal_dn=legacy_dn(contact.exo_guid, contact.alias))


def contact_forwarding_rule(contact: MailContact) -> InboxRule:
    """A rule that copies invoices to an outside accountant chosen from the address book.
    Its identity is derived, not drawn, to leave the random stream as it was."""
    identity = int(derived_guid(contact.id, "rule").replace("-", "")[:16], 16)
    return InboxRule(name="Invoices to accountant", enabled=True, priority=3,
                     rule_identity=identity, subject_contains=("invoice",),
                     forward_to=(contact_target(contact),))


def external_target(ctx: Context) -> RuleTarget:
    return _external(ctx.rng)


def _external(rng: random.Random) -> RuleTarget:
    given = rng.choice(names.FIRST_NAMES).lower()
    address = f"{given}.{rng.randrange(70, 99)}{rng.randrange(10, 99)}@" \
        f"{rng.choice(names.FREEMAIL_DOMAINS)}"
    return RuleTarget(display_name=address, address=address)


def folder(mailbox: Account, name: str) -> str:
    return f"{mailbox.exo_name}:\\{name}"


def _rule(ctx: Context, name: str, priority: int, **fields: Any) -> InboxRule:
    return InboxRule(name=name, enabled=True, priority=priority,
                     rule_identity=ctx.rng.getrandbits(64), **fields)


def hostile_rules(ctx: Context, mailbox: Account) -> tuple[InboxRule, ...]:
    """One or two rules that forward mail out or hide it (SPEC: external-forwarding,
    hiding-inbox-rule). Names are the short, meaningless ones intruders pick."""
    makers: Sequence[Callable[[int], InboxRule]] = (
        lambda p: _rule(ctx, ".", p, forward_to=(external_target(ctx),),
                        subject_contains=("invoice", "payment")),
        lambda p: _rule(ctx, "..", p, redirect_to=(external_target(ctx),)),
        lambda p: _rule(ctx, "sync", p, forward_as_attachment_to=(external_target(ctx),)),
        lambda p: _rule(ctx, "x", p, delete=True, stop_processing=True,
                        subject_contains=("password", "sign-in", "security alert")),
        lambda p: _rule(ctx, "rss", p, mark_as_read=True,
                        move_to_folder=folder(mailbox, "RSS Feeds")),
        lambda p: _rule(ctx, "History", p, move_to_folder=folder(mailbox, "Conversation History"),
                        from_contains=("microsoft.com",)),
        lambda p: _rule(ctx, "a", p, soft_delete=True, from_contains=("helpdesk", "it-support")),
        lambda p: _rule(ctx, "Archive old", p, mark_as_read=True,
                        move_to_folder=folder(mailbox, "Archive")),
    )
    chosen = ctx.rng.sample(range(len(makers)), ctx.rng.choice((1, 1, 2)))
    return tuple(makers[index](priority) for priority, index in enumerate(chosen, start=1))


def ordinary_rules(ctx: Context, mailbox: Account, colleague: Account) -> tuple[InboxRule, ...]:
    """Rules that file or share mail inside the organisation; none of them hides mail."""
    filing = (
        _rule(ctx, "Invoices to folder", 2, move_to_folder=folder(mailbox, "Invoices 2026"),
              subject_contains=("invoice",)),
        _rule(ctx, "Newsletters", 2, move_to_folder=folder(mailbox, "Newsletters"),
              from_contains=("newsletter",)),
    )
    sharing = _rule(ctx, "Copy to team lead", 1, forward_to=(internal_target(ctx, colleague),),
                    subject_contains=("urgent",))
    return (sharing, ctx.rng.choice(filing))


def disabled_hiding_rule(ctx: Context) -> InboxRule:
    """A hiding rule someone turned off: it acts on nothing, so it hides nothing."""
    return InboxRule(name="Clean up", enabled=False, priority=2,
                     rule_identity=ctx.rng.getrandbits(64), delete=True,
                     from_contains=("alerts",))


#: The rule Exchange keeps for the mailbox's junk e-mail settings: hidden, and not the
#: owner's, so it hides nothing (the name tools leave out of hidden-rule reports).
JUNK_EMAIL_RULE = "Junk E-mail Rule"


def hidden_rules(mailbox: Account) -> tuple[InboxRule, ...]:
    """An intruder's hidden rule that sends every message out and deletes it, beside the
    mailbox's own hidden Junk E-mail Rule. Drawn from a stream of their own, so that adding
    them leaves the rest of the tenant as it was."""
    rng = random.Random(f"hidden-rules:{mailbox.id}")
    intruder = InboxRule(name="MailSync", enabled=True, priority=9, hidden=True,
                         rule_identity=rng.getrandbits(64), forward_to=(_external(rng),),
                         delete=True, stop_processing=True)
    junk = InboxRule(name=JUNK_EMAIL_RULE, enabled=True, priority=10, hidden=True,
                     rule_identity=rng.getrandbits(64),
                     move_to_folder=folder(mailbox, "Junk Email"))
    return (intruder, junk)
