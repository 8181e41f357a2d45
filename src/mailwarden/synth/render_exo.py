"""Spell recipients and organisation settings the way the Exchange Online admin API
(InvokeCommand) returns cmdlet output: PascalCase, DateTimes with seven fraction digits."""

from __future__ import annotations

from typing import Any

from mailwarden.synth.constants import BASIC_AUTH_PROTOCOLS, COLLECTED_AT
from mailwarden.synth.ids import derived_guid, exo_date, exo_utc_date, legacy_dn
from mailwarden.synth.model import Account, MailboxSettings, MailContact, Tenant
from mailwarden.synth.posture import default_settings
from mailwarden.synth.render_access import render_access
from mailwarden.synth.render_upkeep import render_upkeep

DISCOVERY = "DiscoverySearchMailbox{D919BA05-46A6-415f-80AD-7E09334BB852}"


def _dn(tenant: Tenant, name: str) -> str:
    return (f"CN={name},OU={tenant.initial_domain},OU=Microsoft Exchange Hosted Organizations,"
            f"DC={tenant.exo_forest},DC=PROD,DC=OUTLOOK,DC=COM")


def _send_on_behalf(tenant: Tenant) -> dict[str, list[str]]:
    """Mailbox account id -> GrantSendOnBehalfTo (recipient names, as Exchange lists them)."""
    names: dict[str, str] = {account.id: account.exo_name for account in tenant.accounts}
    names.update({item.id: item.display_name for item in tenant.groups})
    result: dict[str, list[str]] = {}
    for box in tenant.ownerless:
        delegates = [names[grant.principal] for grant in box.grants
                     if grant.right == "SendOnBehalf" and not grant.deny]
        result[box.account_id] = delegates
    return result


ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def mailbox(tenant: Tenant, account: Account, settings: MailboxSettings,
            send_on_behalf: list[str]) -> dict[str, Any]:
    kind = account.recipient_type
    resource = kind in {"RoomMailbox", "EquipmentMailbox"}
    address = account.mail or account.upn
    created = exo_date(account.created)
    return {
        "Name": account.exo_name,
        "Identity": account.exo_name,
        "Alias": account.mail_nickname,
        "DisplayName": account.display_name,
        "UserPrincipalName": account.upn,
        "PrimarySmtpAddress": address,
        "EmailAddresses": [f"SMTP:{address}",
                           f"smtp:{account.mail_nickname}@{tenant.initial_domain}"],
        "Guid": account.exo_guid,
        "ExchangeGuid": account.exchange_guid,
        "ExternalDirectoryObjectId": account.id,
        "DistinguishedName": _dn(tenant, account.exo_name),
        "LegacyExchangeDN": legacy_dn(account.exchange_guid, account.mail_nickname),
        "RecipientType": "UserMailbox",
        "RecipientTypeDetails": kind,
        "AccountDisabled": not account.enabled,
        "RoomMailboxAccountEnabled": account.enabled if resource else None,
        "AuditEnabled": settings.audit_enabled,
        "AuditLogAgeLimit": "90.00:00:00",
        "AuditOwner": list(settings.audit_owner),
        "AuditDelegate": list(settings.audit_delegate),
        "AuditAdmin": list(settings.audit_admin),
        "DefaultAuditSet": list(settings.default_audit_set),
        "ForwardingAddress": settings.forwarding_address,
        "ForwardingSmtpAddress": settings.forwarding_smtp,
        "DeliverToMailboxAndForward": settings.deliver_and_forward,
        "GrantSendOnBehalfTo": send_on_behalf,
        "HiddenFromAddressListsEnabled": resource,
        "ArchiveStatus": "Active" if settings.archive else "None",
        "ArchiveGuid": derived_guid(account.id, "archive") if settings.archive else ZERO_GUID,
        "LitigationHoldEnabled": settings.litigation_hold,
        "InPlaceHolds": [],
        "WhenMailboxCreated": created,
        "WhenCreated": created,
        "WhenCreatedUTC": exo_utc_date(account.created),
    }


def discovery_mailbox(tenant: Tenant) -> dict[str, Any]:
    """The system mailbox every tenant has; it backs eDiscovery, nobody signs in to it."""
    upn = f"{DISCOVERY}@{tenant.initial_domain}"
    created = COLLECTED_AT.replace(year=2016, month=3, day=14, hour=9)
    return {
        "Name": DISCOVERY, "Identity": DISCOVERY, "Alias": DISCOVERY.split("{")[0],
        "DisplayName": "Discovery Search Mailbox", "UserPrincipalName": upn,
        "PrimarySmtpAddress": upn, "EmailAddresses": [f"SMTP:{upn}"],
        "Guid": derived_guid(tenant.tenant_id, "discovery"),
        "ExchangeGuid": derived_guid(tenant.tenant_id, "discovery-mailbox"),
        "ExternalDirectoryObjectId": "", "DistinguishedName": _dn(tenant, DISCOVERY),
        "LegacyExchangeDN": legacy_dn(derived_guid(tenant.tenant_id, "discovery-mailbox"),
                                      "DiscoverySearchMailbox"),
        "RecipientType": "UserMailbox", "RecipientTypeDetails": "DiscoveryMailbox",
        "AccountDisabled": True, "RoomMailboxAccountEnabled": None, "AuditEnabled": False,
        "AuditLogAgeLimit": "90.00:00:00", "AuditOwner": [], "AuditDelegate": [],
        "AuditAdmin": [], "DefaultAuditSet": [], "ForwardingAddress": None,
        "ForwardingSmtpAddress": None, "DeliverToMailboxAndForward": False,
        "GrantSendOnBehalfTo": [], "HiddenFromAddressListsEnabled": True,
        "WhenMailboxCreated": exo_date(created), "WhenCreated": exo_date(created),
        "WhenCreatedUTC": exo_utc_date(created),
    }


def cas_mailbox(account: Account, settings: MailboxSettings) -> dict[str, Any]:
    return {
        "Name": account.exo_name, "Identity": account.exo_name,
        "DisplayName": account.display_name,
        "PrimarySmtpAddress": account.mail or account.upn, "Guid": account.exo_guid,
        "ExternalDirectoryObjectId": account.id,
        "ActiveSyncEnabled": settings.activesync, "OWAEnabled": settings.owa,
        "PopEnabled": settings.pop, "ImapEnabled": settings.imap, "MAPIEnabled": settings.mapi,
        "EwsEnabled": settings.ews,
        "SmtpClientAuthenticationDisabled": settings.smtp_auth_disabled,
    }


def exo_user(account: Account) -> dict[str, Any]:
    if account.user_type == "Guest":
        kinds = ("MailUser", "GuestMailUser")
    elif account.recipient_type:
        kinds = ("UserMailbox", account.recipient_type)
    else:
        kinds = ("User", "User")
    return {
        "Name": account.exo_name, "Identity": account.exo_name,
        "DisplayName": account.display_name, "UserPrincipalName": account.upn,
        "ExternalDirectoryObjectId": account.id, "Guid": account.exo_guid,
        "RecipientType": kinds[0], "RecipientTypeDetails": kinds[1],
        "AccountDisabled": not account.enabled,
        "RemotePowerShellEnabled": account.remote_powershell,
        "AuthenticationPolicy": account.auth_policy,
        "WhenCreatedUTC": exo_utc_date(account.created),
    }


def mail_contact(tenant: Tenant, contact: MailContact) -> dict[str, Any]:
    """A Get-MailContact row: ExternalEmailAddress with its "SMTP:" prefix, as Exchange
    writes it; the primary address is the external one."""
    return {
        "Name": contact.name, "Identity": contact.name, "Alias": contact.alias,
        "DisplayName": contact.display_name, "PrimarySmtpAddress": contact.external_address,
        "ExternalEmailAddress": f"SMTP:{contact.external_address}",
        "EmailAddresses": [f"SMTP:{contact.external_address}"],
        "Guid": contact.exo_guid, "ExternalDirectoryObjectId": contact.id,
        "DistinguishedName": _dn(tenant, contact.name),
        "LegacyExchangeDN": legacy_dn(contact.exo_guid, contact.alias),
        "RecipientType": "MailContact", "RecipientTypeDetails": "MailContact",
        "HiddenFromAddressListsEnabled": False,
        "WhenCreated": exo_date(contact.created), "WhenCreatedUTC": exo_utc_date(contact.created),
    }


def guest_mail_user(tenant: Tenant, account: Account) -> dict[str, Any]:
    """A Get-MailUser row for a guest: Exchange lists guests as mail users whose mail goes
    to their own address elsewhere."""
    address = account.mail or account.upn
    return {
        "Name": account.exo_name, "Identity": account.exo_name, "Alias": account.mail_nickname,
        "DisplayName": account.display_name, "UserPrincipalName": account.upn,
        "PrimarySmtpAddress": address, "ExternalEmailAddress": f"SMTP:{address}",
        "EmailAddresses": [f"SMTP:{address}"],
        "Guid": account.exo_guid, "ExternalDirectoryObjectId": account.id,
        "DistinguishedName": _dn(tenant, account.exo_name),
        "LegacyExchangeDN": legacy_dn(account.exchange_guid, account.mail_nickname),
        "RecipientType": "MailUser", "RecipientTypeDetails": "GuestMailUser",
        "WhenCreated": exo_date(account.created), "WhenCreatedUTC": exo_utc_date(account.created),
    }


def bypass_association(account: Account, bypassed: frozenset[str]) -> dict[str, Any]:
    return {
        "Name": account.exo_name, "Identity": account.exo_name, "Guid": account.exo_guid,
        "AuditBypassEnabled": account.id in bypassed,
        "WhenChangedUTC": exo_utc_date(account.created),
    }


def organisation(tenant: Tenant) -> dict[str, Any]:
    policies = [{
        "Name": name, "Identity": name, "Guid": derived_guid(tenant.tenant_id, name),
        **{f"AllowBasicAuth{protocol}": protocol in allowed for protocol in BASIC_AUTH_PROTOCOLS},
        "WhenCreatedUTC": exo_utc_date(COLLECTED_AT.replace(year=2021)), "IsValid": True,
    } for name, allowed in tenant.auth_policies.items()]
    return {
        "exo/Get-AuthenticationPolicy": policies,
        "exo/Get-OrganizationConfig": {
            "Name": tenant.initial_domain.split(".")[0], "Identity": tenant.initial_domain,
            "DisplayName": tenant.display_name, "Guid": derived_guid(tenant.tenant_id, "org"),
            "AuditDisabled": tenant.audit_disabled_org,
            "DefaultAuthenticationPolicy": tenant.default_auth_policy,
            "OAuth2ClientProfileEnabled": True, "SendFromAliasEnabled": False,
            "RejectDirectSend": tenant.reject_direct_send,
            "IsValid": True,
        },
        "exo/Get-TransportConfig": {
            "Name": "Transport Settings", "Identity": "Transport Settings",
            "SmtpClientAuthenticationDisabled": tenant.transport_smtp_auth_disabled,
            "AllowLegacyTLSClients": False, "IsValid": True,
        },
    }


def render_exo(tenant: Tenant) -> dict[str, Any]:
    configs = {box.account_id: box.settings for box in tenant.ownerless}
    send_on_behalf = _send_on_behalf(tenant)
    default = default_settings()
    with_mailbox = [account for account in tenant.accounts if account.recipient_type]
    mailboxes = [mailbox(tenant, account, configs.get(account.id, default),
                         send_on_behalf.get(account.id, [])) for account in with_mailbox]
    mailboxes.append(discovery_mailbox(tenant))
    return {
        "exo/Get-Mailbox": mailboxes,
        "exo/Get-CASMailbox": [cas_mailbox(account, configs.get(account.id, default))
                               for account in with_mailbox],
        "exo/Get-User": [exo_user(account) for account in tenant.accounts],
        "exo/Get-MailboxAuditBypassAssociation": [
            bypass_association(account, tenant.bypass_account_ids) for account in with_mailbox],
        "exo/Get-MailContact": [mail_contact(tenant, contact) for contact in tenant.contacts],
        "exo/Get-MailUser": [guest_mail_user(tenant, account) for account in tenant.accounts
                             if account.user_type == "Guest"],
        **render_access(tenant),
        **render_upkeep(tenant),
        **organisation(tenant),
    }
