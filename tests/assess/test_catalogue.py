"""The catalogue: exactly SPEC section 5's ids, each documented, mapped and tested."""

from __future__ import annotations

import re

from mailwarden.assess import CATALOGUE, list_checks
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
    "dormant-delegate",
)
SPEC_TENANT_IDS = {"audit-disabled-org", "weak-smart-lockout"}
CONTROL = re.compile(
    r"^(CIS M365 5\.0\.0 \d+(\.\d+)+|CIS Azure 3\.0\.0 \d+(\.\d+)+|CIS Controls v8 \d+\.\d+"
    r"|CISA SCuBA MS\.(AAD|EXO)\.\d+\.\d+v\d|MITRE ATT&CK T\d{4}(\.\d{3})?)$"
)


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
        assert info.controls and all(CONTROL.match(c) for c in info.controls), info.id
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
            assert check.tenant is not None and check.mailbox is None
        else:
            assert check.mailbox is not None


def test_every_check_has_tests() -> None:
    assert set(CASES) == set(SPEC_IDS)


def test_the_spec_controls_are_mapped_where_they_apply() -> None:
    controls = {info.id: set(info.controls) for info in list_checks()}
    assert "CIS M365 5.0.0 1.2.2" in controls["sign-in-enabled"]
    assert {"CIS M365 5.0.0 5.2.2.3", "CISA SCuBA MS.AAD.1.1v1"} <= controls[
        "legacy-auth-not-blocked"
    ]
    assert {"CIS M365 5.0.0 6.1.1", "CISA SCuBA MS.EXO.13.1v1"} <= controls["audit-disabled-org"]
    assert "CIS M365 5.0.0 6.1.2" in controls["audit-actions-missing"]
    assert "CIS M365 5.0.0 6.1.3" in controls["audit-bypass-enabled"]
    assert {"CIS M365 5.0.0 6.2.1", "CISA SCuBA MS.EXO.1.1v1"} <= controls["external-forwarding"]
    assert "CIS M365 5.0.0 6.5.1" in controls["basic-auth-allowed"]
    assert {"CIS M365 5.0.0 6.5.4", "CISA SCuBA MS.EXO.5.1v1"} <= controls["smtp-auth-enabled"]
