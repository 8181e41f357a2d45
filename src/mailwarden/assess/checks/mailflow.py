"""Where the mailbox's mail goes: forwarding outside the organisation, and inbox rules
that hide what arrives."""

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
from mailwarden.model.findings import CheckInfo, Remediation, Scope, Severity
from mailwarden.model.findings.evidence import (
    ExternalForwarding,
    ForwardedTo,
    HidingInboxRules,
    HidingRule,
)
from mailwarden.model.inventory import InboxRule

RULES = "exo/Get-InboxRule"
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


def _outside(address: str, domains: frozenset[str]) -> bool:
    return address.rsplit("@", 1)[-1].lower() not in domains


def _enabled(rule: InboxRule) -> bool:
    return rule.enabled is not False  # Exchange always says; unknown counts as running


EXTERNAL = CheckInfo(
    id="external-forwarding",
    title="Mail of the ownerless mailbox is forwarded outside the organisation",
    severity=Severity.HIGH,
    scope=Scope.MAILBOX,
    passes="Neither the mailbox's forwarding settings nor its enabled inbox rules send mail "
    "outside the verified domains.",
    fails="ForwardingSmtpAddress / ForwardingAddress, or an enabled inbox rule (forward, "
    "forward as attachment, redirect), sends mail outside the verified domains.",
    needs=("exo/Get-Mailbox",),
    uses=(RULES, "tenant", USERS),  # tenant: the verified domains; users: internal targets
    fields=("tenant:verifiedDomains",),
    controls=("CIS M365 5.0.0 6.2.1", "CISA SCuBA MS.EXO.1.1v1"),
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


def external(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    mailbox = facts.subject.mailbox
    domains = context.index.verified_domains
    targets: list[tuple[str, str]] = []  # (where, address)
    if mailbox.forwarding_smtp_address:
        address = mailbox.forwarding_smtp_address.split(":", 1)[-1].strip().lower()
        targets.append(("ForwardingSmtpAddress", address))
    unresolved = []
    if mailbox.forwarding_address:
        forward = mailbox.forwarding_address
        internal = context.index.mailbox(forward) or context.index.account(forward)
        if internal is None:
            if "@" in forward:
                targets.append(("ForwardingAddress", forward.lower()))
            else:
                unresolved.append(forward)
    for rule in facts.subject.rules:
        if not _enabled(rule):
            continue
        for target in rule.forward_to + rule.forward_as_attachment_to + rule.redirect_to:
            rule_address = target_address(target)
            if rule_address:
                targets.append((f"inbox rule '{rule.name}'", rule_address))
    if targets and not domains:
        return errored(
            f"The verified domains are unknown, so {upn}'s forwarding cannot be judged.",
            targets=[a for _, a in targets],
        )
    outside = [(where, a) for where, a in targets if _outside(a, domains)]
    evidence = ExternalForwarding(
        external=tuple(ForwardedTo(where=where, address=a) for where, a in outside),
        forwarding_smtp_address=mailbox.forwarding_smtp_address,
        forwarding_address=mailbox.forwarding_address,
        deliver_to_mailbox_and_forward=mailbox.deliver_to_mailbox_and_forward,
        unresolved_forwarding_address=tuple(unresolved),
    ).as_evidence()
    if outside:
        shown = "; ".join(f"{where} -> {a}" for where, a in outside[:5])
        return failed(f"Mail of {upn} is forwarded outside the organisation: {shown}.", evidence)
    if not context.snapshot.available(RULES):
        return errored(
            f"The inbox rules of {upn} were not collected, so forwarding by rule is unknown.",
            evidence,
            problem=context.snapshot.problem(RULES),
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
    controls=("MITRE ATT&CK T1564.008",),
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
        actions = _hides(rule) if _enabled(rule) else []
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
