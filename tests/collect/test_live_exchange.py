"""The live collector against the emulated Exchange as the service behaves: hidden inbox
rules, the app's Exchange role, one mailbox that fails, and errors in 200 pages; then the
scan of what was collected never passes what it could not see."""

from __future__ import annotations

from typing import Any

import pytest

from mailwarden.assess import assess
from mailwarden.collect.live import collect_tenant
from mailwarden.emulator.config import TargetedFault
from mailwarden.m365.http import M365Http
from mailwarden.model.findings import ScanResult, Status
from mailwarden.settings import RetryPolicy
from mailwarden.tenant.hidden_rules import HIDDEN_RULE
from mailwarden.tenant.recorded import RecordedTenant
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.emulator.emulator_helpers import (
    BASE,
    app_for,
    client_for,
    collect_from,
    run,
    settings_for,
    small,
    tenant_id,
)
from tests.support.emulator_tokens import EmulatorTokens

RULES, PERMISSIONS = "exo/Get-InboxRule", "exo/Get-MailboxPermission"
SEND_AS = "exo/Get-RecipientPermission"


def collect(**config: Any) -> RecordedTenant:
    app = app_for(**config)
    tenant = str(small().recorded.data["tenant"]["tenantId"])
    return collect_from(app, tenant)


def scan(recorded: RecordedTenant) -> ScanResult:
    return assess(snapshot_from_recorded(recorded))


def status(result: ScanResult, check_id: str, upn: str) -> Status:
    return next(f.status for f in result.findings
                if f.check_id == check_id and f.resource.upn == upn)


def hidden_rule_mailbox() -> dict[str, Any]:
    data = small().recorded.data
    owner = next(r["MailboxOwnerId"] for r in data[RULES] if r.get(HIDDEN_RULE))
    return next(m for m in data["exo/Get-Mailbox"] if m["Identity"] == owner)


def test_hidden_rules_are_collected_and_their_findings_found() -> None:
    """Get-InboxRule returns hidden rules only with -IncludeHidden (Get-InboxRule.md); an
    intruder's forwarding rule set through MAPI is hidden (graph2otel: "attacker-planted
    rules with a manipulated rule-message-provider are hidden by construction"). The
    synthetic tenant plants one on a mailbox whose only rules are hidden."""
    recorded = collect()
    box = hidden_rule_mailbox()
    names = {r["Name"] for r in recorded.data[RULES] if r["MailboxOwnerId"] == box["Identity"]}
    assert {"MailSync", "Junk E-mail Rule"} <= names
    assert not any(HIDDEN_RULE in r for r in recorded.data[RULES])
    result = scan(recorded)
    upn = str(box["UserPrincipalName"]).lower()
    assert status(result, "external-forwarding", upn) is Status.FAIL
    assert status(result, "hiding-inbox-rule", upn) is Status.FAIL
    planted = {(f.check_id, f.upn) for f in small().planted.findings}
    assert ("external-forwarding", upn) in planted and ("hiding-inbox-rule", upn) in planted


def _ownerless(result: ScanResult) -> list[str]:
    return [entry.upn for entry in result.inventory]


@pytest.mark.parametrize("role", ["View-Only Organization Management", "global-reader"])
def test_a_read_only_role_fails_the_sources_it_cannot_read_and_says_which_role(
        role: str) -> None:
    """Get-InboxRule "doesn't work for members of View-Only Organization Management role
    group in Exchange Online or the Global Reader role in Microsoft Entra ID"
    (Get-InboxRule.md); Get-RecipientPermission needs the Mail Recipients role
    (office-docs-powershell#9428, #7365). The collection goes on, the two sources are
    failed with the role to grant, and no check that reads them passes."""
    recorded = collect(exchange_role=role)
    assert set(recorded.errors) == {RULES, SEND_AS}
    for source in (RULES, SEND_AS):
        message = recorded.errors[source]
        assert "needs the Exchange role Mail Recipients" in message, message
        assert "Exchange Recipient Administrator" in message
    assert PERMISSIONS in recorded.data and "exo/Get-Mailbox" in recorded.data
    result = scan(recorded)
    for upn in _ownerless(result):
        assert status(result, "hiding-inbox-rule", upn) is Status.ERROR
        assert status(result, "external-forwarding", upn) is not Status.PASS
        assert status(result, "stale-delegate", upn) is not Status.PASS


def test_the_recommended_roles_read_everything() -> None:
    recorded = collect(exchange_role="Exchange Recipient Administrator + Global Reader")
    assert recorded.errors == {} and recorded.mailbox_errors == {}


def test_one_mailbox_that_fails_is_that_mailboxs_problem_and_a_vanished_one_none() -> None:
    """A mailbox outside the app's management scope answers Exchange's read-scope error; a
    mailbox deleted since Get-Mailbox answers NotFound with ManagementObjectNotFoundException
    (the module's published NotFound error). The first is recorded for that mailbox (errors
    .json "mailboxes") and its checks say error; the second is no failure at all; every
    other mailbox is read and judged."""
    data = small().recorded.data
    ownerless = [m for m in data["exo/Get-Mailbox"]
                 if m["RecipientTypeDetails"] in {"SharedMailbox", "RoomMailbox"}]
    scoped, vanished = ownerless[0]["PrimarySmtpAddress"], ownerless[1]["PrimarySmtpAddress"]
    recorded = collect(out_of_scope_mailboxes=(scoped,), vanished_mailboxes=(vanished,))
    assert recorded.errors == {}
    for source in (RULES, PERMISSIONS):
        assert set(recorded.mailbox_errors[source]) == {scoped}
        assert "read scope" in recorded.mailbox_errors[source][scoped]
    assert len(recorded.data[PERMISSIONS]) > 0
    result = scan(recorded)
    upn = str(ownerless[0]["UserPrincipalName"]).lower()
    for check_id in ("hiding-inbox-rule", "stale-delegate", "broad-delegation"):
        assert status(result, check_id, upn) is Status.ERROR, check_id
    others = [u for u in _ownerless(result) if u != upn]
    assert all(status(result, "hiding-inbox-rule", u) is not Status.ERROR for u in others)


def test_errors_in_a_200_page_fail_that_mailboxs_call() -> None:
    """A page whose "@adminapi.errors" is not empty is not the mailbox's whole answer."""
    box = hidden_rule_mailbox()
    address = str(box["PrimarySmtpAddress"])
    recorded = collect(exo_page_errors={f"Get-InboxRule .*{address}": ("Rule 3 is corrupt.",)})
    assert recorded.errors == {}
    assert set(recorded.mailbox_errors[RULES]) == {address}
    assert "Rule 3 is corrupt." in recorded.mailbox_errors[RULES][address]


def test_a_recorded_mailbox_failure_is_served_as_a_failure_again() -> None:
    """Serving a recorded tenant whose errors.json lists a mailbox's failed call, the
    emulator fails that call again: collecting it gives back the same problem, never an
    empty, passing answer for that mailbox."""
    box = hidden_rule_mailbox()
    address = str(box["PrimarySmtpAddress"])
    served = small().recorded
    recorded_before = RecordedTenant(
        data=dict(served.data), errors=dict(served.errors),
        mailbox_errors={RULES: {address: "Get-InboxRule -Mailbox x: HTTP 500, 4 times"}})
    app = app_for(recorded_before)
    tenant = str(served.data["tenant"]["tenantId"])
    settings = settings_for(BASE, tenant)

    async def main() -> RecordedTenant:
        async with client_for(app) as client:
            http = M365Http(client, EmulatorTokens(client, tenant), settings)
            return await collect_tenant(http, settings)

    again = run(main())
    assert set(again.mailbox_errors[RULES]) == {address}
    assert "HTTP 500, 4 times" in again.mailbox_errors[RULES][address]
    upn = str(box["UserPrincipalName"]).lower()
    assert status(scan(again), "hiding-inbox-rule", upn) is Status.ERROR


def test_the_first_two_batch_requests_failing_fail_only_their_mailboxes() -> None:
    """The first two Exchange `$batch` requests fail (one attempt a request): the ten
    calls they carried (ten each, of the per-mailbox sources) are recorded as failed for
    their mailboxes, naming the `$batch` request; every source is kept, with every other
    mailbox's rows as the service serves them; no source fails. Two failed batch requests
    are two failures, not twenty,
    so the first unlucky batches do not give the sources up as failing for every mailbox."""
    tenant = tenant_id()
    clean = collect()
    failing = TargetedFault(pattern=r"exchange:\$batch", nth=1, times=2)
    app = app_for(targeted_faults=(failing,))
    settings = settings_for(BASE, tenant, retry=RetryPolicy(max_attempts=1))

    async def main() -> RecordedTenant:
        async with client_for(app) as client:
            http = M365Http(client, EmulatorTokens(client, tenant), settings)
            return await collect_tenant(http, settings)

    recorded = run(main())
    assert recorded.errors == {}
    names = ("Identity", "Name", "ExternalDirectoryObjectId")  # how rows name their mailbox
    owner = {m["PrimarySmtpAddress"]: {m[n] for n in names if m.get(n)}
             for m in clean.data["exo/Get-Mailbox"]}
    carried = sum(len(failed) for failed in recorded.mailbox_errors.values())
    assert carried == 20, recorded.mailbox_errors
    for source, owner_field in ((PERMISSIONS, "Identity"), (RULES, "MailboxOwnerId")):
        failed = recorded.mailbox_errors[source]
        assert failed
        assert all("/$batch failed 1 time" in why for why in failed.values())
        gone = set().union(*(owner[address] for address in failed))
        assert recorded.data[source] == [r for r in clean.data[source]
                                         if r[owner_field] not in gone]
        assert 0 < len(recorded.data[source]) < len(clean.data[source])
