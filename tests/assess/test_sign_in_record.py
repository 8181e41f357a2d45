"""direct-sign-in-observed knows where Graph's record of successful sign-ins begins.

Graph's signInActivity resource (microsoftgraph/microsoft-graph-docs-contrib,
api-reference/v1.0/resources/signinactivity.md; https://learn.microsoft.com/graph/api/resources/signinactivity):
"Effective December 1, 2023, the lastSuccessfulSignInDateTime property is available ...
The data isn't backfilled for this property." `lastSignInDateTime` records the last
interactive attempt "whether the attempt was successful or not"; `lastNonInteractiveSignInDateTime`
one made "either successfully or unsuccessfully". The user objects below carry the resource's
six properties as its JSON representation lists them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mailwarden.model.findings import Status
from mailwarden.tenant.graph import parse_account
from mailwarden.tenant.lenient import Record
from tests.assess.assess_factory import finding, hardened, run


def _activity(interactive: str | None = None, non_interactive: str | None = None,
              successful: str | None = None) -> dict[str, Any]:
    return {
        "lastSignInDateTime": interactive,
        "lastSignInRequestId": "20a94b1b-ade2-4f4e-9c55-609f7cd97600" if interactive else None,
        "lastNonInteractiveSignInDateTime": non_interactive,
        "lastNonInteractiveSignInRequestId":
            "94c369e6-249e-4595-bb86-495ea9a81e00" if non_interactive else None,
        "lastSuccessfulSignInDateTime": successful,
        "lastSuccessfulSignInRequestId":
            "20a94b1b-ade2-4f4e-9c55-609f7cd97600" if successful else None,
    }


def _verdict(activity: dict[str, Any] | None) -> tuple[Status, str, dict[str, Any]]:
    snapshot = hardened()
    hr = next(a for a in snapshot.accounts if a.mail_nickname == "hr")
    raw: dict[str, Any] = {"id": hr.id, "userPrincipalName": hr.user_principal_name,
                           "accountEnabled": False, "createdDateTime": "2019-03-04T10:00:00Z"}
    if activity is not None:
        raw["signInActivity"] = activity
    parsed = parse_account(Record(raw))
    account = replace(hr, last_sign_in=parsed.last_sign_in,
                      last_non_interactive_sign_in=parsed.last_non_interactive_sign_in,
                      last_successful_sign_in=parsed.last_successful_sign_in)
    accounts = tuple(account if a.id == hr.id else a for a in snapshot.accounts)
    found = finding(run(replace(snapshot, accounts=accounts)), "direct-sign-in-observed")
    return found.status, found.message, dict(found.evidence)


def test_an_attempt_older_than_the_record_of_successes_is_not_a_pass() -> None:
    status, message, evidence = _verdict(_activity(interactive="2023-05-10T08:12:40Z"))
    assert status is Status.ERROR, message
    assert "1 December 2023" in message and "2023-05-10" in message, message
    assert "No sign-in has succeeded since then" in message
    assert evidence["last_sign_in_attempt"].startswith("2023-05-10")


def test_an_old_non_interactive_attempt_leaves_it_in_doubt_too() -> None:
    status, message, _ = _verdict(_activity(interactive="2024-02-01T09:00:00Z",
                                            non_interactive="2022-11-30T23:00:00Z"))
    assert status is Status.ERROR, message
    assert "lastNonInteractiveSignInDateTime" in message


def test_a_recent_attempt_without_a_success_failed() -> None:
    status, message, _ = _verdict(_activity(interactive="2026-10-20T03:14:00Z"))
    assert status is Status.PASS, message


def test_a_success_on_record_fails_whatever_came_before() -> None:
    status, message, _ = _verdict(_activity(interactive="2022-01-01T00:00:00Z",
                                            successful="2025-06-01T12:00:00Z"))
    assert status is Status.FAIL, message


def test_an_account_that_never_signed_in_passes() -> None:
    """"This property is not returned for a user who has never signed in" (user resource)."""
    assert _verdict(None)[0] is Status.PASS
    assert _verdict(_activity())[0] is Status.PASS
