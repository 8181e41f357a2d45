"""The Exchange admin API client reads answers as the service writes them: annotations of
200 pages, error bodies with their details, role refusals, and `$batch` sub-responses.

The shapes are published ones (quoted per test): the 200 envelope of a public Burp capture
of InvokeCommand and rknightion/graph2otel's live fixtures (internal/exoclient), the error
bodies of that project's errors_test.go and of a public capture of the module's NotFound
error, and the 401 of MicrosoftDocs/office-docs-powershell#7970.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mailwarden.errors import AuthError, PermissionDeniedError, ServiceError
from mailwarden.m365.exchange import Call, ExchangeClient, invoke_many
from mailwarden.m365.http import error_detail
from tests.m365.m365_fakes import EXO, TENANT, body_of, make_http, run

CONTEXT = f"{EXO}/adminapi/beta/{TENANT}/$metadata#Collection(Exchange.GenericHashTable)"
TRUNCATED = ("There are more results available than are currently displayed. To view them, "
             "increase the value for the ResultSize parameter.")
#: office-docs-powershell#7970, verbatim but for the cmdlet.
NOT_ALLOWED = {"error": {"code": "Unauthorized",
                         "message": "User is not allowed to call Get-InboxRule",
                         "innererror": {"message": "User is not allowed to call Get-InboxRule",
                                        "type": "Microsoft.Exchange.Admin.OData.Core."
                                                "ODataServiceException"}}}
#: The module's NotFound error (a public capture, 2023-08-18), shortened stack traces.
NOT_FOUND = {"error": {
    "code": "NotFound", "message": "Error executing cmdlet",
    "details": [{"code": "Client", "target": "", "message":
                 "Ex6F9304|Microsoft.Exchange.Configuration.Tasks."
                 "ManagementObjectNotFoundException|The operation couldn't be performed "
                 "because object 'gone@contoso.com' couldn't be found on "
                 "'YQBPR01A12DC007.CANPR01A012.PROD.OUTLOOK.COM'."}],
    "innererror": {"message": "Error executing cmdlet",
                   "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                   "stacktrace": "   at ...",
                   "internalexception": {
                       "message": "Exception of type 'Microsoft.Exchange.Management."
                                  "PSDirectInvoke.DirectInvokeCmdletExecutionException' was "
                                  "thrown.",
                       "type": "Microsoft.Exchange.Management.PSDirectInvoke."
                               "DirectInvokeCmdletExecutionException",
                       "stacktrace": "..."}},
}, "adminapi.warnings@odata.type": "#Collection(String)", "@adminapi.warnings": []}
#: graph2otel internal/exoclient/errors_test.go liveInvalidEnumBody (message shortened).
INVALID_ENUM = {"error": {
    "code": "BadRequest", "message": "Invalid Operation",
    "innererror": {"message": "Invalid Operation",
                   "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                   "stacktrace": "",
                   "internalexception": {
                       "message": "Cannot process argument transformation on parameter "
                                  "'QuarantineTypes'.",
                       "type": "Microsoft.Exchange.AdminApi.CommandInvocation."
                               "ParameterTransformationException",
                       "stacktrace": ""}}},
    "adminapi.warnings@odata.type": "#Collection(String)", "@adminapi.warnings": []}


def envelope(rows: list[dict[str, Any]], *, warnings: list[str] | None = None,
             **extra: Any) -> dict[str, Any]:
    """A 200 answer: "@adminapi.warnings" present and empty unless there is something."""
    return {"@odata.context": CONTEXT, "adminapi.warnings@odata.type": "#Collection(String)",
            "@adminapi.warnings": warnings or [], "value": rows, **extra}


def _client(handler: Any) -> ExchangeClient:
    http, _, _ = make_http(handler)
    return ExchangeClient(http, TENANT)


def test_error_details_keep_what_tells_gone_from_refused() -> None:
    """error.details[].message ("<ErrorId>|<type>|<message>") and, when it adds something,
    innererror.internalexception (its type and message) are kept; a generic "Exception of
    type ... was thrown" is not."""
    gone = error_detail(NOT_FOUND)
    assert "ManagementObjectNotFoundException" in gone and "couldn't be found" in gone
    assert "was thrown" not in gone
    enum = error_detail(INVALID_ENUM)
    assert "ParameterTransformationException" in enum
    assert "Cannot process argument transformation on parameter 'QuarantineTypes'" in enum


def test_a_cmdlet_outside_the_apps_exchange_role_is_a_permission_error_naming_the_role() -> None:
    """HTTP 401 "User is not allowed to call <cmdlet>" is Exchange RBAC, not a refused token
    (office-docs-powershell#7970): it must not end the collection as a sign-in failure."""
    client = _client(lambda request: httpx.Response(401, json=NOT_ALLOWED))
    with pytest.raises(PermissionDeniedError) as caught:
        run(client.invoke("Get-InboxRule", {"Mailbox": "hr@contoso.com"}))
    assert not isinstance(caught.value, AuthError)
    text = str(caught.value)
    assert "Get-InboxRule needs the Exchange role Mail Recipients" in text
    assert "Exchange Recipient Administrator" in text
    assert "View-Only Organization Management and Global Reader cannot run it" in text


def test_errors_beside_the_rows_of_a_200_page_fail_the_call() -> None:
    """A 200 page is not a whole answer when it carries "@adminapi.errors". No capture of
    that annotation is published; it is read like "@adminapi.warnings" (an array)."""
    client = _client(lambda request: httpx.Response(200, json=envelope(
        [{"Identity": "hr"}], **{"@adminapi.errors": ["Rule 3 could not be read."]})))
    with pytest.raises(ServiceError, match="Rule 3 could not be read"):
        run(client.invoke("Get-InboxRule", {"Mailbox": "hr@contoso.com"}))


def test_a_last_page_cut_short_by_the_cmdlet_fails_but_a_paged_one_does_not() -> None:
    """graph2otel's live captures: a complete answer has the warnings present and empty; a
    page cut short carries the ResultSize warning. With a next link it is only the page
    size and the next page is fetched; on the last page, rows are missing."""
    def paged(request: httpx.Request) -> httpx.Response:
        if "page=2" in str(request.url):
            return httpx.Response(200, json=envelope([{"n": 2}]))
        return httpx.Response(200, json=envelope(
            [{"n": 1}], warnings=[TRUNCATED],
            **{"@odata.nextLink": f"{EXO}/adminapi/beta/{TENANT}/InvokeCommand?page=2"}))

    client = _client(paged)
    assert run(client.invoke("Get-Mailbox", {"ResultSize": "Unlimited"})) == [{"n": 1}, {"n": 2}]
    assert client.warnings == [f"Get-Mailbox: {TRUNCATED}"]
    cut = _client(lambda request: httpx.Response(200, json=envelope([{"n": 1}],
                                                                    warnings=[TRUNCATED])))
    with pytest.raises(ServiceError, match="returned only part of its results"):
        run(cut.invoke("Get-InboxRule", {"Mailbox": "hr@contoso.com"}))


def test_batch_sub_requests_ask_to_continue_on_error_and_are_read_whole() -> None:
    """CIPP's New-ExoBulkRequest sends `Prefer: odata.continue-on-error` (with the page
    size) and `Accept: application/json` in the headers of every sub-request, and reads
    each sub-response by its body alone: `body.value`, `body.'@adminapi.warnings'`,
    `body.error.details.message`. A body without a status is therefore still an answer:
    an error body fails with its code's status (NotFound: the mailbox is gone), a page
    succeeds, and its warnings and errors count."""
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        subs = body_of(request)["requests"]
        sent.extend(subs)
        answers = []
        for sub in subs:
            who = sub["body"]["CmdletInput"]["Parameters"]["Mailbox"]
            if who == "gone@contoso.com":
                answers.append({"id": sub["id"], "body": NOT_FOUND})
            elif who == "broken@contoso.com":
                answers.append({"id": sub["id"], "status": 200, "body": envelope(
                    [], **{"@adminapi.errors": ["The rule blob is corrupt."]})})
            elif who == "denied@contoso.com":
                answers.append({"id": sub["id"], "status": 401, "body": NOT_ALLOWED})
            else:
                answers.append({"id": sub["id"], "body": envelope(
                    [{"Name": "r", "MailboxOwnerId": who}], warnings=["heads up"])})
        return httpx.Response(200, json={"responses": answers})

    client = _client(handler)
    who = ["hr@contoso.com", "gone@contoso.com", "broken@contoso.com", "denied@contoso.com"]
    calls = {w: Call(cmdlet="Get-InboxRule", parameters={"Mailbox": w}) for w in who}
    results = run(invoke_many(client, calls))
    assert all("odata.continue-on-error" in s["headers"]["Prefer"] for s in sent)
    assert all(s["headers"]["Accept"] == "application/json" for s in sent)
    assert len(sent) == 4  # every call answered in the one batch: nothing was retried
    assert results["hr@contoso.com"] == [{"Name": "r", "MailboxOwnerId": "hr@contoso.com"}]
    assert "Get-InboxRule: heads up" in client.warnings
    gone = results["gone@contoso.com"]
    assert isinstance(gone, ServiceError) and gone.status == 404
    assert "ManagementObjectNotFoundException" in str(gone)
    broken = results["broken@contoso.com"]
    assert isinstance(broken, ServiceError) and "The rule blob is corrupt" in str(broken)
    denied = results["denied@contoso.com"]
    assert isinstance(denied, PermissionDeniedError) and not isinstance(denied, AuthError)
    assert "Mail Recipients" in str(denied)


def test_a_write_cmdlet_outside_the_role_says_a_role_that_may_change_recipients() -> None:
    """Global Reader and View-Only Organization Management only read; remediation's
    Set-Mailbox then meets the same 401 "User is not allowed to call" (#7970's shape)."""
    body = {"error": {"code": "Unauthorized", "message": "User is not allowed to call Set-Mailbox",
                      "innererror": {"message": "User is not allowed to call Set-Mailbox",
                                     "type": "Microsoft.Exchange.Admin.OData.Core."
                                             "ODataServiceException"}}}
    client = _client(lambda request: httpx.Response(401, json=body))
    with pytest.raises(PermissionDeniedError) as caught:
        run(client.invoke("Set-Mailbox", {"Identity": "hr", "AuditEnabled": True}))
    assert caught.value.status == 401
    assert "may change recipients" in str(caught.value)
    assert "can only read" in str(caught.value)
