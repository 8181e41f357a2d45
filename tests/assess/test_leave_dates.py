"""Leave dates (employeeLeaveDateTime) that could not be read are unknown, not "none".

Graph returns employeeLeaveDateTime only to an app granted User-LifeCycleInfo.Read.All
(microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/resources/user.md) and, per
the one public report (Azure/LogicAppsUX#4925), as null without an error to one that is not.
The collector notes that in tenant.json ("unreadable"); these tests pin what the access
map, stale-delegate and the detection context make of it. A leave date is "the date and time
when the user left or will leave": one in the future is a departure still to come.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from mailwarden.detect import context_from_scan
from mailwarden.detect.rules.leaver import LEAVER_SIGN_IN
from mailwarden.detect.run import _partial_note
from mailwarden.model.findings import Status
from mailwarden.model.inventory import Snapshot
from tests.assess.assess_factory import (
    NOW,
    adding,
    finding,
    full_access,
    hardened,
    mailbox_of,
    person,
    run,
)

WHY = "the app lacks User-LifeCycleInfo.Read.All, so Graph returns employeeLeaveDateTime as null"


def _unreadable(snapshot: Snapshot) -> Snapshot:
    tenant = replace(snapshot.tenant,
                     unreadable=(("graph/users.employeeLeaveDateTime", WHY),))
    return replace(snapshot, tenant=tenant)


def _with_delegate(**changes: Any) -> Snapshot:
    erin = person("erin", **changes)
    return adding(hardened(), accounts=(erin,),
                  mailbox_permissions=(full_access(mailbox_of(hardened()), erin.upn),))


def test_stale_delegate_says_when_leave_dates_could_not_be_read() -> None:
    snapshot = _unreadable(_with_delegate(enabled=False,
                                          last_success=NOW - timedelta(days=100)))
    stale = finding(run(snapshot), "stale-delegate")
    assert stale.status is Status.FAIL
    assert "(disabled)" in stale.message
    assert "Leave dates could not be read" in stale.message and "User-LifeCycleInfo" in (
        stale.message)
    assert stale.evidence["leave_dates_unreadable"] == WHY
    clean = finding(run(_unreadable(hardened())), "stale-delegate")
    assert clean.status is Status.PASS
    assert clean.evidence["leave_dates_unreadable"] == WHY


def test_without_a_leave_date_the_last_successful_sign_in_tells_who_left_recently() -> None:
    recent = _unreadable(_with_delegate(enabled=False, last_success=NOW - timedelta(days=4)))
    stale = finding(run(recent), "stale-delegate")
    assert "(left recently)" in stale.message, stale.message


def test_a_leave_date_still_to_come_is_not_a_recent_departure() -> None:
    coming = _with_delegate(enabled=False, leave=NOW + timedelta(days=20))
    stale = finding(run(coming), "stale-delegate")
    assert "(disabled)" in stale.message and "left recently" not in stale.message, stale.message


def test_detection_says_its_departed_people_are_incomplete() -> None:
    snapshot = _unreadable(_with_delegate(enabled=False))
    context = context_from_scan(snapshot, run(snapshot))
    assert context.departed is not None and context.incomplete("departed")
    note = _partial_note(LEAVER_SIGN_IN, context)
    assert "only disabled accounts count as departed" in note and WHY in note
    readable = context_from_scan(hardened(), run(hardened()))
    assert readable.incomplete("departed") is None
    assert _partial_note(LEAVER_SIGN_IN, readable) == ""
