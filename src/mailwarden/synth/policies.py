"""Tenant-wide settings: directory roles, conditional access, authentication policies."""

from __future__ import annotations

from collections.abc import Sequence

from mailwarden.synth.constants import ROLES
from mailwarden.synth.context import Context
from mailwarden.synth.mailboxes import BASIC_AUTH_POLICY
from mailwarden.synth.model import Account, ConditionalAccess

DEFAULT_AUTH_POLICY = "Block Basic Auth"


def role_assignments(ctx: Context, admins: Sequence[Account], breakglass: Account,
                     staff: Sequence[Account], privileged: str) -> tuple[tuple[str, str], ...]:
    """Admins hold their roles; so does one shared mailbox's account, left over from
    when an admin's own mailbox was converted to shared."""
    it_staff = [person for person in staff if person.department == "IT"] or list(staff)
    assignments = [(breakglass.id, "Global Administrator")]
    assignments += [(admin.id, "Global Administrator") for admin in admins[:2]]
    assignments += [(admins[0].id, "Exchange Administrator"), (admins[1].id, "User Administrator")]
    assignments += [(admin.id, "Exchange Administrator") for admin in admins[2:]]
    assignments.append((ctx.rng.choice(it_staff).id, "Helpdesk Administrator"))
    assignments.append((ctx.rng.choice(it_staff).id, "Security Administrator"))
    assignments.append((ctx.rng.choice(staff).id, "Global Reader"))
    assignments.append((privileged, "Exchange Administrator"))
    return tuple(assignments)


def conditional_access(ctx: Context, breakglass: Account,
                       exceptions_group: str) -> tuple[ConditionalAccess, ...]:
    """A legacy-auth block with an exclusion group, an MFA policy for admins, a
    report-only MFA policy for everyone, and an abandoned, disabled block."""
    admin_roles = tuple(ROLES[name][0] for name in (
        "Global Administrator", "Exchange Administrator", "User Administrator",
        "Security Administrator", "Helpdesk Administrator"))
    return (
        ConditionalAccess(
            id=ctx.guid(), display_name="Block legacy authentication", state="enabled",
            created=ctx.days_ago(300, 900), include_users=("All",),
            exclude_users=(breakglass.id,), exclude_groups=(exceptions_group,),
            client_app_types=("exchangeActiveSync", "other"), built_in_controls=("block",),
        ),
        ConditionalAccess(
            id=ctx.guid(), display_name="Require MFA for administrators", state="enabled",
            created=ctx.days_ago(300, 900), include_roles=admin_roles,
            exclude_users=(breakglass.id,), built_in_controls=("mfa",),
        ),
        ConditionalAccess(
            id=ctx.guid(), display_name="Require MFA for all users (pilot)",
            state="enabledForReportingButNotEnforced", created=ctx.days_ago(20, 120),
            include_users=("All",), exclude_users=(breakglass.id,),
            built_in_controls=("mfa",),
        ),
        ConditionalAccess(
            id=ctx.guid(), display_name="Block legacy authentication - old", state="disabled",
            created=ctx.days_ago(900, 1_500), include_users=("All",),
            client_app_types=("exchangeActiveSync", "other"), built_in_controls=("block",),
        ),
    )


def authentication_policies() -> dict[str, frozenset[str]]:
    """Policy name -> protocols it allows basic authentication for."""
    return {
        DEFAULT_AUTH_POLICY: frozenset(),
        BASIC_AUTH_POLICY: frozenset({"Smtp", "Imap", "Pop"}),
    }
