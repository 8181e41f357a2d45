"""dormant-delegate: a grant unused for the window is dormant only when the audit log could
have shown its use; otherwise the check is error, never pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from mailwarden.assess import AssessOptions, assess
from mailwarden.model.findings import Status, UseState
from mailwarden.model.inventory import AuditBypass, OrganizationConfig, Snapshot
from mailwarden.model.usage import AuditCoverage, DelegateUsage, DelegateUse
from tests.assess.assess_factory import HR, NOW, finding, hardened, with_mailbox

ALICE = "alice@contoso.com"


def used_by_alice(*, days_ago: int | None, right: str = "FullAccess", log_days: int = 120,
                  operation: str = "MailItemsAccessed", **coverage: object) -> DelegateUsage:
    """A log of `log_days` days up to NOW, in which alice last used `right` on hr@ then."""
    uses = () if days_ago is None else (DelegateUse(
        mailbox=HR, actor=ALICE, right=right, last_used=NOW - timedelta(days=days_ago),
        operation=operation),)
    span = AuditCoverage(records=1000, first=NOW - timedelta(days=log_days),
                         last=NOW - timedelta(hours=3), files=("logs/ual.json",))
    return DelegateUsage(uses=uses, coverage=replace(span, **coverage))  # type: ignore[arg-type]


def judged(snapshot: Snapshot, usage: DelegateUsage | None, **options: object) -> tuple[
        Status, str, dict[str, object]]:
    result = assess(snapshot, usage=usage, options=AssessOptions(**options))  # type: ignore[arg-type]
    got = finding(result, "dormant-delegate", HR)
    return got.status, got.message, dict(got.evidence)


def test_a_grant_used_inside_the_window_passes_and_the_access_map_dates_it() -> None:
    result = assess(hardened(), usage=used_by_alice(days_ago=10))
    assert finding(result, "dormant-delegate", HR).status is Status.PASS
    (use,) = next(a for a in result.access if a.upn == HR).usage
    assert use.state is UseState.USED and use.operation == "MailItemsAccessed"
    assert use.describe() == f"last used {(NOW - timedelta(days=10)).date()} (MailItemsAccessed)"


def test_a_grant_unused_for_the_window_with_full_coverage_fails_with_its_removal() -> None:
    status, message, evidence = judged(hardened(), used_by_alice(days_ago=120))
    assert status is Status.FAIL
    assert "FullAccess to alice@contoso.com" in message and "not used in 90 days" in message
    (grant,) = evidence["dormant"]  # type: ignore[misc]
    assert (grant["right"], grant["trustee"]) == ("FullAccess", ALICE)
    assert grant["last_used"].startswith(str((NOW - timedelta(days=120)).date()))
    result = assess(hardened(), usage=used_by_alice(days_ago=120))
    got = finding(result, "dormant-delegate", HR)
    assert got.remediation is not None
    assert any("Remove-MailboxPermission -Identity 'hr@contoso.com' -User "
               "'alice@contoso.com'" in c for c in got.remediation.powershell)


def test_never_used_on_record_is_dormant_too() -> None:
    status, message, _ = judged(hardened(), used_by_alice(days_ago=None))
    assert status is Status.FAIL and "not used in 90 days" in message


def test_the_window_is_configurable() -> None:
    assert judged(hardened(), used_by_alice(days_ago=40), dormant_days=30)[0] is Status.FAIL
    assert judged(hardened(), used_by_alice(days_ago=40))[0] is Status.PASS


def test_no_audit_log_is_error_not_pass() -> None:
    status, message, _ = judged(hardened(), None)
    assert status is Status.ERROR and "no Unified Audit Log was read" in message


def test_a_log_shorter_than_the_window_is_error_not_pass() -> None:
    status, message, _ = judged(hardened(), used_by_alice(days_ago=None, log_days=30))
    assert status is Status.ERROR and "after the window's start" in message
    # A use seen inside a short log still proves the grant used.
    assert judged(hardened(), used_by_alice(days_ago=5, log_days=30))[0] is Status.PASS


def test_the_checkpoint_start_decides_where_the_log_begins() -> None:
    late = used_by_alice(days_ago=None, requested_from=NOW - timedelta(days=60))
    assert judged(hardened(), late)[0] is Status.ERROR
    early = used_by_alice(days_ago=None, log_days=80, requested_from=NOW - timedelta(days=95))
    assert judged(hardened(), early)[0] is Status.FAIL


def test_a_log_that_ends_before_the_tenant_was_read_is_error() -> None:
    status, message, _ = judged(hardened(), used_by_alice(days_ago=None,
                                                           last=NOW - timedelta(days=10)))
    assert status is Status.ERROR and "ends" in message


def test_a_log_with_unreadable_rows_is_error() -> None:
    usage = used_by_alice(days_ago=None, problems=("logs/ual.json: 3 records could not be read",))
    assert judged(hardened(), usage)[0] is Status.ERROR


def test_auditing_that_would_not_record_the_use_is_error() -> None:
    usage = used_by_alice(days_ago=None)
    cases = {
        "AuditDelegate does not include MailItemsAccessed": with_mailbox(
            hardened(), audit_delegate=("SendAs", "SendOnBehalf")),
        "auditing is off on the mailbox": with_mailbox(hardened(), audit_enabled=False),
        "auditing is off for the organisation": replace(
            hardened(), organization_config=OrganizationConfig(audit_disabled=True)),
        "alice@contoso.com bypasses auditing": replace(
            hardened(), audit_bypass=(AuditBypass(identity="alice", audit_bypass_enabled=True),)),
    }
    for reason, snapshot in cases.items():
        status, message, _ = judged(snapshot, usage)
        assert status is Status.ERROR and reason in message, (reason, message)
