"""Small snapshots for the assessment tests, built from typed records (no mocks).

`hardened()` is a tenant with one shared mailbox, hr@contoso.com, on which every check
passes; each test changes the one thing it is about.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from mailwarden.assess import AssessOptions, assess
from mailwarden.assess.custodians import CustodianMap
from mailwarden.model.findings import Finding, ScanResult
from mailwarden.model.inventory import (
    Account,
    AuditBypass,
    AuthenticationPolicy,
    CasMailbox,
    ConditionalAccessPolicy,
    DirectoryObjectRef,
    ExoUser,
    Group,
    GroupMembers,
    Mailbox,
    MailboxPermission,
    MailboxStatistics,
    OrganizationConfig,
    RecipientPermission,
    RoleDefinition,
    SecurityDefaults,
    Snapshot,
    TenantInfo,
    TransportConfig,
    UserRegistration,
    UsersCondition,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DOMAIN = "contoso.com"
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
HR = "hr@contoso.com"
FULL_AUDIT = {
    "audit_owner": ("MailItemsAccessed", "Send", "UpdateInboxRules", "HardDelete", "Update"),
    "audit_delegate": (
        "MailItemsAccessed",
        "SendAs",
        "SendOnBehalf",
        "UpdateInboxRules",
        "HardDelete",
    ),
    "audit_admin": (
        "MailItemsAccessed",
        "Send",
        "SendAs",
        "SendOnBehalf",
        "UpdateInboxRules",
        "HardDelete",
    ),
}
_ids = iter(range(1, 10_000))


def new_id() -> str:
    return f"00000000-0000-0000-0000-{next(_ids):012d}"


def person(
    name: str,
    *,
    enabled: bool = True,
    licensed: bool = True,
    guest: bool = False,
    job_title: str | None = None,
    last_success: datetime | None = None,
    leave: datetime | None = None,
    sid: str | None = None,
) -> Account:
    upn = f"{name}_partner.example#EXT#@{DOMAIN}" if guest else f"{name}@{DOMAIN}"
    return Account(
        id=new_id(),
        user_principal_name=upn,
        display_name=name.replace(".", " ").title(),
        mail=f"{name}@partner.example" if guest else upn,
        mail_nickname=name,
        account_enabled=enabled,
        user_type="Guest" if guest else "Member",
        created=NOW - timedelta(days=900),
        last_password_change=NOW - timedelta(days=900),
        licenses=(E3,) if licensed else (),
        job_title=job_title,
        last_successful_sign_in=last_success,
        leave_date=leave,
        on_premises_sid=sid,
    )


def service_account(name: str, **changes: Any) -> Account:
    """The account behind an ownerless mailbox: disabled, unlicensed, never changed."""
    account = person(name, enabled=False, licensed=False)
    return dataclasses.replace(account, **changes)


def group(name: str, *members: Account | Group) -> tuple[Group, GroupMembers]:
    item = Group(id=new_id(), display_name=name, mail_nickname=name.lower().replace(" ", "-"))
    refs = tuple(
        DirectoryObjectRef(
            id=m.id,
            object_type="user" if isinstance(m, Account) else "group",
            display_name=m.display_name,
        )
        for m in members
    )
    return item, GroupMembers(group_id=item.id, members=refs)


def mailbox(account: Account, kind: str = "SharedMailbox", **changes: Any) -> Mailbox:
    name = account.mail_nickname or account.upn.split("@")[0]
    box = Mailbox(
        identity=name,
        name=name,
        alias=name,
        display_name=account.display_name,
        user_principal_name=account.user_principal_name,
        primary_smtp_address=account.user_principal_name,
        guid=new_id(),
        external_directory_object_id=account.id,
        recipient_type_details=kind,
        audit_enabled=True,
        account_disabled=not account.account_enabled,
        grant_send_on_behalf_to=(),
        archive_status="None",
        archive_guid="00000000-0000-0000-0000-000000000000",
        litigation_hold_enabled=False,
        in_place_holds=(),
        **FULL_AUDIT,
    )
    return dataclasses.replace(box, **changes)


def cas(box: Mailbox, **changes: Any) -> CasMailbox:
    row = CasMailbox(
        identity=box.identity,
        name=box.name,
        primary_smtp_address=box.primary_smtp_address,
        guid=box.guid,
        external_directory_object_id=box.external_directory_object_id,
        imap_enabled=False,
        pop_enabled=False,
        ews_enabled=False,
        activesync_enabled=False,
        mapi_enabled=False,
        owa_enabled=False,
        smtp_client_authentication_disabled=True,
    )
    return dataclasses.replace(row, **changes)


def exo_user(account: Account, **changes: Any) -> ExoUser:
    row = ExoUser(
        identity=account.mail_nickname,
        user_principal_name=account.user_principal_name,
        external_directory_object_id=account.id,
        remote_powershell_enabled=False,
        authentication_policy=None,
    )
    return dataclasses.replace(row, **changes)


def registration(account: Account, *methods: str) -> UserRegistration:
    return UserRegistration(
        id=account.id,
        user_principal_name=account.user_principal_name,
        is_mfa_registered=bool(methods),
        methods_registered=methods,
    )


def full_access(
    box: Mailbox,
    user: str,
    *,
    deny: bool = False,
    inherited: bool = False,
    rights: tuple[str, ...] = ("FullAccess",),
) -> MailboxPermission:
    return MailboxPermission(
        identity=box.identity or "",
        user=user,
        access_rights=rights,
        deny=deny,
        is_inherited=inherited,
    )


def send_as(box: Mailbox, trustee: str, *, deny: bool = False) -> RecipientPermission:
    return RecipientPermission(
        identity=box.identity or "",
        trustee=trustee,
        access_rights=("SendAs",),
        access_control_type="Deny" if deny else "Allow",
    )


def block_legacy(
    name: str = "Block legacy authentication", *, state: str = "enabled", **users: tuple[str, ...]
) -> ConditionalAccessPolicy:
    condition = UsersCondition(**{"include_users": ("All",), **users})
    return ConditionalAccessPolicy(
        id=new_id(),
        display_name=name,
        state=state,
        users=condition,
        client_app_types=("exchangeActiveSync", "other"),
        include_applications=("All",),
        grant_operator="OR",
        built_in_controls=("block",),
    )


BLOCK_BASIC = AuthenticationPolicy(
    identity="Block Basic Auth", allow_basic=(("Imap", False), ("Pop", False), ("Smtp", False))
)
ALLOW_IMAP = AuthenticationPolicy(
    identity="Allow IMAP", allow_basic=(("Imap", True), ("Pop", False), ("Smtp", False))
)


def hardened() -> Snapshot:
    """hr@contoso.com, shared and hardened, delegated to alice (a manager) directly."""
    hr = service_account("hr")
    alice = person("alice", job_title="HR Manager")
    box = mailbox(hr)
    own = mailbox(alice, "UserMailbox")
    return Snapshot(
        tenant=TenantInfo(
            tenant_id="tenant-1",
            display_name="Contoso",
            default_domain=DOMAIN,
            verified_domains=(DOMAIN,),
            collected_at=NOW,
        ),
        accounts=(hr, alice),
        mailboxes=(box, own),
        cas_mailboxes=(cas(box), cas(own, imap_enabled=True)),
        exo_users=(exo_user(hr, recipient_type_details="SharedMailbox"),
                   exo_user(alice, recipient_type_details="UserMailbox")),
        registrations=(registration(hr), registration(alice, "microsoftAuthenticatorPush")),
        mailbox_permissions=(
            full_access(box, "NT AUTHORITY\\SELF"),
            full_access(box, alice.user_principal_name),
        ),
        recipient_permissions=(send_as(box, "NT AUTHORITY\\SELF"),),
        mailbox_statistics=(
            MailboxStatistics(
                mailbox="hr", total_item_size=2 * 1024**3,
                last_interaction_time=NOW - timedelta(days=2),
            ),
        ),
        ca_policies=(block_legacy(),),
        authentication_policies=(BLOCK_BASIC, ALLOW_IMAP),
        organization_config=OrganizationConfig(
            audit_disabled=False, default_authentication_policy="Block Basic Auth",
            reject_direct_send=True,
        ),
        transport_config=TransportConfig(smtp_client_authentication_disabled=True),
        security_defaults=SecurityDefaults(enabled=False),
        audit_bypass=(
            AuditBypass(identity="hr", audit_bypass_enabled=False),
            AuditBypass(identity="alice", audit_bypass_enabled=False),
        ),
        role_definitions=(
            RoleDefinition(
                id=GLOBAL_ADMIN, display_name="Global Administrator", template_id=GLOBAL_ADMIN
            ),
        ),
    )


# -- changing one thing ---------------------------------------------------------------------


def account_of(snapshot: Snapshot, name: str) -> Account:
    return next(a for a in snapshot.accounts if a.mail_nickname == name)


def mailbox_of(snapshot: Snapshot, name: str = "hr") -> Mailbox:
    return next(m for m in snapshot.mailboxes if m.name == name)


def with_account(snapshot: Snapshot, name: str, **changes: Any) -> Snapshot:
    accounts = tuple(
        dataclasses.replace(a, **changes) if a.mail_nickname == name else a
        for a in snapshot.accounts
    )
    return dataclasses.replace(snapshot, accounts=accounts)


def with_mailbox(snapshot: Snapshot, name: str = "hr", **changes: Any) -> Snapshot:
    boxes = tuple(
        dataclasses.replace(m, **changes) if m.name == name else m for m in snapshot.mailboxes
    )
    return dataclasses.replace(snapshot, mailboxes=boxes)


def with_cas(snapshot: Snapshot, name: str = "hr", **changes: Any) -> Snapshot:
    rows = tuple(
        dataclasses.replace(c, **changes) if c.name == name else c for c in snapshot.cas_mailboxes
    )
    return dataclasses.replace(snapshot, cas_mailboxes=rows)


def with_exo_user(snapshot: Snapshot, name: str = "hr", **changes: Any) -> Snapshot:
    rows = tuple(
        dataclasses.replace(u, **changes) if u.identity == name else u for u in snapshot.exo_users
    )
    return dataclasses.replace(snapshot, exo_users=rows)


def adding(snapshot: Snapshot, **records: tuple[Any, ...]) -> Snapshot:
    """Append records to sources: adding(s, accounts=(bob,), mailbox_permissions=(...))."""
    changes = {name: getattr(snapshot, name) + tuple(rows) for name, rows in records.items()}
    return dataclasses.replace(snapshot, **changes)


def without(snapshot: Snapshot, source: str, field: str | None = None) -> Snapshot:
    """The snapshot as if `source` had failed to collect."""
    problems = {**snapshot.problems, source: f"{source}: 403 Forbidden (test)"}
    changes: dict[str, Any] = {"problems": problems}
    if field is not None:
        current = getattr(snapshot, field)
        changes[field] = None if not isinstance(current, tuple) else ()
    return dataclasses.replace(snapshot, **changes)


def run(snapshot: Snapshot, custodians: CustodianMap | None = None, **options: Any) -> ScanResult:
    return assess(snapshot, custodians=custodians, options=AssessOptions(**options))


def finding(result: ScanResult, check_id: str, upn: str | None = HR) -> Finding:
    matches = [f for f in result.findings if f.check_id == check_id and f.resource.upn == upn]
    assert len(matches) == 1, f"{check_id} on {upn}: {len(matches)} findings"
    return matches[0]


def status(snapshot: Snapshot, check_id: str, upn: str | None = HR, **options: Any) -> str:
    return finding(run(snapshot, **options), check_id, upn).status.value
