"""Which ownerless mailboxes each application can read or send as, without a user.

Sources and the rules they state:

- Entra ID application permissions: Graph `appRoleAssignment`s of a service principal on
  the Microsoft Graph or Office 365 Exchange Online resource, resolved to their names
  through the resource's own `appRoles`. Without a limit they reach *every* mailbox
  ("apps that have been granted application permissions to ... Mail ... can access all the
  mailboxes in the organization", microsoft-graph-docs-contrib
  concepts/auth-limit-mailbox-access.md, which lists Mail.Read, Mail.ReadBasic,
  Mail.ReadBasic.All, Mail.ReadWrite, Mail.Send and EWS full_access_as_app).
  `EWS.AccessAsUser.All` is a delegated scope (an oauth2PermissionScope, never an app
  role): it acts as a signed-in user, so it is not counted here.
- Application access policies (Get-ApplicationAccessPolicy; office-docs-powershell
  New-ApplicationAccessPolicy.md): for an app and a target mailbox, a DenyAccess policy
  whose group holds the mailbox denies; else a RestrictAccess policy whose group holds it
  grants; else any RestrictAccess policy of the app denies; else access is granted. The
  group is named by ScopeIdentityRaw "<SID>;<object id>" and nested groups count.
- RBAC for Applications (Get-ManagementRoleAssignment rows of RoleAssigneeType
  ServicePrincipal and an "Application ..." role): a role with no resource scope reaches
  every mailbox. Learn "Role Based Access Control for Applications in Exchange Online"
  (FAQ): "the assigned permissions are a union operation on the permissions from
  Microsoft Entra ID and the permissions assigned in Exchange Online RBAC" and "Microsoft
  Entra permissions can only be constrained using Application Access Policies": a scoped
  RBAC assignment never limits an Entra grant, and an access policy never limits RBAC.

An app is *unscoped* when an Entra grant has no RestrictAccess policy (a DenyAccess-only
policy keeps a list out, and every mailbox created later is in reach) or an RBAC role has
no scope. Membership of a management scope's filter or an administrative unit is not
collected: a scoped RBAC assignment is reported by its scope, not by mailbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mailwarden.assess.index import TenantIndex
from mailwarden.assess.inventory import Subject
from mailwarden.model.inventory import ApplicationAccessPolicy, ServicePrincipal

#: Application permissions (app role values) that read or send mail in every mailbox.
MAIL_PERMISSIONS = frozenset(
    {
        "mail.read",
        "mail.readbasic",
        "mail.readbasic.all",
        "mail.readwrite",
        "mail.send",
        "full_access_as_app",
    }
)
#: RBAC for Applications roles that read or send mail (the Learn page's role table).
RBAC_MAIL_ROLES = frozenset(
    {
        "application mail.read",
        "application mail.readbasic",
        "application mail.readwrite",
        "application mail.send",
        "application mail full access",
        "application exchange full access",
        "application ews.accessasapp",
        "application mailboxitem.read",
        "application mailboxitem.readwrite",
        "application mailboxitem.export",
        "application mailboxitem.importexport",
        "application mail-advanced.readwrite.all",
    }
)
RESTRICT = "restrictaccess"
DENY = "denyaccess"


@dataclass(frozen=True, slots=True, kw_only=True)
class AppReach:
    """One application that holds mail permissions, and the ownerless mailboxes it reaches."""

    app_id: str
    display_name: str
    service_principal_id: str | None
    entra_permissions: tuple[str, ...]  # app role values granted in Entra ID
    #: The grants behind them: (assignment id, resource service principal id, app role id,
    #: permission), what removing one takes.
    entra_grants: tuple[tuple[str, str, str, str], ...] = ()
    rbac_unscoped: tuple[str, ...]  # RBAC for Applications roles without a scope
    rbac_scoped: tuple[tuple[str, str], ...]  # (role, scope)
    restrict_groups: tuple[str, ...]  # RestrictAccess policy scopes (names)
    deny_groups: tuple[str, ...]
    mailboxes: tuple[str, ...]  # ownerless mailboxes (UPNs) in reach, known by name
    undecided: tuple[str, ...]  # ownerless mailboxes whose policy group membership is unknown

    @property
    def unscoped(self) -> bool:
        return bool(self.rbac_unscoped) or (
            bool(self.entra_permissions) and not self.restrict_groups
        )

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                self.entra_permissions
                + self.rbac_unscoped
                + tuple(role for role, _ in self.rbac_scoped)
            )
        )


Grant = tuple[str, str, str, str]


def _entra_grants(index: TenantIndex) -> dict[str, list[Grant]]:
    """Service principal id -> the mail application permissions it holds in Entra ID, as
    (assignment id, resource id, app role id, permission)."""
    snapshot = index.snapshot
    roles: dict[tuple[str, str], str] = {}
    for sp in snapshot.service_principals:
        for role in sp.app_roles:
            if role.value and role.value.lower() in MAIL_PERMISSIONS:
                roles[(sp.id, role.id)] = role.value
    grants: dict[str, list[Grant]] = {}
    for assignment in snapshot.app_role_assignments:
        if (assignment.principal_type or "ServicePrincipal").lower() != "serviceprincipal":
            continue
        name = roles.get((assignment.resource_id, assignment.app_role_id))
        if name is not None:
            grants.setdefault(assignment.principal_id, []).append(
                (assignment.id, assignment.resource_id, assignment.app_role_id, name)
            )
    return grants


def _principal_of(
    names: Iterable[str | None], by_key: dict[str, ServicePrincipal]
) -> ServicePrincipal | None:
    return next((sp for name in names if name and (sp := by_key.get(name.lower()))), None)


def _group_id(policy: ApplicationAccessPolicy, index: TenantIndex) -> str | None:
    if policy.scope_group_id:
        return policy.scope_group_id
    for name in (policy.scope_identity, policy.scope_name):
        group = index.group(name) if name else None
        if group is None and name:
            named = index.groups_named(name)
            group = named[0] if len(named) == 1 else None
        if group is not None:
            return group.id.lower()
    return None


def _in_group(index: TenantIndex, group_id: str | None, subject: Subject) -> bool | None:
    if group_id is None or subject.account is None:
        return None
    return index.group_graph.contains(group_id, subject.account.id)


def _reaches(
    index: TenantIndex, subject: Subject, restrict: list[str | None], deny: list[str | None]
) -> bool | None:
    """New-ApplicationAccessPolicy's rules, in order; None when a membership is unknown."""
    denied = [_in_group(index, g, subject) for g in deny]
    if True in denied:
        return False
    if None in denied:
        return None
    allowed = [_in_group(index, g, subject) for g in restrict]
    if True in allowed:
        return True
    if None in allowed:
        return None
    return not restrict


def application_reach(index: TenantIndex, subjects: Sequence[Subject]) -> tuple[AppReach, ...]:
    """Every application holding mail permissions (in Entra ID or RBAC for Applications),
    by display name, with the ownerless mailboxes it reaches."""
    snapshot = index.snapshot
    by_key: dict[str, ServicePrincipal] = {}
    for sp in snapshot.service_principals:
        for key in (sp.id, sp.app_id, sp.display_name):
            if key:
                by_key.setdefault(key.lower(), sp)
    grants = _entra_grants(index)
    rbac: dict[str, tuple[list[str], list[tuple[str, str]]]] = {}
    rbac_names: dict[str, str] = {}
    for row in snapshot.management_role_assignments:
        if (row.role_assignee_type or "").lower() != "serviceprincipal":
            continue
        if row.role.lower() not in RBAC_MAIL_ROLES or row.enabled is False:
            continue
        assignee = _principal_of((row.role_assignee, row.role_assignee_name), by_key)
        if assignee is not None:
            key = assignee.app_id or assignee.id
            rbac_names.setdefault(key, assignee.display_name or key)
        else:
            key = (row.role_assignee or row.role_assignee_name or "").lower()
            rbac_names.setdefault(key, row.role_assignee_name or key)
        unscoped, scoped = rbac.setdefault(key, ([], []))
        if row.scope:
            scoped.append((row.role, row.scope))
        elif row.role not in unscoped:
            unscoped.append(row.role)
    apps: dict[str, tuple[str, str | None, list[Grant]]] = {}
    for sp_id, held in grants.items():
        holder = by_key.get(sp_id)
        key = (holder.app_id if holder else None) or sp_id
        apps[key] = ((holder.display_name if holder else None) or key, sp_id, held)
    for key in rbac:
        if key not in apps:
            holder = by_key.get(key)
            apps[key] = (rbac_names[key], holder.id if holder else None, [])
    result = []
    for app_id, (name, principal, held) in apps.items():
        permissions = sorted({grant[3] for grant in held})
        policies = [p for p in snapshot.application_access_policies if p.app_id in (app_id, "*")]
        restrict = [p for p in policies if (p.access_right or "").lower() == RESTRICT]
        deny = [p for p in policies if (p.access_right or "").lower() == DENY]
        unscoped_roles, scoped_roles = rbac.get(app_id, ([], []))
        reached: list[str] = []
        undecided: list[str] = []
        for subject in subjects:
            if unscoped_roles:
                reached.append(subject.upn)
                continue
            if not permissions:
                continue
            verdict = _reaches(
                index,
                subject,
                [_group_id(p, index) for p in restrict],
                [_group_id(p, index) for p in deny],
            )
            if verdict is True:
                reached.append(subject.upn)
            elif verdict is None:
                undecided.append(subject.upn)
        result.append(
            AppReach(
                app_id=app_id,
                display_name=name,
                service_principal_id=principal,
                entra_permissions=tuple(permissions),
                entra_grants=tuple(sorted(held)),
                rbac_unscoped=tuple(sorted(unscoped_roles)),
                rbac_scoped=tuple(sorted(scoped_roles)),
                restrict_groups=tuple(p.scope_name or p.scope_identity or "?" for p in restrict),
                deny_groups=tuple(p.scope_name or p.scope_identity or "?" for p in deny),
                mailboxes=tuple(sorted(reached)),
                undecided=tuple(sorted(undecided)),
            )
        )
    return tuple(sorted(result, key=lambda app: (app.display_name.lower(), app.app_id)))
