"""Exchange `$batch`: ten InvokeCommand calls a request, each settled on its own."""

from __future__ import annotations

import httpx
import pytest

from mailwarden.errors import AuthError, PermissionDeniedError, RetriesExhaustedError, ServiceError
from mailwarden.m365.exchange import Call, ExchangeClient, invoke_many
from mailwarden.m365.http import Service
from tests.m365.m365_fakes import EXO, TENANT, VirtualTime, body_of, make_http, run

BATCH = f"{EXO}/adminapi/beta/{TENANT}/$batch"


def test_calls_go_ten_to_a_batch_and_pages_and_retries_are_followed() -> None:
    throttled_once: set[str] = set()
    batches: list[list[dict[str, object]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == BATCH
        subs = body_of(request)["requests"]
        batches.append(subs)
        answers = []
        for sub in subs:
            who = sub["body"]["CmdletInput"]["Parameters"]["Identity"]
            if who == "busy@c.test" and who not in throttled_once:
                throttled_once.add(who)
                answers.append({"id": sub["id"], "status": 429,
                                "headers": {"Retry-After": "2"}, "body": {}})
            elif who == "denied@c.test":
                answers.append({"id": sub["id"], "status": 403,
                                "body": {"error": {"code": "Forbidden", "message": "no"}}})
            elif who == "long@c.test" and "page=2" not in sub["url"]:
                answers.append({"id": sub["id"], "status": 200, "body": {
                    "value": [{"n": 1}], "@odata.nextLink": sub["url"] + "&page=2"}})
            else:
                answers.append({"id": sub["id"], "status": 200,
                                "body": {"value": [{"Identity": who, "n": 2}]}})
        return httpx.Response(200, json={"responses": answers})

    time = VirtualTime()
    http, _, _ = make_http(handler, time=time)
    client = ExchangeClient(http, TENANT)
    names = [f"m{i}@c.test" for i in range(12)] + ["busy@c.test", "denied@c.test", "long@c.test"]
    calls = {n: Call(cmdlet="Get-MailboxPermission", parameters={"Identity": n},
                     select=("User", "AccessRights")) for n in names}
    results = run(invoke_many(client, calls, page_size=1000))

    assert [len(b) for b in batches[:2]] == [10, 5]
    assert all("$select=User,AccessRights" in s["url"] for s in batches[0])
    assert all(s["body"]["CmdletInput"]["CmdletName"] == "Get-MailboxPermission"
               for s in batches[0])
    assert results["m0@c.test"] == [{"Identity": "m0@c.test", "n": 2}]
    assert results["busy@c.test"] == [{"Identity": "busy@c.test", "n": 2}]
    assert http.counters[Service.EXCHANGE].throttled == 1
    assert 2.0 in time.sleeps  # the sub-response's Retry-After was honoured
    assert isinstance(results["denied@c.test"], PermissionDeniedError)
    assert "Exchange.ManageAsApp" in str(results["denied@c.test"])
    assert results["long@c.test"] == [{"n": 1}, {"Identity": "long@c.test", "n": 2}]


def test_a_sub_request_that_keeps_failing_gets_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        subs = body_of(request)["requests"]
        return httpx.Response(200, json={"responses": [
            {"id": s["id"], "status": 500, "body": {"error": {"message": "boom"}}} for s in subs]})

    http, _, _ = make_http(handler)
    client = ExchangeClient(http, TENANT)
    results = run(invoke_many(client, {"a": Call(cmdlet="Get-InboxRule",
                                                 parameters={"Mailbox": "a@c.test"})}))
    assert isinstance(results["a"], ServiceError)
    assert "failed 4 times" in str(results["a"])


def test_a_batch_request_that_fails_fails_only_the_calls_it_carried() -> None:
    """The first `$batch` POST keeps failing (HTTP 500 after every retry): its ten calls get
    that error, each on its own key, and the other batch's calls their rows."""

    def handler(request: httpx.Request) -> httpx.Response:
        subs = body_of(request)["requests"]
        who = [s["body"]["CmdletInput"]["Parameters"]["Identity"] for s in subs]
        if "m0@c.test" in who:
            return httpx.Response(500, json={"error": {"code": "InternalServerError",
                                                       "message": "boom"}})
        return httpx.Response(200, json={"responses": [
            {"id": s["id"], "status": 200, "body": {"value": [{"Identity": w}]}}
            for s, w in zip(subs, who, strict=True)]})

    http, _, _ = make_http(handler)
    client = ExchangeClient(http, TENANT)
    names = [f"m{i}@c.test" for i in range(15)]
    calls = {n: Call(cmdlet="Get-MailboxPermission", parameters={"Identity": n}) for n in names}
    done: list[int] = []
    results = run(invoke_many(client, calls, on_done=done.append))

    failed = {n for n, r in results.items() if isinstance(r, RetriesExhaustedError)}
    assert failed == set(names[:10])
    assert all("/$batch failed 4 times" in str(results[n]) for n in failed)
    assert all(results[n] == [{"Identity": n}] for n in names[10:])
    assert done[-1] == 15  # the failed calls are settled too

    # A refused token is not one batch's problem: every request would be refused.
    refused, _, _ = make_http(lambda request: httpx.Response(
        401, json={"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}))
    with pytest.raises(AuthError, match="token was not accepted"):
        run(invoke_many(ExchangeClient(refused, TENANT), calls))

    # A fault in mailwarden itself is raised, never taken for a failed batch.
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug")

    buggy, _, _ = make_http(broken)
    with pytest.raises(RuntimeError, match="a bug"):
        run(invoke_many(ExchangeClient(buggy, TENANT), calls))
