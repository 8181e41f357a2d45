"""A small, fixed run to render: two ownerless mailboxes (one with a hostile display name),
a leaver who keeps access, and one alert whose evidence carries a hostile user agent."""

from __future__ import annotations

from datetime import UTC, datetime

from mailwarden.assess import assess
from mailwarden.detect.incidents import group_incidents
from mailwarden.detect.results import Alert, DetectionResult, RuleRun
from mailwarden.model.inventory import (
    Account,
    CasMailbox,
    ConditionalAccessPolicy,
    ExoUser,
    Mailbox,
    MailboxPermission,
    OrganizationConfig,
    Snapshot,
    TenantInfo,
    TransportConfig,
    UserRegistration,
    UsersCondition,
)
from mailwarden.model.run import Run
from mailwarden.report import make_run

NOW = datetime(2026, 11, 1, tzinfo=UTC)
GENERATED = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
HOSTILE = "<img src=x onerror=alert(1)>"
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"


def _account(n: int, name: str, *, enabled: bool, licensed: bool,
             display: str | None = None) -> Account:
    return Account(
        id=f"00000000-0000-0000-0000-{n:012d}", user_principal_name=f"{name}@contoso.com",
        display_name=display or name.title(), mail=f"{name}@contoso.com", mail_nickname=name,
        account_enabled=enabled, user_type="Member", created=datetime(2023, 1, 1, tzinfo=UTC),
        last_password_change=datetime(2023, 1, 1, tzinfo=UTC),
        licenses=(E3,) if licensed else (),
    )


def _mailbox(account: Account, kind: str) -> Mailbox:
    name = account.mail_nickname or ""
    return Mailbox(
        identity=name, name=name, alias=name, display_name=account.display_name,
        user_principal_name=account.user_principal_name,
        primary_smtp_address=account.user_principal_name, guid=f"guid-{name}",
        external_directory_object_id=account.id, recipient_type_details=kind,
        audit_enabled=kind != "RoomMailbox", grant_send_on_behalf_to=(),
        audit_owner=("MailItemsAccessed", "Send", "UpdateInboxRules", "HardDelete"),
        audit_delegate=("MailItemsAccessed", "SendAs", "SendOnBehalf", "UpdateInboxRules",
                        "HardDelete"),
        audit_admin=("MailItemsAccessed", "Send", "SendAs", "SendOnBehalf", "UpdateInboxRules",
                     "HardDelete"),
    )


def _cas(box: Mailbox, *, imap: bool) -> CasMailbox:
    return CasMailbox(
        identity=box.identity, name=box.name, primary_smtp_address=box.primary_smtp_address,
        guid=box.guid, external_directory_object_id=box.external_directory_object_id,
        imap_enabled=imap, pop_enabled=False, ews_enabled=False, activesync_enabled=False,
        mapi_enabled=True, owa_enabled=True, smtp_client_authentication_disabled=True,
    )


def snapshot() -> Snapshot:
    hr = _account(1, "hr", enabled=True, licensed=False, display=HOSTILE)
    room = _account(2, "boardroom", enabled=False, licensed=False, display="Board Room")
    alice = _account(3, "alice", enabled=True, licensed=True)
    bob = _account(4, "bob", enabled=False, licensed=True)
    hr_box, room_box = _mailbox(hr, "SharedMailbox"), _mailbox(room, "RoomMailbox")
    people = (hr, room, alice, bob)
    return Snapshot(
        tenant=TenantInfo(tenant_id="tenant-1", display_name="Contoso",
                          default_domain="contoso.com", verified_domains=("contoso.com",),
                          collected_at=NOW),
        accounts=people,
        mailboxes=(hr_box, room_box, _mailbox(alice, "UserMailbox")),
        cas_mailboxes=(_cas(hr_box, imap=True), _cas(room_box, imap=False)),
        exo_users=tuple(ExoUser(identity=a.mail_nickname, user_principal_name=a.user_principal_name,
                                external_directory_object_id=a.id, remote_powershell_enabled=False)
                        for a in people),
        registrations=tuple(UserRegistration(id=a.id, user_principal_name=a.user_principal_name,
                                             is_mfa_registered=False) for a in people),
        # Exchange lists NT AUTHORITY\\SELF on every mailbox (access.py cites it).
        mailbox_permissions=(
            *(MailboxPermission(identity=box, user="NT AUTHORITY\\SELF",
                                access_rights=("FullAccess", "ReadPermission"))
              for box in ("hr", "boardroom")),
            MailboxPermission(identity="hr", user="alice@contoso.com",
                              access_rights=("FullAccess",)),
            MailboxPermission(identity="hr", user="bob@contoso.com", access_rights=("FullAccess",)),
        ),
        ca_policies=(ConditionalAccessPolicy(
            id="ca-1", display_name="Block legacy authentication", state="enabled",
            users=UsersCondition(include_users=("All",)),
            client_app_types=("exchangeActiveSync", "other"), include_applications=("All",),
            grant_operator="OR", built_in_controls=("block",)),),
        organization_config=OrganizationConfig(audit_disabled=False),
        transport_config=TransportConfig(smtp_client_authentication_disabled=True),
        problems={"exo/Get-InboxRule": "exo/Get-InboxRule.json was not collected",
                  "exo/Get-AuthenticationPolicy": "403 Forbidden"},
    )


def detection(*, second_alert: bool = False) -> DetectionResult:
    alert = Alert(
        id="a1b2c3d4e5f6a7b8c9d0", category="ownerless-sign-in", rule_id="ownerless-legacy-sign-in",
        severity="critical", target="hr@contoso.com", targets=("hr@contoso.com",),
        source_ips=("203.0.113.7",), first_seen=datetime(2026, 10, 30, 22, 14, tzinfo=UTC),
        last_seen=datetime(2026, 10, 30, 22, 15, tzinfo=UTC), event_count=2,
        summary="hr@contoso.com signed in over IMAP from 203.0.113.7",
        evidence=({"time": "2026-10-30T22:14:00+00:00", "user": "hr@contoso.com",
                   "ip": "203.0.113.7", "client_app": "IMAP4",
                   "user_agent": "<script>alert('ua')</script>"},),
        facts={"protocol": "IMAP4"}, mitre=("T1078",),
    )
    alerts = [alert]
    if second_alert:  # the same intruder mails staff from the mailbox: the same incident
        alerts.append(Alert(
            id="f0e1d2c3b4a5f6e7d8c9", category="mass-send", rule_id="mass-send",
            severity="high", target="hr@contoso.com", targets=("hr@contoso.com",),
            source_ips=("203.0.113.7",), first_seen=datetime(2026, 10, 30, 22, 30, tzinfo=UTC),
            last_seen=datetime(2026, 10, 30, 22, 40, tzinfo=UTC), event_count=1,
            summary="hr@contoso.com sent 120 messages", evidence=({"time": "x"},)))
    return DetectionResult(alerts=tuple(alerts), readers=(),
                           rule_runs=(RuleRun(rule_id="ownerless-legacy-sign-in", ran=True,
                                              alerts=1),),
                           incidents=group_incidents(alerts))


def small_run(*, with_alerts: bool = True, second_alert: bool = False) -> Run:
    snap = snapshot()
    return make_run(assess(snap), generated_at=GENERATED, snapshot=snap,
                    detection=detection(second_alert=second_alert) if with_alerts else None)
