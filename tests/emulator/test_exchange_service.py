"""The emulated Exchange admin API behaves as the service does where clients go wrong:
hidden inbox rules, the caller's Exchange role, 200 pages with warnings and errors,
vanished mailboxes, and `$batch` with or without `odata.continue-on-error`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mailwarden.errors import ConfigError
from mailwarden.tenant.hidden_rules import HIDDEN_RULE
from tests.emulator.emulator_helpers import EXO_SCOPE, app_for, bearer, client_for, run, small
from tests.emulator.emulator_helpers import tenant_id as small_tenant_id

INVOKE = f"/adminapi/beta/{small_tenant_id()}/InvokeCommand"
BATCH = f"/adminapi/beta/{small_tenant_id()}/$batch"


def _body(cmdlet: str, **parameters: Any) -> dict[str, Any]:
    return {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}


def _post(path: str, payload: dict[str, Any], *, prefer: str | None = None,
          **config: Any) -> httpx.Response:
    async def main() -> httpx.Response:
        async with client_for(app_for(**config)) as client:
            headers = await bearer(client, EXO_SCOPE)
            if prefer:
                headers["Prefer"] = prefer
            return await client.post(path, json=payload, headers=headers)

    return run(main())


def _hidden_rule_owner() -> str:
    rows = small().recorded.data["exo/Get-InboxRule"]
    return next(str(r["MailboxOwnerId"]) for r in rows if r.get(HIDDEN_RULE))


def _address(identity: str) -> str:
    mailboxes = small().recorded.data["exo/Get-Mailbox"]
    return next(str(m["PrimarySmtpAddress"]) for m in mailboxes if m["Identity"] == identity)


def test_hidden_rules_come_only_with_include_hidden() -> None:
    """Get-InboxRule: "The IncludeHidden switch specifies whether to include hidden Inbox
    rules in the results" (Applicable: ... Exchange Online; office-docs-powershell
    Get-InboxRule.md). CIPP asks for them with `IncludeHidden = $true` in the cmdlet's
    parameters (Invoke-ListUserMailboxRules.ps1). Output has no "hidden" property."""
    mailbox = _address(_hidden_rule_owner())
    plain = _post(INVOKE, _body("Get-InboxRule", Mailbox=mailbox)).json()["value"]
    every = _post(INVOKE, _body("Get-InboxRule", Mailbox=mailbox,
                                IncludeHidden=True)).json()["value"]
    names = {r["Name"] for r in every} - {r["Name"] for r in plain}
    assert {"MailSync", "Junk E-mail Rule"} <= names
    assert not any(HIDDEN_RULE in r for r in plain + every)  # the mark never leaves
    hidden = next(r for r in every if r["Name"] == "MailSync")
    missing = _post(INVOKE, _body("Get-InboxRule", Identity=hidden["Identity"]))
    assert missing.status_code == 404


def test_a_cmdlet_outside_the_callers_role_answers_401_not_allowed() -> None:
    """View-Only Organization Management: Get-InboxRule "doesn't work" (Get-InboxRule.md)
    and Get-RecipientPermission is not in the view-only roles (office-docs-powershell#9428);
    Exchange's answer, verbatim from office-docs-powershell#7970."""
    role = {"exchange_role": "View-Only Organization Management"}
    answer = _post(INVOKE, _body("Get-InboxRule", Mailbox=_address(_hidden_rule_owner())),
                   **role)
    assert answer.status_code == 401
    assert answer.json() == {"error": {
        "code": "Unauthorized", "message": "User is not allowed to call Get-InboxRule",
        "innererror": {"message": "User is not allowed to call Get-InboxRule",
                       "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"}}}
    assert _post(INVOKE, _body("Get-RecipientPermission", ResultSize="Unlimited"),
                 **role).status_code == 401
    assert _post(INVOKE, _body("Get-Mailbox", ResultSize="Unlimited"), **role).status_code == 200
    assert _post(INVOKE, _body("Set-Mailbox", Identity="x", AuditEnabled=True),
                 **role).status_code == 401
    admin = _post(INVOKE, _body("Get-RecipientPermission", ResultSize="Unlimited"),
                  exchange_role="recipient-administrator-and-global-reader")
    assert admin.status_code == 200


def test_global_reader_runs_get_inboxrule_but_every_mailbox_is_out_of_scope() -> None:
    """A Global Reader's Get-InboxRule -Mailbox: "The operation on mailbox "User" failed
    because it's out of the current user's read scope. ..." (OfficeDocs-O365ITPro#780);
    Get-EXORecipientPermission: HTTP 401 "User is not allowed to call ..." (#7365)."""
    answer = _post(INVOKE, _body("Get-InboxRule", Mailbox=_address(_hidden_rule_owner())),
                   exchange_role="global-reader")
    assert answer.status_code == 403
    assert "out of the current user's read scope" in answer.json()["error"]["details"][0][
        "message"]
    assert _post(INVOKE, _body("Get-RecipientPermission"),
                 exchange_role="Global Reader").status_code == 401
    with pytest.raises(ConfigError, match="unknown Exchange role"):
        app_for(exchange_role="Mailbox Wizard")


def test_200_pages_carry_warnings_and_errors() -> None:
    """Every 200 has "@adminapi.warnings", an array present and empty when there is nothing
    (public Burp capture; graph2otel liveCompleteBody)."""
    mailbox = _address(_hidden_rule_owner())
    page = _post(INVOKE, _body("Get-Mailbox", ResultSize="Unlimited")).json()
    assert page["@adminapi.warnings"] == [] and "@adminapi.errors" not in page
    assert page["adminapi.warnings@odata.type"] == "#Collection(String)"
    noted = _post(INVOKE, _body("Get-InboxRule", Mailbox=mailbox),
                  exo_page_errors={"Get-InboxRule": ("Rule 3 could not be read.",)},
                  exo_page_warnings={"Get-InboxRule": ("heads up",)}).json()
    assert noted["@adminapi.errors"] == ["Rule 3 could not be read."]
    assert noted["@adminapi.warnings"] == ["heads up"]


def test_a_vanished_mailbox_is_listed_but_not_found() -> None:
    mailbox = _address(_hidden_rule_owner())
    config = {"vanished_mailboxes": (mailbox,)}
    listed = _post(INVOKE, _body("Get-Mailbox", ResultSize="Unlimited"),
                   prefer="odata.maxpagesize=1000", **config).json()
    assert mailbox in {m["PrimarySmtpAddress"] for m in listed["value"]}
    gone = _post(INVOKE, _body("Get-MailboxPermission", Identity=mailbox), **config)
    assert gone.status_code == 404
    detail = gone.json()["error"]["details"][0]["message"]
    assert "ManagementObjectNotFoundException" in detail and "couldn't be found" in detail


def _batch(*, prefer_each: bool) -> list[dict[str, Any]]:
    mailbox = _address(_hidden_rule_owner())
    url = f"https://emulator.test{INVOKE}"
    headers = {"Prefer": "odata.maxpagesize=1000" + (", odata.continue-on-error"
                                                    if prefer_each else "")}
    subs = [{"id": "1", "method": "POST", "url": url, "headers": headers,
             "body": _body("Get-InboxRule", Mailbox="nobody@example.invalid")}]
    subs += [{"id": str(i), "method": "POST", "url": url, "headers": headers,
              "body": _body("Get-MailboxPermission", Identity=mailbox)} for i in (2, 3)]
    return subs


def test_batch_stops_at_the_first_failure_unless_asked_to_continue() -> None:
    """OData batch processing stops at the first failure unless `Prefer:
    odata.continue-on-error` (Microsoft's OData batch handler default since Web API 5.7,
    OData/WebApi#447); CIPP's New-ExoBulkRequest asks for it. No capture shows the Exchange
    admin API without it: the emulator takes the cautious reading."""
    stopped = _post(BATCH, {"requests": _batch(prefer_each=False)})
    assert [r["id"] for r in stopped.json()["responses"]] == ["1"]
    assert "Preference-Applied" not in stopped.headers
    for answer in (_post(BATCH, {"requests": _batch(prefer_each=True)}),
                   _post(BATCH, {"requests": _batch(prefer_each=False)},
                         prefer="odata.continue-on-error")):
        responses = answer.json()["responses"]
        assert [(r["id"], r["status"]) for r in responses] == [("1", 404), ("2", 200),
                                                              ("3", 200)]
        assert answer.headers["Preference-Applied"] == "odata.continue-on-error"
