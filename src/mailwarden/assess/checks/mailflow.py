"""Where the mailbox's mail goes: forwarding outside the organisation, and inbox rules
that hide what arrives. Forwarding targets are resolved by `assess.forwarding`.

The rules include hidden ones (collected with Get-InboxRule -IncludeHidden). Exchange's own
hidden rules, the Junk E-mail Rule and the Microsoft.Exchange.OOF.* out-of-office rules,
file junk and answer while away: they hide nothing, so hiding-inbox-rule passes over them
(public hidden-rule reports leave them out by these names, e.g. CIPP's
Remove-CIPPMailboxRule). Forwarding is judged on every rule: those rules never forward, so
one that does is not what its name says.
"""

from __future__ import annotations

import re

from mailwarden.assess.checks.base import (
    MAILBOXES,
    USERS,
    Check,
    Verdict,
    errored,
    failed,
    passed,
    quoted,
)
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.assess.forwarding import Destination, ForwardingResolver, Reach
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, Remediation, Scope, Severity
from mailwarden.model.findings.evidence import (
    ExternalForwarding,
    ForwardedTo,
    HidingInboxRules,
    HidingRule,
    UnresolvedTarget,
)
from mailwarden.model.inventory import InboxRule

RULES = "exo/Get-InboxRule"
#: Exchange's own rules, by name (lower case): the junk e-mail rule, and the prefix of the
#: out-of-office rules (Microsoft's "Understand and troubleshoot Out of Office (OOF)
#: replies" lists Microsoft.Exchange.OOF.KnownExternalSenders.Global and
#: Microsoft.Exchange.OOF.AllExternalSenders.Global).
SYSTEM_RULES = frozenset({"junk e-mail rule"})
SYSTEM_RULE_PREFIX = "microsoft.exchange.oof."
#: `"Name" [SMTP:a@b]` or `"Name" [EX:/o=ExchangeLabs/...]`, as Get-InboxRule writes them.
_TARGET = re.compile(r"\[(?P<kind>SMTP|EX):(?P<value>[^\]]+)\]", re.IGNORECASE)
#: Folders nobody looks at: a rule that moves mail there hides it.
OBSCURE_FOLDERS = frozenset(
    {
        "rss feeds",
        "rss subscriptions",
        "conversation history",
        "archive",
        "junk email",
        "deleted items",
        "sync issues",
        "notes",
    }
)


def target_address(target: str) -> str | None:
    """The SMTP address a rule target sends to; None for an internal (EX) recipient."""
    match = _TARGET.search(target)
    if match:
        return (
            match.group("value").strip().lower() if match.group("kind").upper() == "SMTP" else None
        )
    text = target.strip().strip('"').lower()
    return text.removeprefix("smtp:") if "@" in text else None


def _enabled(rule: InboxRule) -> bool:
    return rule.enabled is not False  # Exchange always says; unknown counts as running


def is_system_rule(rule: InboxRule) -> bool:
    name = (rule.name or "").strip().lower()
    return name in SYSTEM_RULES or name.startswith(SYSTEM_RULE_PREFIX)


EXTERNAL = CheckInfo(
    id="external-forwarding",
    title="Mail of the ownerless mailbox is forwarded outside the organisation",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Neither the mailbox's forwarding settings nor its enabled inbox rules send mail "
    "outside the verified domains: every target is a mailbox or group of the tenant, or an "
    "address in a verified domain that no mail contact or mail user carries.",
    fails="ForwardingSmtpAddress / ForwardingAddress, or an enabled inbox rule (forward, "
    "forward as attachment, redirect), sends mail outside the verified domains, directly or "
    "through a mail contact, mail user or group member whose external address is outside. A "
    "target that cannot be resolved (nothing answers to it, or Get-MailContact / "
    "Get-MailUser was not collected) is an error, never a pass.",
    needs=("exo/Get-Mailbox",),
    # tenant: the verified domains; users: internal targets; contacts, mail users and groups:
    # where a target named by its recipient name really sends mail.
    uses=(RULES, "tenant", USERS, "exo/Get-MailContact", "exo/Get-MailUser", "graph/groups",
          "graph/groupMembers"),
    fields=("tenant:verifiedDomains",),
    controls=mapped("CIS M365 6.0.0 6.2.1", "CISA SCuBA MS.EXO.1.1v2"),
    remediation=Remediation(
        summary="Remove the forwarding and the forwarding rules; block automatic forwarding to "
        "remote domains.",
        powershell=(
            "Set-Mailbox -Identity '<upn>' -ForwardingSmtpAddress $null -ForwardingAddress $null "
            "-DeliverToMailboxAndForward $false",
            "Set-RemoteDomain -Identity Default -AutoForwardEnabled $false",
        ),
        graph=(
            "GET https://graph.microsoft.com/v1.0/users/<id>/mailFolders/inbox/messageRules",
            "DELETE https://graph.microsoft.com/v1.0/users/<id>/mailFolders/inbox/messageRules/"
            "{messageRule-id}",
        ),
        note="Mailbox forwarding (ForwardingSmtpAddress) has no Graph API; inbox rules do.",
    ),
    risk="Every message to the mailbox (invoices, HR cases, password resets) leaves the "
    "organisation without anyone seeing it.",
)


def destinations(facts: MailboxFacts, context: Context) -> list[Destination]:
    """Every place the mailbox's forwarding settings and enabled inbox rules send mail."""
    mailbox = facts.subject.mailbox
    resolver = ForwardingResolver(context.index)
    found = []
    if mailbox.forwarding_smtp_address:
        smtp = mailbox.forwarding_smtp_address
        found.append(resolver.smtp_address("ForwardingSmtpAddress", smtp))
    if mailbox.forwarding_address:
        found.append(resolver.recipient("ForwardingAddress", mailbox.forwarding_address))
    for rule in facts.subject.rules:
        if not _enabled(rule):
            continue
        for target in rule.forward_to + rule.forward_as_attachment_to + rule.redirect_to:
            found.append(resolver.rule_target(f"inbox rule '{rule.name}'", target, rule.identity))
    return found


def _shown(item: Destination, address: str) -> str:
    return f"{item.where} -> {address}" + (f" ({item.via})" if item.via else "")


def external(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    mailbox = facts.subject.mailbox
    found = destinations(facts, context)
    if not context.index.verified_domains and any(d.reach is not Reach.INTERNAL for d in found):
        return errored(
            f"The verified domains are unknown, so {upn}'s forwarding cannot be judged.",
            targets=[d.target for d in found],
        )
    outside = [(d, a) for d in found if d.reach is Reach.EXTERNAL for a in d.outside]
    unknown = [d for d in found if d.reach is Reach.UNKNOWN]
    evidence = ExternalForwarding(
        external=tuple(
            ForwardedTo(where=d.where, address=a, via=d.via, rule=d.rule) for d, a in outside
        ),
        forwarding_smtp_address=mailbox.forwarding_smtp_address,
        forwarding_address=mailbox.forwarding_address,
        deliver_to_mailbox_and_forward=mailbox.deliver_to_mailbox_and_forward,
        unresolved_forwarding_address=tuple(
            d.target for d in unknown if d.where == "ForwardingAddress"
        ),
        unresolved=tuple(
            UnresolvedTarget(where=d.where, target=d.target, reason=d.reason or "unknown")
            for d in unknown
        ),
    ).as_evidence()
    if outside:
        shown = "; ".join(_shown(d, a) for d, a in outside[:5])
        return failed(f"Mail of {upn} is forwarded outside the organisation: {shown}.", evidence)
    if unknown:
        shown = "; ".join(f"{d.where} '{d.target}' ({d.reason})" for d in unknown[:3])
        return errored(
            f"Where the forwarding of {upn} sends mail is not known: {shown}.", evidence
        )
    if not context.snapshot.available(RULES):
        return errored(
            f"The inbox rules of {upn} were not collected, so forwarding by rule is unknown.",
            evidence,
            problem=context.snapshot.problem(RULES),
        )
    failed_here = context.snapshot.mailbox_problem(RULES, mailbox)
    if failed_here is not None:
        return errored(
            f"The inbox rules of {upn} could not be read, so forwarding by rule is unknown.",
            evidence,
            problem=failed_here,
        )
    return passed(f"No mail of {upn} is forwarded outside the organisation.", evidence)


HIDING = CheckInfo(
    id="hiding-inbox-rule",
    title="An inbox rule hides mail arriving at the mailbox",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="No enabled inbox rule deletes, marks as read, or moves mail to an obscure folder.",
    fails="An enabled inbox rule deletes mail, marks it as read, or moves it to a folder nobody "
    "looks at (RSS Feeds, Conversation History, Archive, Junk Email, Deleted Items, ...).",
    needs=(MAILBOXES, RULES),
    controls=mapped("MITRE ATT&CK T1564.008"),
    remediation=Remediation(
        summary="Review the rules and remove the ones nobody can explain; then look for what "
        "they hid.",
        powershell=("Get-InboxRule -Mailbox '<upn>' | Format-List Name, Description, Enabled",),
        graph=("GET https://graph.microsoft.com/v1.0/users/<id>/mailFolders/inbox/messageRules",),
    ),
    risk="Attackers hide replies and security notices with rules so that abuse goes unseen.",
)


def _hides(rule: InboxRule) -> list[str]:
    actions = []
    if rule.delete_message or rule.soft_delete_message:
        actions.append("deletes")
    if rule.mark_as_read:
        actions.append("marks as read")
    # "mailbox:\Folder\Sub": an obscure folder at the top, or as the destination itself.
    path = (rule.move_to_folder or "").split(":\\")[-1].strip().lower()
    segments = [part for part in path.split("\\") if part]
    if segments and (segments[0] in OBSCURE_FOLDERS or segments[-1] in OBSCURE_FOLDERS):
        actions.append(f"moves to '{path}'")
    return actions


def hiding(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    found: list[tuple[str, list[str]]] = []
    details: list[HidingRule] = []
    commands = []
    for rule in facts.subject.rules:
        actions = _hides(rule) if _enabled(rule) and not is_system_rule(rule) else []
        if actions:
            found.append((rule.name or rule.identity or "?", actions))
            details.append(
                HidingRule(name=rule.name, identity=rule.identity, actions=tuple(actions),
                           description=rule.description)
            )
            if rule.identity:
                commands.append(
                    f"Remove-InboxRule -Identity {quoted(rule.identity)} -Confirm:$false"
                )
    if found:
        names = "; ".join(f"'{name}' {', '.join(actions)}" for name, actions in found[:5])
        return failed(
            f"{'An inbox rule hides' if len(found) == 1 else 'Inbox rules hide'} mail arriving "
            f"at {upn}: {names}.",
            HidingInboxRules(rules=tuple(details)).as_evidence(),
            commands=tuple(commands),
        )
    return passed(f"No inbox rule hides mail arriving at {upn}.", rules=len(facts.subject.rules))


CHECKS = (
    Check(info=EXTERNAL, mailbox=external),
    Check(info=HIDING, mailbox=hiding),
)
