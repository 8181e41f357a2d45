"""external-forwarding resolves where forwarding really goes: a ForwardingAddress is a
recipient's identity (often a mail contact, outside), an inbox rule names address-book
recipients by legacyExchangeDN, and a target nothing answers to is an error, never a pass.

Shapes, as published:
- Get-Mailbox (REST, public capture of the ExchangeOnlineManagement module's InvokeCommand
  answer): `"ForwardingAddress":null,"ForwardingSmtpAddress":"smtp:calvinbergin212@gmail.com"`.
- ForwardingAddress "specifies a forwarding address in your organization ... You can use any
  value that uniquely identifies the internal recipient: Name, Alias, Distinguished name (DN),
  Canonical DN, Email address, GUID" (MicrosoftDocs/office-docs-powershell,
  exchange/exchange-ps/ExchangePowerShell/Set-Mailbox.md); Get-Mailbox shows the target's
  Name: CIPP resolves it by id / mailNickname, then as a contact by displayName
  (KelvinTegelaar/CIPP-API, Invoke-ListUserMailboxDetails.ps1; PR #1257 "cases where it is
  a display name"); AdminDroid's forwarding report matches it against the Identity of
  Get-MailContact and Get-MailUser rows (admindroid-community/powershell-scripts,
  "EXO.Identify and Block External Email Forwarding (including Inbox Rules) in Exchange
  Online/BlockExternalEmailForwarding.ps1").
- Get-MailContact row: the properties of kevinblumenfeld/Posh365
  Posh365/Public/Contact/Get-EXOMailContact.ps1 (Identity, Name, Alias, DisplayName,
  ExternalEmailAddress, LegacyExchangeDN, PrimarySmtpAddress, ExternalDirectoryObjectId,
  RecipientTypeDetails ...), with the values of Microsoft's own example of a mail contact
  (https://learn.microsoft.com/graph/api/configurationmanagement-post-configurationmonitors
  ?view=graph-rest-beta: Name "Chris", Alias "Chrisa", ExternalEmailAddress
  "SMTP:chris@fabrikam.com"); CIPP: "ExternalEmailAddress comes back as "SMTP:foo@bar.com""
  (Invoke-CIPPStandardDeployContactTemplates.ps1).
- Get-MailUser lists "mail users and also guest users" (office-docs-powershell,
  Get-MailUser.md).
- Inbox rule targets: `"Display Name" [EX:<legacyExchangeDN>]` for a recipient picked from
  the address book, `"x@y" [SMTP:x@y]` for a typed address (rknightion/graph2otel,
  internal/collectors/m365/inboxrules); AdminDroid resolves the EX form against the
  LegacyExchangeDN of Get-MailContact and Get-MailUser rows (same script as above).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mailwarden.assess.forwarding import rule_target_parts
from mailwarden.model.findings import Status
from mailwarden.model.inventory import (
    DirectoryObjectRef,
    GroupMembers,
    InboxRule,
    MailRecipient,
    Snapshot,
)
from mailwarden.tenant.exchange import parse_mail_recipient, parse_mailbox
from mailwarden.tenant.lenient import Record
from tests.assess.assess_factory import (
    account_of,
    adding,
    finding,
    group,
    hardened,
    person,
    run,
    with_mailbox,
    without,
)

LEGACY = "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="
CHRIS_ID = "3c5d8b8e-6f7a-4b2c-9d1e-0a1b2c3d4e5f"
#: A Get-MailContact row as the admin API returns it.
CHRIS: dict[str, Any] = {
    "Identity": "Chris",
    "Name": "Chris",
    "Alias": "Chrisa",
    "DisplayName": "Chris",
    "PrimarySmtpAddress": "chris@fabrikam.com",
    "ExternalEmailAddress": "SMTP:chris@fabrikam.com",
    "EmailAddresses": ["SMTP:chris@fabrikam.com"],
    "Guid": "a1b2c3d4-0000-4000-8000-00000000c415",
    "ExternalDirectoryObjectId": CHRIS_ID,
    "LegacyExchangeDN": LEGACY + "a1b2c3d400004000800000000000c415-Chrisa",
    "RecipientType": "MailContact",
    "RecipientTypeDetails": "MailContact",
}


def contact(**changes: Any) -> MailRecipient:
    return parse_mail_recipient(Record({**CHRIS, **changes}))


def with_contact(snapshot: Snapshot, *rows: MailRecipient) -> Snapshot:
    return adding(snapshot, mail_contacts=rows or (contact(),))


def forwarding(snapshot: Snapshot) -> Any:
    return finding(run(snapshot), "external-forwarding")


def renamed(snapshot: Snapshot, name: str, new_name: str) -> Snapshot:
    """The mailbox `name` with another Exchange Name (and Identity); its alias stays."""
    boxes = tuple(replace(m, name=new_name, identity=new_name) if m.name == name else m
                  for m in snapshot.mailboxes)
    return replace(snapshot, mailboxes=boxes)


def rule(*targets: str) -> InboxRule:
    return InboxRule(mailbox="hr", identity="hr\\7", name="fwd", enabled=True, forward_to=targets)


def test_the_mailbox_row_keeps_forwarding_address_as_the_identity_exchange_wrote() -> None:
    box = parse_mailbox(Record({"Identity": "hr", "ForwardingAddress": "Chris",
                                "ForwardingSmtpAddress": None}))
    assert box.forwarding_address == "Chris" and box.forwarding_smtp_address is None
    captured = parse_mailbox(Record({"Identity": "hr", "ForwardingAddress": None,
                                     "ForwardingSmtpAddress": "smtp:calvinbergin212@gmail.com"}))
    assert captured.forwarding_address is None
    assert captured.forwarding_smtp_address == "smtp:calvinbergin212@gmail.com"


def test_a_contact_row_keeps_its_prefixed_external_address_and_legacy_dn() -> None:
    row = contact()
    assert row.external_email_address == "SMTP:chris@fabrikam.com"
    assert row.legacy_exchange_dn == CHRIS["LegacyExchangeDN"]
    assert row.recipient_type_details == "MailContact"


def test_forwarding_address_naming_a_mail_contact_fails() -> None:
    got = forwarding(with_mailbox(with_contact(hardened()), forwarding_address="Chris"))
    assert got.status is Status.FAIL, got.message
    assert "chris@fabrikam.com" in got.message and "mail contact 'Chris'" in got.message
    assert got.evidence["external"] == [
        {"where": "ForwardingAddress", "address": "chris@fabrikam.com",
         "via": "mail contact 'Chris'"}
    ]


def test_forwarding_address_naming_a_mailbox_passes_by_alias_or_object_id_name() -> None:
    snapshot = with_contact(hardened())
    alice = account_of(snapshot, "alice")
    assert forwarding(with_mailbox(snapshot, forwarding_address="alice")).status is Status.PASS
    # Newer mailboxes are named by their directory object id.
    got = forwarding(with_mailbox(renamed(snapshot, "alice", alice.id),
                                  forwarding_address=alice.id))
    assert got.status is Status.PASS, got.message


def test_a_forwarding_address_nothing_answers_to_is_an_error_not_a_pass() -> None:
    got = forwarding(with_mailbox(with_contact(hardened()), forwarding_address="Nobody Here"))
    assert got.status is Status.ERROR
    assert got.evidence["unresolved_forwarding_address"] == ["Nobody Here"]


def test_without_the_contacts_a_name_cannot_be_shown_internal() -> None:
    snapshot = without(with_contact(hardened()), "exo/Get-MailContact", "mail_contacts")
    got = forwarding(with_mailbox(snapshot, forwarding_address="Chris"))
    assert got.status is Status.ERROR
    assert "exo/Get-MailContact" in got.message


def test_without_the_contacts_only_a_mailbox_name_is_proof() -> None:
    """A contact named "alice" and a mailbox whose alias is alice: the ForwardingAddress
    "alice" is shown internal by the mailbox's Name, not by its alias alone."""
    unread = without(hardened(), "exo/Get-MailContact", "mail_contacts")
    by_name = with_mailbox(unread, forwarding_address="alice")
    assert forwarding(by_name).status is Status.PASS
    aliased = renamed(unread, "alice", "Alice Example")
    got = forwarding(with_mailbox(aliased, forwarding_address="alice"))
    assert got.status is Status.ERROR, got.message


def test_forwarding_to_a_guest_mail_user_fails() -> None:
    """A guest's Entra account is in the tenant, but its mail goes to its own address."""
    gus = person("gus", guest=True)
    guest_row = parse_mail_recipient(Record({
        "Identity": gus.id, "Name": gus.id, "Alias": "gus_partner.example",
        "DisplayName": "Gus", "UserPrincipalName": gus.user_principal_name,
        "PrimarySmtpAddress": "gus@partner.example", "ExternalEmailAddress":
        "SMTP:gus@partner.example", "ExternalDirectoryObjectId": gus.id,
        "RecipientTypeDetails": "GuestMailUser",
    }))
    snapshot = adding(hardened(), accounts=(gus,), mail_users=(guest_row,))
    got = forwarding(with_mailbox(snapshot, forwarding_address=gus.id))
    assert got.status is Status.FAIL, got.message
    assert "gus@partner.example" in got.message and "mail user" in got.message


def test_a_rule_forwarding_to_a_contact_from_the_address_book_fails() -> None:
    target = f'"Chris" [EX:{CHRIS["LegacyExchangeDN"]}]'
    got = forwarding(adding(with_contact(hardened()), inbox_rules=(rule(target),)))
    assert got.status is Status.FAIL, got.message
    assert got.evidence["external"] == [
        {"where": "inbox rule 'fwd'", "address": "chris@fabrikam.com",
         "via": "mail contact 'Chris'", "rule": "hr\\7"}
    ]


def test_a_rule_forwarding_to_a_mailbox_by_its_legacy_dn_passes() -> None:
    dn = LEGACY + "0f0e0d0c0b0a49088706050403020100-alice"
    snapshot = with_mailbox(with_contact(hardened()), "alice", legacy_exchange_dn=dn)
    # The display name before the DN is only a label: the DN decides.
    got = forwarding(adding(snapshot, inbox_rules=(rule(f'"Chris" [EX:{dn}]'),)))
    assert got.status is Status.PASS, got.message


def test_a_rule_target_nothing_answers_to_is_an_error() -> None:
    target = f'"Somebody Else" [EX:{LEGACY}ffffffffffffffffffffffffffffffff-somebody]'
    got = forwarding(adding(with_contact(hardened()), inbox_rules=(rule(target),)))
    assert got.status is Status.ERROR
    assert got.evidence["unresolved"][0]["target"] == target


def test_an_address_inside_that_a_contact_carries_leads_outside() -> None:
    """A contact may carry an address of a verified domain while its mail goes elsewhere
    (Posh365's New-EXOMailContact: "a mail contact with an internal PrimarySmtpAddress and
    external alias", kevinblumenfeld/Posh365)."""
    inside = contact(PrimarySmtpAddress="accounts@contoso.com",
                     EmailAddresses=["SMTP:accounts@contoso.com"],
                     ExternalEmailAddress="SMTP:ap@fabrikam.com")
    snapshot = with_contact(hardened(), inside)
    got = forwarding(with_mailbox(snapshot, forwarding_smtp_address="smtp:accounts@contoso.com"))
    assert got.status is Status.FAIL and "ap@fabrikam.com" in got.message
    # An address of a verified domain that no recipient carries stays inside, when the
    # contacts and mail users were read; a mailbox's address stays inside in any case.
    plain = with_mailbox(snapshot, forwarding_smtp_address="smtp:payables@contoso.com")
    assert forwarding(plain).status is Status.PASS
    unread = without(plain, "exo/Get-MailUser", "mail_users")
    assert forwarding(unread).status is Status.ERROR
    alice = with_mailbox(unread, forwarding_smtp_address="smtp:alice@contoso.com")
    assert forwarding(alice).status is Status.PASS


def test_forwarding_to_a_group_reaches_its_contacts() -> None:
    snapshot = with_contact(hardened())
    alice = account_of(snapshot, "alice")
    partners, members = group("Finance Partners", alice)
    members = replace(members, members=(
        *members.members, DirectoryObjectRef(id=CHRIS_ID, object_type="orgContact")))
    outside = adding(snapshot, groups=(partners,), group_members=(members,))
    got = forwarding(with_mailbox(outside, forwarding_address="Finance Partners"))
    assert got.status is Status.FAIL and "chris@fabrikam.com" in got.message
    staff, staff_members = group("Finance Staff", alice)
    inside = adding(snapshot, groups=(staff,), group_members=(staff_members,))
    assert forwarding(with_mailbox(inside, forwarding_address="Finance Staff")).status \
        is Status.PASS
    unknown = adding(snapshot, groups=(staff,),
                     group_members=(GroupMembers(group_id="someone-else", members=()),))
    assert forwarding(with_mailbox(unknown, forwarding_address="Finance Staff")).status \
        is Status.ERROR


def test_rule_targets_are_split_as_exchange_writes_them() -> None:
    assert rule_target_parts('"Chris" [EX:/o=ExchangeLabs/cn=x]') == (
        "EX", "/o=ExchangeLabs/cn=x", "Chris")
    assert rule_target_parts('"x@y.com" [SMTP:x@y.com]') == ("SMTP", "x@y.com", "x@y.com")
    assert rule_target_parts("plain@y.com") == (None, None, "plain@y.com")
