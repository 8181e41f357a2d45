"""Leaver, mailbox and directory rules on small hand-built logs: positive and negative."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mailwarden.detect import (
    DepartedAccount,
    DetectContext,
    GuestAccount,
    MailboxGrant,
    OwnerlessAccount,
)
from tests.detect.detect_factory import alerts_of, at, audit, run, signin, ual, upn

HR, ROOM = upn("hr"), upn("room-4")
LEAVER = upn("fired")
CONTEXT = DetectContext(
    ownerless=(OwnerlessAccount(upn=HR, id="id-hr", kind="shared", aliases=("hr",)),
               OwnerlessAccount(upn=ROOM, id="id-room", kind="room")),
    departed=(DepartedAccount(upn=LEAVER, since=datetime(2026, 3, 5, tzinfo=UTC)),),
    guests=(GuestAccount(upn="partner_ext.example#ext#@contoso.example"),),
    verified_domains=("contoso.example",),
    grants=(MailboxGrant(mailbox=HR, trustee=upn("ann"), right="FullAccess"),
            MailboxGrant(mailbox=HR, trustee=upn("bob"), right="FullAccess", active=False,
                         removed_at=datetime(2026, 3, 3, tzinfo=UTC))),
)


def test_leaver_ip_reused_on_an_ownerless_account(tmp_path: Path) -> None:
    records = [signin(at(days=d), LEAVER, "198.51.100.44") for d in range(2)]
    records.append(signin(at(days=6), HR, "198.51.100.44", client="IMAP4"))
    records.append(signin(at(days=6), HR, "192.0.2.10"))  # another address: not the leaver's
    [alert] = alerts_of(run(tmp_path, CONTEXT, signins=records), "leaver-address-on-ownerless")
    assert alert.target == HR and alert.severity == "critical"
    assert alert.source_ips == ("198.51.100.44",) and alert.facts["person"] == LEAVER


def test_shared_office_address_is_not_a_leaver_mark(tmp_path: Path) -> None:
    office = "192.0.2.10"
    records = [signin(at(n), f"staff{n}", office) for n in range(8)]
    records += [signin(at(0), LEAVER, office), signin(at(days=6), HR, office)]
    result = run(tmp_path, CONTEXT, signins=records)
    assert alerts_of(result, "leaver-address-on-ownerless") == []


def test_probe_of_a_disabled_account_then_ownerless_sign_in(tmp_path: Path) -> None:
    records = [signin(at(days=6, minutes=n), LEAVER, "203.0.113.66", 50057) for n in range(3)]
    records.append(signin(at(days=6, minutes=30), HR, "203.0.113.66", client="IMAP4"))
    result = run(tmp_path, CONTEXT, signins=records)
    [alert] = alerts_of(result, "disabled-probe-then-ownerless")
    assert alert.target == HR and LEAVER in alert.targets and alert.event_count == 4
    assert alerts_of(result, "ownerless-sign-in")[0].severity == "critical"


def test_a_leaver_whose_own_mailbox_became_ownerless(tmp_path: Path) -> None:
    """Their licence was removed when they left: their account is now an ownerless
    (unlicensed) mailbox's, and still theirs for telling where they came from."""
    context = DetectContext(
        ownerless=(*(CONTEXT.ownerless or ()), OwnerlessAccount(upn=LEAVER,
                                                                kind="unlicensed-user")),
        departed=CONTEXT.departed, guests=(), verified_domains=("contoso.example",), grants=())
    home = "198.51.100.44"
    records = [signin(at(days=1), LEAVER, home),  # before leaving (since: day 3)
               *(signin(at(days=6, minutes=n), LEAVER, home, 50057) for n in range(3)),
               signin(at(days=6, minutes=30), HR, home, client="IMAP4")]
    result = run(tmp_path, context, signins=records)
    [probe] = alerts_of(result, "disabled-probe-then-ownerless")
    [mark] = alerts_of(result, "leaver-address-on-ownerless")
    assert probe.target == mark.target == HR and mark.facts["person"] == LEAVER
    assert alerts_of(result, "ownerless-sign-in")[0].target == HR


def test_leaver_in_the_mailbox_audit_after_leaving(tmp_path: Path) -> None:
    records = [ual(at(days=1), "MailItemsAccessed", LEAVER, mailbox=HR),   # before leaving
               ual(at(days=7), "MailItemsAccessed", LEAVER, mailbox=HR),
               ual(at(days=7, minutes=5), "SendAs", LEAVER, SendAsUserSmtp=HR)]
    [alert] = alerts_of(run(tmp_path, CONTEXT, mailbox=records), "leaver-mailbox-activity")
    assert alert.target == HR and alert.severity == "critical" and alert.event_count == 2


def test_permission_granted_to_a_guest(tmp_path: Path) -> None:
    guest = "partner_ext.example#EXT#@contoso.example"
    records = [ual(at(0), "Add-MailboxPermission", upn("admin"), logon=1,
                   parameters=[("Identity", "hr"), ("User", guest),
                               ("AccessRights", "FullAccess")]),
               ual(at(1), "Add-RecipientPermission", upn("admin"), logon=1,
                   parameters=[("Identity", HR), ("Trustee", upn("carol")),
                               ("AccessRights", "SendAs")]),
               ual(at(2), "Add-MailboxPermission", upn("admin"), logon=1,
                   parameters=[("Identity", upn("ann")), ("User", guest)])]  # not ownerless
    alerts = {a.facts["trustee"]: a for a in alerts_of(run(tmp_path, CONTEXT, mailbox=records),
                                                       "mailbox-permission-change")}
    assert set(alerts) == {guest.lower(), upn("carol")}
    assert alerts[guest.lower()].severity == "high" and "guest" in alerts[guest.lower()].summary
    assert alerts[upn("carol")].severity == "medium"


def test_non_owner_access_uses_the_access_map(tmp_path: Path) -> None:
    records = [ual(at(days=1), "MailItemsAccessed", upn("ann"), mailbox=HR),   # holds a grant
               ual(at(days=1), "MailItemsAccessed", upn("bob"), mailbox=HR),   # grant removed
               ual(at(hours=2), "MailItemsAccessed", upn("bob"), mailbox=HR),  # before removal
               ual(at(days=1), "HardDelete", upn("mallory"), mailbox=HR),      # never had one
               ual(at(days=1), "Update", "S-1-5-18", mailbox=ROOM, logon=0,
                   client="Client=TimeBasedAssistants;Action=ResourceBookingAssistant")]
    alerts = {a.facts["actor"]: a for a in alerts_of(run(tmp_path, CONTEXT, mailbox=records),
                                                     "non-owner-access")}
    assert set(alerts) == {upn("bob"), upn("mallory")}
    assert "grant was removed" in alerts[upn("bob")].summary
    assert alerts[upn("bob")].event_count == 1
    assert "holds no grant" in alerts[upn("mallory")].summary


def test_mass_send_against_the_mailbox_baseline(tmp_path: Path) -> None:
    records = [ual(at(days=d, minutes=m), "SendAs", upn("ann"), SendAsUserSmtp=HR)
               for d in range(4) for m in range(3)]
    records += [ual(at(days=5, minutes=m), "SendAs", upn("ann"), SendAsUserSmtp=HR)
                for m in range(60)]
    [alert] = alerts_of(run(tmp_path, CONTEXT, mailbox=records), "mass-send")
    assert alert.target == HR and alert.event_count == 60 and alert.facts["baseline"] == 3.0


def test_room_calendar_processing_is_not_mass_send(tmp_path: Path) -> None:
    records = [ual(at(minutes=m), "Send", ROOM, mailbox=ROOM, logon=0,
                   client="Client=TimeBasedAssistants;Action=ResourceBookingAssistant")
               for m in range(300)]
    result = run(tmp_path, CONTEXT, mailbox=records)
    assert alerts_of(result, "mass-send") == [] and alerts_of(result, "non-owner-access") == []
    assert alerts_of(result, "ownerless-owner-logon") == []


def test_one_message_to_many_recipients(tmp_path: Path) -> None:
    records = [ual(at(0), "SendAs", LEAVER, SendAsUserSmtp=HR, RecipientCount=400)]
    [alert] = alerts_of(run(tmp_path, CONTEXT, mailbox=records), "mass-send")
    assert alert.facts["max_recipients"] == 400


def test_hiding_and_forwarding_inbox_rules(tmp_path: Path) -> None:
    records = [ual(at(0), "New-InboxRule", upn("ann"), parameters=[
                   ("Mailbox", "hr"), ("Name", "x"), ("ForwardTo", "drop@evil.example"),
                   ("MarkAsRead", "True")]),
               ual(at(1), "New-InboxRule", upn("ann"), parameters=[
                   ("Name", "mine"), ("MoveToFolder", "Archive")]),
               ual(at(2), "New-InboxRule", upn("ann"), parameters=[
                   ("Mailbox", "hr"), ("Name", "ok"), ("ForwardTo", upn("carol")),
                   ("MoveToFolder", "Projects")])]
    alerts = {a.facts["rule"]: a for a in alerts_of(run(tmp_path, CONTEXT, mailbox=records),
                                                    "malicious-inbox-rule")}
    assert set(alerts) == {"x", "mine"}
    assert alerts["x"].severity == "critical" and alerts["x"].target == HR
    assert "drop@evil.example" in alerts["x"].summary and "read" in alerts["x"].summary
    assert alerts["mine"].severity == "medium" and alerts["mine"].target == upn("ann")


def test_external_forwarding_set(tmp_path: Path) -> None:
    records = [ual(at(0), "Set-Mailbox", upn("admin"), logon=1, parameters=[
                   ("Identity", HR), ("ForwardingSmtpAddress", "smtp:out@gmail.example")]),
               ual(at(1), "Set-Mailbox", upn("admin"), logon=1, parameters=[
                   ("Identity", upn("ann")), ("ForwardingSmtpAddress", upn("bob"))])]
    [alert] = alerts_of(run(tmp_path, CONTEXT, mailbox=records), "external-forwarding-set")
    assert alert.target == HR and alert.severity == "critical"
    assert alert.facts["destinations"] == "out@gmail.example"


def test_audit_tampering_works_without_a_tenant(tmp_path: Path) -> None:
    records = [ual(at(0), "Set-Mailbox", upn("admin"), logon=1,
                   parameters=[("Identity", "hr"), ("AuditEnabled", "False")]),
               ual(at(1), "Set-OrganizationConfig", upn("admin"), logon=1,
                   parameters=[("AuditDisabled", "True")]),
               ual(at(2), "Set-Mailbox", upn("admin"), logon=1,
                   parameters=[("Identity", "hr"), ("AuditEnabled", "True")]),
               # Some exports keep the value as it was typed on the command line.
               ual(at(3), "Set-MailboxAuditBypassAssociation", upn("admin"), logon=1,
                   parameters=[("Identity", "svc"), ("AuditBypassEnabled", "$true")]),
               ual(at(4), "Set-MailboxAuditBypassAssociation", upn("admin"), logon=1,
                   parameters=[("Identity", "svc2"), ("AuditBypassEnabled", "$false")])]
    alerts = alerts_of(run(tmp_path, DetectContext(), mailbox=records), "audit-tampering")
    by_change = {a.facts["change"]: a for a in alerts}
    assert set(by_change) == {"turned mailbox auditing off", "added an audit bypass",
                              "turned mailbox auditing off for the organisation"}
    assert by_change["added an audit bypass"].target == "svc"
    assert by_change["turned mailbox auditing off for the organisation"].severity == "critical"
    assert by_change["turned mailbox auditing off"].severity == "high"


def test_password_reset_and_unblock_of_ownerless_accounts(tmp_path: Path) -> None:
    records = [audit(at(0), "Reset user password", HR),
               audit(at(1), "Reset user password", upn("ann")),
               audit(at(2), "Update user", HR, properties=[("AccountEnabled", "[false]",
                                                             "[true]")]),
               audit(at(3), "Update user", ROOM, properties=[("DisplayName", "a", "b")]),
               audit(at(4), "Change password (self-service)", ROOM, by=ROOM)]
    result = run(tmp_path, CONTEXT, directory=records)
    resets = {a.target: a for a in alerts_of(result, "password-reset")}
    assert set(resets) == {HR, ROOM}
    assert resets[HR].severity == "high" and resets[ROOM].severity == "critical"
    [unblocked] = alerts_of(result, "sign-in-unblocked")
    assert unblocked.target == HR and "admin@contoso.example" in unblocked.summary


def test_leaver_sign_in_after_departure_only(tmp_path: Path) -> None:
    records = [signin(at(days=1), LEAVER, "198.51.100.44"),  # before leaving
               signin(at(days=4), LEAVER, "198.51.100.44", 50057),
               signin(at(days=8), LEAVER, "198.51.100.45")]
    [alert] = alerts_of(run(tmp_path, CONTEXT, signins=records), "leaver-sign-in")
    assert alert.target == LEAVER and alert.event_count == 1
    assert alert.source_ips == ("198.51.100.45",)
