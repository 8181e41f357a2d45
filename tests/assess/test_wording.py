"""The sentences checks write: counts agree with their nouns, lists read as lists."""

from __future__ import annotations

from dataclasses import replace

from mailwarden.assess.checks.base import ago, listing
from mailwarden.model.findings import Status
from tests.assess.assess_factory import (
    NOW,
    finding,
    hardened,
    run,
    with_account,
    with_cas,
    without,
)


def test_ago_and_listing_read_as_english() -> None:
    assert [ago(None), ago(0), ago(1), ago(12)] == [
        "at an unknown time", "today", "1 day ago", "12 days ago"]
    assert [listing(()), listing(("IMAP",)), listing(("IMAP", "POP")),
            listing(("IMAP", "POP", "EWS"))] == ["", "IMAP", "IMAP and POP", "IMAP, POP and EWS"]


def test_one_stale_delegate_holds_access() -> None:
    stale = finding(run(with_account(hardened(), "alice", account_enabled=False)),
                    "stale-delegate")
    assert stale.status is Status.FAIL
    assert stale.message.startswith("1 stale delegate holds access to "), stale.message


def test_one_protocol_takes_a_password() -> None:
    unblocked = replace(hardened(), ca_policies=())
    snapshot = with_cas(with_account(unblocked, "hr", account_enabled=True), imap_enabled=True)
    sign_in = finding(run(snapshot), "sign-in-enabled")
    assert "can sign in, and IMAP takes a password" in sign_in.message, sign_in.message


def test_a_sign_in_today_is_not_zero_days_ago() -> None:
    snapshot = with_account(hardened(), "hr", last_successful_sign_in=NOW)
    direct = finding(run(snapshot), "direct-sign-in-observed")
    assert direct.message.endswith("directly today."), direct.message


def test_a_custodian_finding_says_how_the_custodian_was_named() -> None:
    inferred = finding(run(hardened()), "no-custodian")
    assert inferred.message.endswith("(inferred from who holds FullAccess)."), inferred.message


def test_a_check_missing_two_sources_names_both_in_one_sentence() -> None:
    snapshot = without(without(hardened(), "graph/conditionalAccessPolicies", "ca_policies"),
                       "graph/users", "accounts")
    error = finding(run(snapshot), "legacy-auth-not-blocked")
    assert error.message.endswith(
        ": graph/users and graph/conditionalAccessPolicies were not collected."), error.message
