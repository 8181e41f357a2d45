"""Labelled configuration changes in the Unified Audit Log and the directory audit log:
inbox rules, forwarding, grants, auditing and unblocked accounts, each with the ordinary
change beside it that must not raise an alert."""

from __future__ import annotations

from datetime import timedelta

from mailwarden.synth.constants import OBSCURE_FOLDERS
from mailwarden.synth.logs_book import ATTACK_NETWORKS, LogBook
from mailwarden.synth.model import Account, InboxRule, OwnerlessMailbox


def rule_parameters(rule: InboxRule, mailbox: Account) -> list[tuple[str, str]]:
    """New-InboxRule's parameters as the audit log records them."""
    params = [("Mailbox", mailbox.upn), ("Name", rule.name)]
    if rule.subject_contains:
        params.append(("SubjectContainsWords", ";".join(rule.subject_contains)))
    if rule.from_contains:
        params.append(("FromAddressContainsWords", ";".join(rule.from_contains)))
    for name, targets in (("ForwardTo", rule.forward_to), ("RedirectTo", rule.redirect_to),
                          ("ForwardAsAttachmentTo", rule.forward_as_attachment_to)):
        if targets:
            params.append((name, ";".join(t.address for t in targets)))
    for name, on in (("DeleteMessage", rule.delete), ("SoftDeleteMessage", rule.soft_delete),
                     ("MarkAsRead", rule.mark_as_read),
                     ("StopProcessingRules", rule.stop_processing)):
        if on:
            params.append((name, "True"))
    if rule.move_to_folder:
        params.append(("MoveToFolder", rule.move_to_folder))
    return params


def hostile(rule: InboxRule, domains: tuple[str, ...]) -> bool:
    targets = rule.forward_to + rule.redirect_to + rule.forward_as_attachment_to
    outside = any(t.address.split("@")[-1].lower() not in domains for t in targets)
    folder = (rule.move_to_folder or "").rsplit("\\", 1)[-1].lower()
    return rule.enabled and (rule.delete or rule.soft_delete or rule.mark_as_read or outside
                             or folder in OBSCURE_FOLDERS)


def inbox_rules(book: LogBook, delegate_of: dict[str, Account]) -> None:
    """An intruder with a delegate's session leaves a hiding or forwarding rule on a
    shared mailbox; elsewhere a delegate files newsletters and copies urgent mail."""
    domains = tuple(d.lower() for d in book.tenant.verified_domains)
    attacker = f"{ATTACK_NETWORKS[4]}.{book.rng.randrange(2, 250)}"
    planted = ordinary = False
    for box in book.tenant.ownerless:
        mailbox = book.accounts[box.account_id]
        actor = delegate_of.get(box.account_id, book.admin)
        # Hidden rules are set through MAPI, not New-InboxRule: the audit log has no line.
        rules = [rule for rule in box.rules if rule.enabled and not rule.hidden]
        if not rules:
            continue
        is_hostile = [hostile(rule, domains) for rule in rules]
        when = book.start + timedelta(days=book.rng.randrange(2, 27), hours=10)
        if any(is_hostile) and not planted:
            rule = rules[is_hostile.index(True)]
            book.cmdlet(when, "New-InboxRule", actor, attacker,
                        object_id=rf"{mailbox.upn}\{rule.name}",
                        parameters=rule_parameters(rule, mailbox))
            book.expect("malicious-inbox-rule", mailbox.upn, "malicious inbox rule",
                        source_ips=(attacker,), detail=f"rule '{rule.name}'")
            planted = True
        elif not any(is_hostile) and not ordinary:
            for n, rule in enumerate(rules):
                book.cmdlet(when + timedelta(minutes=n), "New-InboxRule", actor,
                            book.office_ip(actor), object_id=rf"{mailbox.upn}\{rule.name}",
                            parameters=rule_parameters(rule, mailbox))
            book.avoid("malicious-inbox-rule", mailbox.upn, "ordinary inbox rules",
                       detail="filing into a named folder; copying a colleague inside")
            ordinary = True


def _first(book: LogBook, test: object) -> tuple[OwnerlessMailbox, Account] | None:
    for box in book.tenant.ownerless:
        if callable(test) and test(box):
            return box, book.accounts[box.account_id]
    return None


def forwarding(book: LogBook) -> None:
    domains = tuple(d.lower() for d in book.tenant.verified_domains)
    admin = book.admin
    for box in book.tenant.ownerless:
        address = (box.settings.forwarding_smtp or "").split(":", 1)[-1]
        if not address:
            continue
        outside = address.split("@")[-1].lower() not in domains
        mailbox = book.accounts[box.account_id]
        when = book.start + timedelta(days=book.rng.randrange(2, 27), hours=15)
        book.cmdlet(when, "Set-Mailbox", admin, book.office_ip(admin), object_id=mailbox.upn,
                    parameters=[("Identity", mailbox.upn),
                                ("ForwardingSmtpAddress", f"smtp:{address}"),
                                ("DeliverToMailboxAndForward",
                                 str(box.settings.deliver_and_forward))])
        if outside:
            book.expect("external-forwarding-set", mailbox.upn, "external forwarding set",
                        detail=f"to {address}")
        else:
            book.avoid("external-forwarding-set", mailbox.upn, "forwarding to a colleague",
                       detail=f"to {address}, a verified domain")


def grants(book: LogBook, delegate_of: dict[str, Account]) -> None:
    """SendAs granted to a guest (what the tenant shows on its partners mailbox), and an
    ordinary FullAccess grant to a member of staff (still a change worth a line)."""
    admin = book.admin
    ip = book.office_ip(admin)
    guest_grant = next(((box, grant) for box in book.tenant.ownerless for grant in box.grants
                        if grant.principal_kind == "user" and not grant.deny
                        and book.accounts[grant.principal].kind == "guest"), None)
    if guest_grant:
        box, grant = guest_grant
        mailbox, guest = book.accounts[box.account_id], book.accounts[grant.principal]
        operation = "Add-RecipientPermission" if grant.right == "SendAs" else \
            "Add-MailboxPermission"
        who = "Trustee" if grant.right == "SendAs" else "User"
        book.cmdlet(book.start + timedelta(days=11, hours=14), operation, admin, ip,
                    object_id=mailbox.upn, parameters=[("Identity", mailbox.upn),
                                                       (who, guest.upn),
                                                       ("AccessRights", grant.right)])
        book.expect("mailbox-permission-change", mailbox.upn, "permission grant to a guest",
                    detail=f"{grant.right} to {guest.upn}")
    for box_id, person in sorted(delegate_of.items()):
        mailbox = book.accounts[box_id]
        if guest_grant and guest_grant[0].account_id == box_id:
            continue
        book.cmdlet(book.start + timedelta(days=6, hours=11), "Add-MailboxPermission", admin, ip,
                    object_id=mailbox.upn, parameters=[("Identity", mailbox.upn),
                                                       ("User", person.upn),
                                                       ("AccessRights", "FullAccess")])
        book.expect("mailbox-permission-change", mailbox.upn, "delegate added",
                    detail=f"FullAccess to {person.upn} (medium: an ordinary grant)")
        return


def auditing(book: LogBook) -> None:
    """Auditing turned off on a mailbox (and for the organisation, where the tenant
    says so), a bypass added; auditing turned on elsewhere is no alert."""
    admin = book.admin
    ip = book.office_ip(admin)
    off = _first(book, lambda box: not box.settings.audit_enabled)
    on = _first(book, lambda box: box.settings.audit_enabled and box.hardened)
    if off:
        mailbox = off[1]
        book.cmdlet(book.start + timedelta(days=9, hours=16), "Set-Mailbox", admin, ip,
                    object_id=mailbox.upn, parameters=[("Identity", mailbox.upn),
                                                       ("AuditEnabled", "False")])
        book.expect("audit-tampering", mailbox.upn, "mailbox audit disabled")
    if on:
        mailbox = on[1]
        book.cmdlet(book.start + timedelta(days=10, hours=9), "Set-Mailbox", admin, ip,
                    object_id=mailbox.upn, parameters=[("Identity", mailbox.upn),
                                                       ("AuditEnabled", "True")])
        book.avoid("audit-tampering", mailbox.upn, "mailbox audit enabled")
    for bypass_id in sorted(book.tenant.bypass_account_ids):
        person = book.accounts[bypass_id]
        book.cmdlet(book.start + timedelta(days=15, hours=13), "Set-MailboxAuditBypassAssociation",
                    admin, ip, object_id=person.upn,
                    parameters=[("Identity", person.upn), ("AuditBypassEnabled", "True")])
        book.expect("audit-tampering", person.upn, "audit bypass added")
    if book.tenant.audit_disabled_org:
        book.cmdlet(book.start + timedelta(days=19, hours=17), "Set-OrganizationConfig", admin,
                    ip, object_id=book.tenant.initial_domain,
                    parameters=[("AuditDisabled", "True")])
        book.expect("audit-tampering", None, "organisation auditing disabled", source_ips=(ip,))


def unblock(book: LogBook, account: Account) -> None:
    book.audit(book.start + timedelta(days=12, hours=10), "Update user", account,
               properties=[("AccountEnabled", "[false]", "[true]")])
    book.expect("sign-in-unblocked", account.upn, "sign-in unblocked")


def password_reset(book: LogBook, account: Account) -> None:
    book.audit(book.start + timedelta(days=14, hours=15), "Reset user password", account)
    book.expect("password-reset", account.upn, "admin password reset",
                detail="someone now knows the shared mailbox's password")
