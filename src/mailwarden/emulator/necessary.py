"""The fewest requests a perfect client needs to collect a tenant from the emulator.

`necessary_requests(tenant)` counts, per service, what a client that knows every limit
and wastes nothing would send to read every source of SPEC section 4:

- ``login``: 2, one app-only token for Graph and one for Exchange (the OpenID
  discovery document MSAL reads first is not counted: a client may know the endpoint).
- ``graph``: 1 for `/organization`; ceil(n / max page) pages of every paged list (users
  at 120, the emulator's silent cap with signInActivity selected, as Graph's; groups and
  userRegistrationDetails at 999),
  at least 1 each; 1 each for roleAssignments, roleDefinitions, conditional-access
  policies, settings, subscribedSkus and roleEligibilitySchedules (Graph does not page
  them) and the security-defaults policy. A tenant without Entra ID P1 refuses
  signInActivity (1 request), and the users are then read at 999 a page; the
  registration report and, without P2, the eligibility schedules cost their refused
  request. And the `$batch` requests for group
  members: in round k, the groups with at least k pages of members (999 a page), 20 to
  a batch — a group's next page cannot ride in the batch that returns its first.
  Without the group list no member can be asked for, so no batches are counted.
- ``exchange``: ceil(rows / 1000) pages, at least 1, for each organisation-wide cmdlet
  (Get-Mailbox, Get-CASMailbox, Get-User, Get-RecipientPermission,
  Get-MailboxAuditBypassAssociation, Get-AuthenticationPolicy, Get-MailContact,
  Get-MailUser), 1 each for
  Get-OrganizationConfig and Get-TransportConfig, and the `$batch` requests for the
  per-mailbox calls: every mailbox that needs detail (shared, room, equipment and
  scheduling mailboxes, and user mailboxes whose account has no licence or whose
  licence is unknown) needs one Get-MailboxPermission, one Get-InboxRule and one
  Get-MailboxStatistics call, and a room or equipment mailbox one Get-CalendarProcessing
  call too, each ceil(rows / 1000) pages, at least 1; in round k the calls with at least k
  pages go 10 to a batch. Without Get-Mailbox no mailbox is known, so none are counted.

A source the tenant lacks still costs its first request (the one that is refused).
Retries, throttled requests and faults are never necessary: they are the difference
between a client's count (see `EmulatorStats`) and these numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailwarden.emulator.licensing import served_licences
from mailwarden.emulator.paging import DIRECTORY_MAX_TOP, SIGN_IN_ACTIVITY_MAX_TOP
from mailwarden.emulator.state import TenantState
from mailwarden.tenant.exchange import RECIPIENT_TYPE_DETAILS
from mailwarden.tenant.lenient import Record, to_enum
from mailwarden.tenant.recorded import RecordedTenant

GRAPH_BATCH_LIMIT = 20
#: Microsoft Graph and Office 365 Exchange Online: the resources of mail app roles.
MAIL_RESOURCE_APP_IDS = frozenset({"00000003-0000-0000-c000-000000000000",
                                   "00000002-0000-0ff1-ce00-000000000000"})
EXO_BATCH_LIMIT = 10
DIRECTORY_PAGE = DIRECTORY_MAX_TOP
#: The page the emulator serves users in when signInActivity is selected (it caps silently).
USERS_WITH_SIGN_IN_PAGE = SIGN_IN_ACTIVITY_MAX_TOP
EXO_PAGE = 1000

_UNPAGED_GRAPH = (
    "graph/roleAssignments",
    "graph/roleDefinitions",
    "graph/conditionalAccessPolicies",
    "graph/settings",
    "graph/subscribedSkus",
    "graph/roleEligibilitySchedules",
    "graph/securityDefaults",
)
_EXO_LISTS = (
    "Get-Mailbox",
    "Get-CASMailbox",
    "Get-User",
    "Get-RecipientPermission",
    "Get-MailboxAuditBypassAssociation",
    "Get-AuthenticationPolicy",
    "Get-MailContact",
    "Get-MailUser",
    "Get-ApplicationAccessPolicy",
    "Get-ManagementRoleAssignment",
)


def pages(count: int, size: int) -> int:
    """Requests to read `count` items `size` at a time; an empty list still takes one."""
    return max(1, -(-count // size))


def batches(depths: list[int], limit: int) -> int:
    """`$batch` requests for calls of `depths` pages each: round k carries every call's
    k-th page, `limit` to a batch (a next page cannot ride with the page that links it)."""
    waiting = (sum(1 for d in depths if d >= k) for k in range(1, max(depths, default=0) + 1))
    return sum(-(-count // limit) for count in waiting)


def _member_batches(state: TenantState) -> int:
    if not state.available("graph/groups"):
        return 0
    groups = [str(g.get("id")) for g in state.rows("graph/groups") if g.get("id")]
    depths = [pages(len(state.members(g)), DIRECTORY_PAGE) for g in groups]
    return batches(depths, GRAPH_BATCH_LIMIT)


def _graph(state: TenantState) -> int:
    count = 1  # /organization
    users = len(state.rows("graph/users"))
    if served_licences(state).p1:
        count += pages(users, USERS_WITH_SIGN_IN_PAGE)
        count += pages(len(state.rows("graph/userRegistrationDetails")), DIRECTORY_PAGE)
    else:
        count += 1 + pages(users, DIRECTORY_PAGE) + 1  # refused, read without; refused
    count += pages(len(state.rows("graph/groups")), DIRECTORY_PAGE)
    count += len(_UNPAGED_GRAPH)
    # Service principals, then one $batch for the appRoleAssignedTo of Microsoft Graph and
    # Office 365 Exchange Online (when either resource is in the tenant).
    count += pages(len(state.rows("graph/servicePrincipals")), DIRECTORY_PAGE)
    if any(str(sp.get("appId", "")).lower() in MAIL_RESOURCE_APP_IDS
           for sp in state.rows("graph/servicePrincipals")):
        count += 1
    return count + _member_batches(state)


#: Recipient types that are ownerless whatever their licence (SPEC section 5).
_NO_OWNER_TYPES = frozenset(
    {"sharedmailbox", "roommailbox", "equipmentmailbox", "schedulingmailbox"}
)


def _licences(state: TenantState) -> dict[str, bool] | None:
    """Account id (lower case) -> holds a licence; None when the users are not served."""
    if not state.available("graph/users"):
        return None
    result: dict[str, bool] = {}
    for user in state.rows("graph/users"):
        record = Record(user)
        account, licences = record.text("id"), record.get("assignedLicenses")
        if account and licences is not None:
            result[account.lower()] = bool(licences)
    return result


def _needs_detail(row: Mapping[str, Any], licences: Mapping[str, bool] | None) -> bool:
    """Ownerless by type, or a user mailbox whose account has no licence or an unknown one
    (a client cannot tell it apart, so it must read it)."""
    record = Record(row)
    kind = (to_enum(record.get("RecipientTypeDetails"), RECIPIENT_TYPE_DETAILS) or "").lower()
    if kind in _NO_OWNER_TYPES:
        return True
    if kind != "usermailbox":
        return False
    account = (record.text("ExternalDirectoryObjectId") or "").lower()
    return licences is None or not licences.get(account, False)


def _per_mailbox_cmdlets(row: Mapping[str, Any]) -> tuple[str, ...]:
    kind = (to_enum(Record(row).get("RecipientTypeDetails"), RECIPIENT_TYPE_DETAILS) or "")
    common = ("Get-MailboxPermission", "Get-InboxRule", "Get-MailboxStatistics")
    if kind.lower() in {"roommailbox", "equipmentmailbox"}:
        return (*common, "Get-CalendarProcessing")
    return common


def _exchange(state: TenantState) -> int:
    count = sum(pages(len(state.cmdlet_rows(c, None)), EXO_PAGE) for c in _EXO_LISTS)
    count += 2  # Get-OrganizationConfig, Get-TransportConfig
    if not state.available("exo/Get-Mailbox"):
        return count
    licences = _licences(state)
    seen: set[str] = set()
    depths: list[int] = []
    for row in state.rows("exo/Get-Mailbox"):
        # An address names a mailbox unambiguously to every per-mailbox cmdlet.
        key = Record(row).text("PrimarySmtpAddress", "UserPrincipalName", "Guid", "Identity")
        if key is None or key.lower() in seen:
            continue
        if not _needs_detail(row, licences):
            continue
        seen.add(key.lower())
        recipient = state.resolve(key, mailbox=True)
        for cmdlet in _per_mailbox_cmdlets(row):
            rows = state.cmdlet_rows(cmdlet, recipient) if recipient is not None else []
            depths.append(pages(len(rows), EXO_PAGE))
    return count + batches(depths, EXO_BATCH_LIMIT)


def necessary_requests(tenant: RecordedTenant) -> dict[str, int]:
    """Per service ("login", "graph", "exchange"): see the module docstring."""
    state = TenantState(tenant)
    return {"login": 2, "graph": _graph(state), "exchange": _exchange(state)}
