"""The catalogue: exactly SPEC section 5's ids, each documented, mapped and tested."""

from __future__ import annotations

import pytest

from mailwarden.assess import CATALOGUE, list_checks
from mailwarden.model.controls import CONTROLS, UnknownControlError, control, mapped
from mailwarden.model.findings import Scope
from mailwarden.synth import CHECK_IDS
from tests.assess.test_checks import CASES

#: SPEC section 5, as written there.
SPEC_IDS = (
    "sign-in-enabled",
    "direct-sign-in-observed",
    "password-reset-by-admin",
    "imap-enabled",
    "pop-enabled",
    "ews-enabled",
    "activesync-enabled",
    "smtp-auth-enabled",
    "basic-auth-allowed",
    "legacy-auth-not-blocked",
    "audit-disabled-org",
    "mailbox-audit-disabled",
    "audit-actions-missing",
    "audit-bypass-enabled",
    "stale-delegate",
    "broad-delegation",
    "no-custodian",
    "external-forwarding",
    "hiding-inbox-rule",
    "remote-powershell-enabled",
    "privileged-account",
    "no-mfa-on-enabled-account",
    "weak-smart-lockout",
    "resource-account-enabled",
    "app-mail-access-unscoped",
    "direct-send-allowed",
    "room-external-booking",
    "room-delegate-left",
    "shared-mailbox-needs-licence",
    "shared-mailbox-licence-unused",
    "mailbox-inactive",
    "dormant-delegate",
)
SPEC_TENANT_IDS = {"audit-disabled-org", "weak-smart-lockout", "app-mail-access-unscoped",
                   "direct-send-allowed"}


def test_ids_are_the_spec_ids_unique_and_in_order() -> None:
    ids = [info.id for info in list_checks()]
    assert ids == list(SPEC_IDS)
    assert len(set(ids)) == len(ids)
    assert tuple(ids) == CHECK_IDS  # the synthetic ground truth names the same checks


def test_every_check_is_documented_and_mapped() -> None:
    for info in list_checks():
        assert info.title and info.passes.endswith(".") and info.fails.endswith("."), info.id
        assert info.risk, info.id
        assert info.needs and all("/" in source for source in info.needs), info.id
        assert info.controls and all(control(c) is not None for c in info.controls), info.id
        remediation = info.remediation
        assert remediation.summary, info.id
        assert remediation.powershell or remediation.graph or remediation.exchange_api, info.id


def test_scopes_match_the_spec() -> None:
    for info in list_checks():
        expected = Scope.TENANT if info.id in SPEC_TENANT_IDS else Scope.MAILBOX
        assert info.scope is expected, info.id


def test_each_check_runs_for_its_scope() -> None:
    for check in CATALOGUE:
        if check.info.scope is Scope.TENANT:
            assert (check.tenant is None) != (check.applications is None)
            assert check.mailbox is None
        else:
            assert check.mailbox is not None


def test_every_check_has_tests() -> None:
    assert set(CASES) == set(SPEC_IDS)


def test_the_spec_controls_are_mapped_where_they_apply() -> None:
    controls = {info.id: set(info.controls) for info in list_checks()}
    assert "CIS M365 6.0.0 1.2.2" in controls["sign-in-enabled"]
    assert {"CIS M365 6.0.0 5.2.2.3", "CISA SCuBA MS.AAD.1.1v1"} <= controls[
        "legacy-auth-not-blocked"
    ]
    assert {"CIS M365 6.0.0 6.1.1", "CISA SCuBA MS.EXO.13.1v1"} <= controls["audit-disabled-org"]
    assert "CIS M365 6.0.0 6.1.2" in controls["audit-actions-missing"]
    assert "CIS M365 6.0.0 6.1.3" in controls["audit-bypass-enabled"]
    assert {"CIS M365 6.0.0 6.2.1", "CISA SCuBA MS.EXO.1.1v2"} <= controls["external-forwarding"]
    assert {"CIS M365 6.0.0 6.5.4", "CISA SCuBA MS.EXO.5.1v1"} <= controls["smtp-auth-enabled"]


def test_the_conditional_access_legacy_block_is_mapped_only_to_the_check_of_that_policy() -> None:
    """MS.AAD.1.1v1 and CIS 5.2.2.3 are a conditional-access policy blocking legacy
    authentication: a mailbox's IMAP switch or authentication policy is not that policy."""
    for ref in ("CISA SCuBA MS.AAD.1.1v1", "CIS M365 6.0.0 5.2.2.3"):
        assert {i.id for i in list_checks() if ref in i.controls} == {"legacy-auth-not-blocked"}


def test_a_check_naming_an_unknown_control_is_refused() -> None:
    with pytest.raises(UnknownControlError, match=r"CIS M365 5\.0\.0 1\.2\.2"):
        mapped("CIS M365 6.0.0 1.2.2", "CIS M365 5.0.0 1.2.2")


def test_every_control_has_a_title_and_a_source() -> None:
    for entry in CONTROLS:
        assert entry.title and entry.source.startswith("https://"), entry.ref
