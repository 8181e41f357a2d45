"""The emulator's conditional-access writes, spoken to directly, and apply's check that
the policy is still what the plan was made from."""

from __future__ import annotations

import asyncio
from typing import Any

from mailwarden.emulator import emulator_of
from mailwarden.remediate.apply import OutcomeStatus, apply_plan
from mailwarden.remediate.journal import FileJournal
from tests.remediate.remediate_helpers import SOON_AFTER, app_for, plan_for, wire_to
from tests.remediate.test_ca_fix_text import direct
from tests.remediate.test_conditional_access import POLICIES, _direct_exclusions
from tests.remediate.test_emulator_writes import graph

PATH = "/identity/conditionalAccess/policies"


def legacy_block(app: Any) -> dict[str, Any]:
    rows = emulator_of(app).state.rows(POLICIES)
    return next(p for p in rows if p["displayName"] == "Block legacy authentication")


def test_a_patch_keeps_what_it_does_not_name_and_answers_204() -> None:
    app = app_for(_direct_exclusions())
    policy = legacy_block(app)
    answer = asyncio.run(graph(app, "PATCH", f"{PATH}/{policy['id']}",
                               {"conditions": {"users": {"excludeUsers": []}}}))
    assert answer.status_code == 204 and not answer.content
    after = legacy_block(app)
    assert after["conditions"]["users"]["excludeUsers"] == []
    assert after["conditions"]["users"]["includeUsers"] == ["All"]
    assert after["conditions"]["clientAppTypes"] == policy["conditions"]["clientAppTypes"]
    assert after["state"] == policy["state"]


def test_graph_refuses_bad_policies_and_unknown_ids() -> None:
    app = app_for()
    policy = legacy_block(app)
    bad_state = asyncio.run(graph(app, "PATCH", f"{PATH}/{policy['id']}", {"state": "on"}))
    assert bad_state.status_code == 400
    unnamed = asyncio.run(graph(app, "POST", PATH, {"state": "disabled", "conditions": {
        "users": {"includeUsers": ["None"]}}, "grantControls": {"builtInControls": ["block"]}}))
    assert unnamed.status_code == 400 and "displayName" in unnamed.text
    unknown = asyncio.run(graph(app, "DELETE", f"{PATH}/00000000-0000-0000-0000-00000000dead"))
    assert unknown.status_code == 404
    assert legacy_block(app) == policy


def test_a_denied_app_gets_graphs_403() -> None:
    app = app_for(graph_permissions=frozenset({"Policy.Read.All"}))
    policy = legacy_block(app)
    answer = asyncio.run(graph(app, "PATCH", f"{PATH}/{policy['id']}", {"state": "disabled"}))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
    assert legacy_block(app) == policy


def test_apply_refuses_a_policy_turned_off_since_the_scan(tmp_path: Any) -> None:
    plan = plan_for(direct(), now=SOON_AFTER, checks=("legacy-auth-not-blocked",))
    app = app_for(_direct_exclusions())
    policy = legacy_block(app)
    asyncio.run(graph(app, "PATCH", f"{PATH}/{policy['id']}", {"state": "disabled"}))
    before = legacy_block(app)["conditions"]["users"]

    async def main() -> Any:
        async with wire_to(app) as wire:
            return await apply_plan(plan, wire, FileJournal(tmp_path), dry_run=False)

    (outcome,) = asyncio.run(main()).outcomes
    assert outcome.status is OutcomeStatus.FAILED
    assert "scan again" in (outcome.error or "")
    assert legacy_block(app)["conditions"]["users"] == before


def test_applying_twice_changes_the_policy_once(tmp_path: Any) -> None:
    plan = plan_for(direct(), now=SOON_AFTER, checks=("legacy-auth-not-blocked",))
    app = app_for(_direct_exclusions())

    async def main() -> list[Any]:
        async with wire_to(app) as wire:
            first = await apply_plan(plan, wire, FileJournal(tmp_path), dry_run=False)
            after = legacy_block(app)
            second = await apply_plan(plan, wire, FileJournal(tmp_path), dry_run=False)
            return [first, after, second]

    first, after, second = asyncio.run(main())
    assert [o.status for o in first.outcomes] == [OutcomeStatus.APPLIED]
    assert [o.status for o in second.outcomes] == [OutcomeStatus.ALREADY_DONE]
    assert legacy_block(app) == after
