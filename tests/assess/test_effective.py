"""Effective settings: SMTP AUTH inheritance, authentication policies, and conditional
access coverage (users, groups, roles, report-only, disabled, exclusions)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mailwarden.model.findings import Severity, Status
from mailwarden.model.inventory import OrganizationConfig, RoleAssignment, Snapshot, TransportConfig
from tests.assess.assess_factory import (
    GLOBAL_ADMIN,
    account_of,
    adding,
    block_legacy,
    finding,
    group,
    hardened,
    run,
    status,
    with_account,
    with_cas,
    with_exo_user,
)


def transport(snapshot: Snapshot, disabled: bool | None) -> Snapshot:
    return replace(
        snapshot, transport_config=TransportConfig(smtp_client_authentication_disabled=disabled)
    )


@pytest.mark.parametrize(
    ("mailbox", "organisation", "expected", "source"),
    [
        (True, False, "pass", "mailbox"),  # the mailbox's own setting wins
        (False, True, "fail", "mailbox"),
        (None, False, "fail", "organisation"),  # unset on the mailbox: inherited
        (None, True, "pass", "organisation"),
        (None, None, "error", "unknown"),
    ],
)
def test_smtp_auth_falls_back_to_the_transport_config(
    mailbox: bool | None, organisation: bool | None, expected: str, source: str
) -> None:
    snapshot = transport(
        with_cas(hardened(), smtp_client_authentication_disabled=mailbox), organisation
    )
    got = finding(run(snapshot), "smtp-auth-enabled")
    assert got.status.value == expected
    assert got.evidence["source"] == source


def test_smtp_auth_is_error_when_the_transport_config_was_not_collected() -> None:
    snapshot = replace(
        with_cas(hardened(), smtp_client_authentication_disabled=None),
        transport_config=None,
        problems={"exo/Get-TransportConfig": "timed out (test)"},
    )
    got = finding(run(snapshot), "smtp-auth-enabled")
    assert got.status is Status.ERROR and "Get-TransportConfig" in got.evidence["reason"]


def test_basic_auth_policy_of_the_account_wins_over_the_organisation_default() -> None:
    assert (
        status(with_exo_user(hardened(), authentication_policy="Allow IMAP"), "basic-auth-allowed")
        == "fail"
    )
    org_allows = replace(
        hardened(),
        organization_config=OrganizationConfig(
            audit_disabled=False, default_authentication_policy="Allow IMAP"
        ),
    )
    assert status(org_allows, "basic-auth-allowed") == "fail"
    assert (
        status(
            with_exo_user(org_allows, authentication_policy="Block Basic Auth"),
            "basic-auth-allowed",
        )
        == "pass"
    )


def test_without_any_policy_basic_auth_follows_microsofts_retirement() -> None:
    snapshot = replace(
        hardened(),
        organization_config=OrganizationConfig(audit_disabled=False),
    )
    got = finding(run(snapshot), "basic-auth-allowed")
    assert got.status is Status.PASS and "retired" in got.evidence["reason"]


def test_an_unknown_policy_name_is_an_error() -> None:
    snapshot = with_exo_user(hardened(), authentication_policy="Gone Policy")
    assert status(snapshot, "basic-auth-allowed") == "error"


def ca(snapshot: Snapshot, *policies: object) -> Snapshot:
    return replace(snapshot, ca_policies=tuple(policies))  # type: ignore[arg-type]


def test_ca_exclusion_of_the_account_leaves_it_unblocked() -> None:
    base = hardened()
    hr = account_of(base, "hr")
    excluded = ca(base, block_legacy(exclude_users=(hr.id,)))
    got = finding(run(excluded), "legacy-auth-not-blocked")
    assert got.status is Status.FAIL and "excluded" in got.message
    # Another policy that does cover it makes it pass.
    covered = ca(base, block_legacy(exclude_users=(hr.id,)), block_legacy("Second"))
    assert status(covered, "legacy-auth-not-blocked") == "pass"


def test_ca_groups_count_transitively_for_include_and_exclude() -> None:
    start = hardened()
    hr = account_of(start, "hr")
    inner = group("Shared mailboxes", hr)
    outer = group("Service accounts", inner[0])
    base = adding(start, groups=(inner[0], outer[0]), group_members=(inner[1], outer[1]))
    include = block_legacy(include_users=(), include_groups=(outer[0].id,))
    assert status(ca(base, include), "legacy-auth-not-blocked") == "pass"
    exclude = block_legacy(exclude_groups=(outer[0].id,))
    assert status(ca(base, exclude), "legacy-auth-not-blocked") == "fail"
    unknown = replace(
        ca(base, exclude), group_members=(), problems={"graph/groupMembers": "403 (test)"}
    )
    assert status(unknown, "legacy-auth-not-blocked") == "error"


def test_ca_roles_count_through_role_assignments() -> None:
    base = hardened()
    hr = account_of(base, "hr")
    admin = adding(
        base,
        role_assignments=(
            RoleAssignment(id="r1", principal_id=hr.id, role_definition_id=GLOBAL_ADMIN),
        ),
    )
    include = block_legacy(include_users=(), include_roles=(GLOBAL_ADMIN,))
    assert status(ca(admin, include), "legacy-auth-not-blocked") == "pass"
    assert status(ca(base, include), "legacy-auth-not-blocked") == "fail"
    exclude = block_legacy(exclude_roles=(GLOBAL_ADMIN,))
    assert status(ca(admin, exclude), "legacy-auth-not-blocked") == "fail"


@pytest.mark.parametrize("state", ["enabledForReportingButNotEnforced", "disabled"])
def test_report_only_and_disabled_policies_do_not_block(state: str) -> None:
    got = finding(run(ca(hardened(), block_legacy(state=state))), "legacy-auth-not-blocked")
    assert got.status is Status.FAIL
    assert "report-only or disabled" in got.message


def test_a_policy_must_cover_both_legacy_client_types_and_block() -> None:
    only_eas = replace(block_legacy(), client_app_types=("exchangeActiveSync",))
    mfa = replace(block_legacy(), built_in_controls=("mfa",))
    every_client = replace(block_legacy(), client_app_types=("all",))
    assert status(ca(hardened(), only_eas), "legacy-auth-not-blocked") == "fail"
    assert status(ca(hardened(), mfa), "legacy-auth-not-blocked") == "fail"
    assert status(ca(hardened(), every_client), "legacy-auth-not-blocked") == "pass"


def test_sign_in_with_a_reachable_legacy_protocol_is_critical() -> None:
    base = hardened()
    hr = account_of(base, "hr")
    sprayable = ca(
        with_cas(with_account(base, "hr", account_enabled=True), imap_enabled=True),
        block_legacy(exclude_users=(hr.id,)),
    )
    result = run(sprayable)
    sign_in = finding(result, "sign-in-enabled")
    assert sign_in.severity is Severity.CRITICAL
    assert sign_in.evidence["reachable_protocols"] == ["IMAP"]
    assert finding(result, "legacy-auth-not-blocked").severity is Severity.CRITICAL
    # The same account with every legacy protocol off is not sprayable: high, not critical.
    quiet = ca(
        with_account(hardened(), "hr", account_enabled=True), block_legacy(exclude_users=(hr.id,))
    )
    assert finding(run(quiet), "sign-in-enabled").severity is Severity.HIGH


def test_smtp_auth_with_no_policy_is_reachable_even_under_a_ca_block() -> None:
    snapshot = replace(
        with_cas(
            with_account(hardened(), "hr", account_enabled=True),
            smtp_client_authentication_disabled=False,
        ),
        organization_config=OrganizationConfig(audit_disabled=False),
    )
    sign_in = finding(run(snapshot), "sign-in-enabled")
    assert sign_in.severity is Severity.CRITICAL
    assert sign_in.evidence["reachable_protocols"] == ["SMTP AUTH"]
