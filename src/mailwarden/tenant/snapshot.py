"""Raw recorded-tenant content -> typed `Snapshot`.

Each source is parsed record by record; a record that cannot be used is kept as a
`SkippedRecord` with its reason (and counted), never dropped silently. A source that is
missing or failed is listed in `Snapshot.problems`, so checks that need it say `error`.
Records are sorted into a canonical order, so the same tenant read from two places
(a generator's files, or a collection through the API) gives equal snapshots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from mailwarden.gcpause import cyclic_gc_paused
from mailwarden.model.inventory import SkippedRecord, Snapshot
from mailwarden.tenant.exchange import (
    parse_application_access_policy,
    parse_audit_bypass,
    parse_authentication_policy,
    parse_cas_mailbox,
    parse_exo_user,
    parse_inbox_rule,
    parse_mail_recipient,
    parse_mailbox,
    parse_mailbox_permission,
    parse_management_role_assignment,
    parse_organization_config,
    parse_recipient_permission,
    parse_transport_config,
)
from mailwarden.tenant.graph import (
    parse_account,
    parse_app_role_assigned_to,
    parse_ca_policy,
    parse_group,
    parse_group_members,
    parse_registration,
    parse_role_assignment,
    parse_role_definition,
    parse_role_eligibility,
    parse_security_defaults,
    parse_service_principal,
    parse_setting,
    parse_subscribed_sku,
    parse_tenant,
)
from mailwarden.tenant.lenient import Record
from mailwarden.tenant.recorded import ALL_SOURCES, RecordedTenant, read_recorded_tenant
from mailwarden.tenant.records import parse_list
from mailwarden.tenant.resources import parse_calendar_processing, parse_mailbox_statistics

T = TypeVar("T")


def _object(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _identity(record: Record) -> str | None:
    """The mailbox a permission row belongs to."""
    return record.text("Identity")


def snapshot_from_recorded(recorded: RecordedTenant) -> Snapshot:
    """Parse every source; missing and failed sources become `problems`."""
    with cyclic_gc_paused():
        return _parse_snapshot(recorded)


def _parse_snapshot(recorded: RecordedTenant) -> Snapshot:
    data = recorded.data
    skipped: list[SkippedRecord] = []

    def rows(
        source: str,
        parse_one: Callable[[Record], T],
        subject: Callable[[Record], str | None] | None = None,
    ) -> tuple[T, ...]:
        return parse_list(source, data.get(source), parse_one, skipped, subject)

    problems = {s: p for s in ALL_SOURCES if (p := recorded.problem(s)) is not None}
    # Parts of sources a licence withheld (users' signInActivity) are problems too.
    problems.update({s: r for s, r in recorded.limitations.items() if s not in problems})
    return Snapshot(
        tenant=parse_tenant(_object(data.get("tenant"))),
        accounts=rows("graph/users", parse_account),
        groups=rows("graph/groups", parse_group),
        group_members=parse_group_members(_object(data.get("graph/groupMembers")), skipped),
        role_definitions=rows("graph/roleDefinitions", parse_role_definition),
        role_assignments=rows("graph/roleAssignments", parse_role_assignment),
        role_eligibilities=rows("graph/roleEligibilitySchedules", parse_role_eligibility),
        ca_policies=rows("graph/conditionalAccessPolicies", parse_ca_policy),
        directory_settings=rows("graph/settings", parse_setting),
        registrations=rows("graph/userRegistrationDetails", parse_registration),
        mailboxes=rows("exo/Get-Mailbox", parse_mailbox),
        cas_mailboxes=rows("exo/Get-CASMailbox", parse_cas_mailbox),
        mailbox_permissions=rows(
            "exo/Get-MailboxPermission", parse_mailbox_permission, _identity
        ),
        recipient_permissions=rows(
            "exo/Get-RecipientPermission", parse_recipient_permission, _identity
        ),
        exo_users=rows("exo/Get-User", parse_exo_user),
        inbox_rules=rows("exo/Get-InboxRule", parse_inbox_rule),
        calendar_processing=rows(
            "exo/Get-CalendarProcessing", parse_calendar_processing, _identity
        ),
        mailbox_statistics=rows(
            "exo/Get-MailboxStatistics", parse_mailbox_statistics, _identity
        ),
        audit_bypass=rows("exo/Get-MailboxAuditBypassAssociation", parse_audit_bypass),
        mail_contacts=rows("exo/Get-MailContact", parse_mail_recipient),
        mail_users=rows("exo/Get-MailUser", parse_mail_recipient),
        authentication_policies=rows("exo/Get-AuthenticationPolicy", parse_authentication_policy),
        organization_config=parse_organization_config(
            _object(data.get("exo/Get-OrganizationConfig"))
        ),
        transport_config=parse_transport_config(_object(data.get("exo/Get-TransportConfig"))),
        security_defaults=parse_security_defaults(_object(data.get("graph/securityDefaults"))),
        subscribed_skus=rows("graph/subscribedSkus", parse_subscribed_sku),
        service_principals=rows("graph/servicePrincipals", parse_service_principal),
        app_role_assignments=parse_app_role_assigned_to(
            _object(data.get("graph/appRoleAssignedTo")), skipped
        ),
        application_access_policies=rows(
            "exo/Get-ApplicationAccessPolicy", parse_application_access_policy
        ),
        management_role_assignments=rows(
            "exo/Get-ManagementRoleAssignment", parse_management_role_assignment
        ),
        problems=problems,
        limitations=dict(recorded.limitations),
        skipped=tuple(skipped),
        mailbox_problems={
            source: {str(key).lower(): message for key, message in failed.items()}
            for source, failed in sorted(recorded.mailbox_errors.items())
            if failed and source not in problems
        },
    )


def load_snapshot(directory: Path) -> Snapshot:
    """Read a recorded tenant directory into a snapshot."""
    with cyclic_gc_paused():  # across both steps: the raw data would be rescanned between
        return snapshot_from_recorded(read_recorded_tenant(directory))


def skipped_counts(skipped: Iterable[SkippedRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in skipped:
        base = item.source.split("[", 1)[0]
        counts[base] = counts.get(base, 0) + 1
    return counts
