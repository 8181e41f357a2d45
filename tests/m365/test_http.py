"""The one retry and throttling policy, paging, and error messages (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from mailwarden.errors import AuthError, PermissionDeniedError, RetriesExhaustedError, ServiceError
from mailwarden.m365.exchange import ExchangeClient
from mailwarden.m365.graph import GraphClient, collection_path
from mailwarden.m365.http import Service, parse_retry_after
from tests.m365.m365_fakes import EXO, GRAPH, VirtualTime, body_of, error, make_http, page, run


def test_graph_paging_follows_every_next_link() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        number = int(request.url.params.get("page", "0"))
        link = f"{GRAPH}/v1.0/users?page={number + 1}" if number < 24 else None
        return page([{"id": f"u{number}-{i}"} for i in range(3)], link)

    http, tokens, _ = make_http(handler)
    progress: list[int] = []
    users = run(
        GraphClient(http).collection(
            "/users", select=["id", "userPrincipalName"], top=999, on_page=progress.append
        )
    )
    assert len(users) == 75 and users[-1] == {"id": "u24-2"}
    assert len(seen) == 25
    assert "%24select=id,userPrincipalName" in seen[0] or "$select=id,userPrincipalName" in seen[0]
    assert "top=999" in seen[0]
    assert progress[-1] == 75
    assert set(tokens.scopes) == {"https://graph.microsoft.com/.default"}
    assert http.counters[Service.GRAPH].requests == 25


def test_collection_path_adds_options() -> None:
    assert (
        collection_path("/users", select=["id", "mail"], top=5) == "/users?$select=id,mail&$top=5"
    )
    assert collection_path("/x?a=1", top=2) == "/x?a=1&$top=2"
    assert collection_path("/x") == "/x"


def test_exchange_pages_repost_the_same_body_with_module_headers() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if "skiptoken" not in str(request.url):
            return page([{"Name": "a"}], f"{EXO}/adminapi/beta/t/InvokeCommand?$skiptoken=2")
        return page([{"Name": "b"}], **{"@adminapi.warnings": ["slow"]})

    http, tokens, _ = make_http(handler)
    exchange = ExchangeClient(http, "contoso.onmicrosoft.com")
    rows = run(exchange.invoke("Get-Mailbox", {"ResultSize": "Unlimited"}, select=["Name"]))
    assert rows == [{"Name": "a"}, {"Name": "b"}]
    assert [r.method for r in requests] == ["POST", "POST"]
    assert (
        body_of(requests[0])
        == body_of(requests[1])
        == {"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {"ResultSize": "Unlimited"}}}
    )
    first = requests[0]
    assert first.url.path == "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand"
    assert first.url.params["$select"] == "Name"
    assert first.headers["X-CmdletName"] == "Get-Mailbox"
    assert first.headers["Prefer"] == "odata.maxpagesize=1000"
    assert first.headers["X-AnchorMailbox"] == (
        "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com"
    )
    assert first.headers["Authorization"] == "Bearer token-for-outlook.office365.com"
    assert exchange.warnings == ["Get-Mailbox: slow"]
    assert set(tokens.scopes) == {"https://outlook.office365.com/.default"}


def test_fractional_retry_after_is_honoured() -> None:
    answers = iter(
        [
            error(429, "TooManyRequests", "slow down", **{"Retry-After": "0.25"}),
            error(503, "ServiceUnavailable", "busy", **{"Retry-After": "1.5"}),
            page([{"id": "1"}]),
        ]
    )
    http, _, time = make_http(lambda request: next(answers))
    assert run(GraphClient(http).collection("/groups")) == [{"id": "1"}]
    assert time.sleeps == [0.25, 1.5]
    assert http.counters[Service.GRAPH].throttled == 2
    assert http.counters[Service.GRAPH].retries == 2


def test_retry_after_as_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)
    waited = parse_retry_after(format_datetime(later, usegmt=True))
    assert waited is not None and 25 < waited <= 30
    assert parse_retry_after("not a date") is None
    assert parse_retry_after("-3") == 0.0


def test_throttle_holds_back_the_whole_service() -> None:
    """After one 429 with Retry-After, no other request to that service goes out early."""
    time = VirtualTime()
    sent_at: list[tuple[str, float]] = []
    throttled = {"done": False}

    async def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append((request.url.path, time.now))
        if request.url.path == "/v1.0/a" and not throttled["done"]:
            throttled["done"] = True
            return error(429, "TooManyRequests", "wait", **{"Retry-After": "2"})
        await asyncio.sleep(0)
        return page([])

    http, _, _ = make_http(handler, time=time)
    graph = GraphClient(http)

    async def both() -> None:
        await graph.collection("/a")
        await graph.collection("/b")

    run(both())
    assert sent_at[0] == ("/v1.0/a", 1000.0)
    assert all(when >= 1002.0 for _, when in sent_at[1:])


def test_exchange_concurrency_refusal_is_a_throttle() -> None:
    answers = iter(
        [
            httpx.Response(
                429,
                json={
                    "error": {
                        "code": "TooManyRequests",
                        "message": "The request was throttled.",
                        "details": [
                            {
                                "message": "You have exceeded the maximum number of "
                                "concurrent requests per tenant."
                            }
                        ],
                    }
                },
            ),
            page([{"Name": "x"}]),
        ]
    )
    http, _, time = make_http(lambda request: next(answers))
    assert run(ExchangeClient(http, "t").invoke("Get-User")) == [{"Name": "x"}]
    assert http.counters[Service.EXCHANGE].throttled == 1
    assert len(time.sleeps) == 1 and time.sleeps[0] > 0  # no Retry-After: backoff


def test_concurrency_refusal_without_429_is_recognised() -> None:
    answers = iter(
        [
            error(400, "BadRequest", "Maximum number of concurrent requests per tenant exceeded"),
            page([]),
        ]
    )
    http, _, _ = make_http(lambda request: next(answers))
    assert run(ExchangeClient(http, "t").invoke("Get-User")) == []
    assert http.counters[Service.EXCHANGE].throttled == 1


def test_5xx_and_dropped_connections_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return error(502, "BadGateway", "upstream")
        if calls["n"] == 2:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if calls["n"] == 3:
            raise httpx.ReadTimeout("timed out")
        if calls["n"] == 4:
            return httpx.Response(200, content=b'{"value": [')  # truncated page
        return page([{"id": "ok"}])

    http, _, time = make_http(handler, retry=_policy(6))
    assert run(GraphClient(http).collection("/users")) == [{"id": "ok"}]
    assert calls["n"] == 5
    # Backoff doubles: 0.1, 0.2, 0.4, 0.8 ceilings, jitter fixed at the midpoint of the upper half.
    assert time.sleeps == pytest.approx([0.075, 0.15, 0.3, 0.6])


def test_persistent_failure_ends_in_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    http, _, _ = make_http(handler)
    with pytest.raises(RetriesExhaustedError) as caught:
        run(GraphClient(http).collection("/users"))
    message = str(caught.value)
    assert f"{GRAPH}/v1.0/users" in message
    assert "4 times" in message and "ConnectError" in message
    assert "check connectivity" in message
    assert http.counters[Service.GRAPH].requests == 4


def test_persistent_throttling_says_to_lower_concurrency() -> None:
    http, _, _ = make_http(lambda r: error(429, "TooManyRequests", "no", **{"Retry-After": "1"}))
    with pytest.raises(RetriesExhaustedError, match="throttling this application"):
        run(ExchangeClient(http, "t").invoke("Get-Mailbox"))


def test_401_is_an_auth_error_without_the_token() -> None:
    http, _, _ = make_http(
        lambda r: error(401, "InvalidAuthenticationToken", "Access token expired")
    )
    with pytest.raises(AuthError) as caught:
        run(GraphClient(http).collection("/users"))
    message = str(caught.value)
    assert "InvalidAuthenticationToken" in message and "admin consent" in message
    assert "token-for" not in message


@pytest.mark.parametrize(
    ("path", "select", "expected"),
    [
        ("/users", ["id", "signInActivity"], "AuditLog.Read.All"),
        ("/users", ["id"], "User.Read.All"),
        ("/identity/conditionalAccess/policies", None, "Policy.Read.All"),
        ("/roleManagement/directory/roleAssignments", None, "RoleManagement.Read.Directory"),
    ],
)
def test_403_names_the_graph_permission(path: str, select: list[str] | None, expected: str) -> None:
    http, _, _ = make_http(lambda r: error(403, "Authorization_RequestDenied", "Insufficient"))
    with pytest.raises(PermissionDeniedError) as caught:
        run(GraphClient(http).collection(path, select=select))
    assert expected in str(caught.value)
    assert caught.value.status == 403


def test_403_from_exchange_names_manage_as_app() -> None:
    http, _, _ = make_http(lambda r: error(403, "Forbidden", "denied"))
    with pytest.raises(PermissionDeniedError, match=r"Exchange\.ManageAsApp"):
        run(ExchangeClient(http, "t").invoke("Get-Mailbox"))


def test_other_4xx_is_a_service_error_with_the_message() -> None:
    http, _, _ = make_http(lambda r: error(400, "Request_BadRequest", "Invalid $select"))
    with pytest.raises(ServiceError, match="Invalid \\$select") as caught:
        run(GraphClient(http).collection("/users"))
    assert caught.value.status == 400


def test_next_link_to_another_host_is_refused() -> None:
    http, _, _ = make_http(lambda r: page([], "https://evil.example.test/v1.0/users?page=2"))
    with pytest.raises(ServiceError, match="another host"):
        run(GraphClient(http).collection("/users"))


def test_concurrency_is_capped_per_service() -> None:
    in_flight = {"graph": 0, "exo": 0}
    peak = {"graph": 0, "exo": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        kind = "exo" if request.url.host == "exo.example.test" else "graph"
        in_flight[kind] += 1
        peak[kind] = max(peak[kind], in_flight[kind])
        await asyncio.sleep(0.002)
        in_flight[kind] -= 1
        return page([])

    http, _, _ = make_http(handler, graph_concurrency=4, exo_concurrency=2)
    graph, exchange = GraphClient(http), ExchangeClient(http, "t")

    async def many() -> None:
        await asyncio.gather(
            *(graph.collection(f"/g{i}") for i in range(12)),
            *(exchange.invoke("Get-InboxRule", {"Mailbox": str(i)}) for i in range(8)),
        )

    run(many())
    assert peak == {"graph": 4, "exo": 2}


def _policy(attempts: int) -> object:
    from mailwarden.settings import RetryPolicy

    return RetryPolicy(max_attempts=attempts, backoff_base=0.1, backoff_max=1.0)


def test_priority_slots_serve_lower_numbers_first_and_survive_cancellation() -> None:
    from mailwarden.m365.http import PrioritySlots

    async def scenario() -> list[str]:
        slots = PrioritySlots(1)
        order: list[str] = []
        await slots.acquire()  # held by the scenario

        async def waiter(name: str, priority: int) -> None:
            await slots.acquire(priority)
            order.append(name)
            await asyncio.sleep(0)
            slots.release()

        tasks = [
            asyncio.create_task(waiter("mailbox-1", 1)),
            asyncio.create_task(waiter("mailbox-2", 1)),
            asyncio.create_task(waiter("cancelled", 0)),
            asyncio.create_task(waiter("next-page", 0)),
        ]
        await asyncio.sleep(0)
        tasks[2].cancel()
        await asyncio.sleep(0)
        slots.release()
        await asyncio.gather(*tasks, return_exceptions=True)
        await slots.acquire()  # the slot came back: nothing leaked
        return order

    assert run(scenario()) == ["next-page", "mailbox-1", "mailbox-2"]


def test_concurrency_refusals_shrink_the_exchange_limit_to_what_the_service_allows() -> None:
    allowed = 3
    in_flight = {"n": 0}
    peak_after_settling = {"n": 0}
    refusals = {"n": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        if in_flight["n"] >= allowed:
            refusals["n"] += 1
            return error(429, "TooManyRequests", "Maximum number of concurrent requests exceeded")
        in_flight["n"] += 1
        if refusals["n"]:
            peak_after_settling["n"] = max(peak_after_settling["n"], in_flight["n"])
        await asyncio.sleep(0.003)
        in_flight["n"] -= 1
        return page([])

    http, _, _ = make_http(handler, exo_concurrency=8, retry=_policy(10))
    exchange = ExchangeClient(http, "t")

    async def many() -> None:
        await asyncio.gather(
            *(exchange.invoke("Get-InboxRule", {"Mailbox": str(i)}) for i in range(40))
        )

    run(many())
    assert http.concurrency(Service.EXCHANGE) == allowed
    assert refusals["n"] == 5  # only the first burst overshot
    assert peak_after_settling["n"] <= allowed


def test_clients_share_one_tls_context_per_ca_bundle_and_a_rewritten_bundle_loads_again(
        tmp_path: Path) -> None:
    """Loading a trust store costs tens of milliseconds of CPU: a fleet worker's jobs
    share one context per CA bundle, and a bundle written anew is loaded anew."""
    import os

    import trustme

    from mailwarden.errors import ConfigError
    from mailwarden.m365.http import tls_context
    from mailwarden.settings import Settings

    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    settings = Settings(ca_bundle=bundle)
    first = tls_context(settings)
    assert tls_context(settings) is first
    assert tls_context(Settings()) is tls_context(Settings())  # the default trust, once
    assert tls_context(Settings()) is not first

    trustme.CA().cert_pem.write_to_path(str(bundle))
    os.utime(bundle, ns=(1, 1))  # a new bundle, whatever the clock's resolution
    assert tls_context(settings) is not first

    bundle.write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"cannot use the CA bundle .*ca\.pem"):
        tls_context(settings)
    with pytest.raises(ConfigError, match="No such file"):
        tls_context(Settings(ca_bundle=tmp_path / "missing.pem"))
