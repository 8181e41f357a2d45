"""Graph `$batch`: 20 per request, sub-requests retried on their own, pages followed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mailwarden.errors import PermissionDeniedError, RetriesExhaustedError, ServiceError
from mailwarden.m365.graph import GraphClient
from mailwarden.m365.http import Service
from tests.m365.m365_fakes import GRAPH, body_of, make_http, run


def _ok(rid: str, values: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"value": values}
    if next_link:
        body["@odata.nextLink"] = next_link
    return {"id": rid, "status": 200, "headers": {}, "body": body}


def _members_of(url: str) -> str:
    return url.split("/groups/", 1)[1].split("/", 1)[0]


def test_batch_splits_into_twenties_and_retries_only_throttled_sub_requests() -> None:
    batches: list[list[str]] = []
    throttled_once: set[str] = set()

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1.0/$batch" and request.method == "POST"
        sub = body_of(request)["requests"]
        assert len(sub) <= 20
        batches.append([s["url"] for s in sub])
        responses = []
        for item in sub:
            group = _members_of(item["url"])
            if group in {"g3", "g27"} and group not in throttled_once:
                throttled_once.add(group)
                responses.append(
                    {
                        "id": item["id"],
                        "status": 429,
                        "headers": {"Retry-After": "0.5"},
                        "body": {"error": {"code": "TooManyRequests", "message": "slow"}},
                    }
                )
            elif group == "g5" and "skiptoken" not in item["url"]:
                next_link = f"{GRAPH}/v1.0/groups/g5/members?$skiptoken=x"
                responses.append(_ok(item["id"], [{"id": "m5a"}], next_link))
            else:
                suffix = "b" if "skiptoken" in item["url"] else ""
                responses.append(_ok(item["id"], [{"id": f"m-{group}{suffix}"}]))
        return httpx.Response(200, json={"responses": responses})

    http, _, time = make_http(handler)
    paths = {f"g{i}": f"/groups/g{i}/members?$top=999" for i in range(45)}
    done: list[int] = []
    result = run(GraphClient(http).batch_list(paths, on_done=done.append))

    assert [len(b) for b in batches[:3]] == [20, 20, 5]
    # The second round holds only the two throttled sub-requests and g5's next page.
    assert sorted(batches[3]) == sorted(
        [
            "/groups/g3/members?$top=999",
            "/groups/g27/members?$top=999",
            "/groups/g5/members?$skiptoken=x",
        ]
    )
    assert len(batches) == 4
    assert result["g5"] == [{"id": "m5a"}, {"id": "m-g5b"}]
    assert result["g3"] == [{"id": "m-g3"}]
    assert all(isinstance(v, list) and v for v in result.values())
    assert 0.5 in time.sleeps  # the sub-request's Retry-After held back Graph
    assert done[-1] == 45
    assert http.counters[Service.GRAPH].throttled == 2


def test_batch_failures_stay_with_their_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        responses = []
        for item in body_of(request)["requests"]:
            group = _members_of(item["url"])
            if group == "gone":
                status, body = 404, {"error": {"code": "Request_ResourceNotFound", "message": "x"}}
            elif group == "secret":
                status, body = (
                    403,
                    {"error": {"code": "Authorization_RequestDenied", "message": "no"}},
                )
            elif group == "broken":
                status, body = 500, {"error": {"code": "InternalServerError", "message": "boom"}}
            else:
                status, body = 200, {"value": [{"id": "m"}]}
            responses.append({"id": item["id"], "status": status, "body": body})
        return httpx.Response(200, json={"responses": responses})

    http, _, _ = make_http(handler)
    paths = {g: f"/groups/{g}/members" for g in ("ok", "gone", "secret", "broken")}
    result = run(GraphClient(http).batch_list(paths))
    assert result["ok"] == [{"id": "m"}]
    gone = result["gone"]
    assert isinstance(gone, ServiceError) and gone.status == 404
    secret = result["secret"]
    assert isinstance(secret, PermissionDeniedError)
    assert "GroupMember.Read.All" in str(secret)
    broken = result["broken"]
    assert isinstance(broken, RetriesExhaustedError)
    assert "/groups/broken/members" in str(broken)


def test_missing_sub_response_is_retried() -> None:
    rounds = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        rounds["n"] += 1
        sub = body_of(request)["requests"]
        if rounds["n"] == 1:  # the service forgot one answer
            return httpx.Response(200, json={"responses": [_ok(sub[0]["id"], [{"id": "a"}])]})
        return httpx.Response(200, json={"responses": [_ok(s["id"], [{"id": "b"}]) for s in sub]})

    http, _, _ = make_http(handler)
    result = run(GraphClient(http).batch_list({"x": "/groups/x/members", "y": "/groups/y/members"}))
    assert result == {"x": [{"id": "a"}], "y": [{"id": "b"}]}
    assert rounds["n"] == 2


@pytest.mark.parametrize("attempts", [2, 3])
def test_sub_request_attempts_are_bounded(attempts: int) -> None:
    from mailwarden.settings import RetryPolicy

    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        sub = body_of(request)["requests"]
        return httpx.Response(
            200,
            json={"responses": [{"id": s["id"], "status": 503, "headers": {}} for s in sub]},
        )

    http, _, _ = make_http(handler, retry=RetryPolicy(max_attempts=attempts, backoff_base=0.01))
    result = run(GraphClient(http).batch_list({"x": "/groups/x/members"}))
    assert isinstance(result["x"], RetriesExhaustedError)
    assert calls["n"] == attempts


def test_a_batch_request_that_fails_fails_only_the_sub_requests_it_carried() -> None:
    """The second `$batch` POST (groups g20-g39) keeps failing: those twenty groups get the
    error, each on its own key; the other 25 groups get their members."""
    posts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sub = body_of(request)["requests"]
        groups = [_members_of(item["url"]) for item in sub]
        posts.append(groups[0])
        if "g20" in groups:
            return httpx.Response(503, json={"error": {"code": "ServiceUnavailable",
                                                       "message": "down"}})
        return httpx.Response(200, json={"responses": [
            _ok(item["id"], [{"id": f"m-{g}"}]) for item, g in zip(sub, groups, strict=True)]})

    http, _, _ = make_http(handler)
    paths = {f"g{i}": f"/groups/g{i}/members" for i in range(45)}
    done: list[int] = []
    result = run(GraphClient(http).batch_list(paths, on_done=done.append))

    failed = {g for g, r in result.items() if isinstance(r, RetriesExhaustedError)}
    assert failed == {f"g{i}" for i in range(20, 40)}
    assert all("POST" in str(result[g]) and "/v1.0/$batch" in str(result[g]) for g in failed)
    assert all(result[f"g{i}"] == [{"id": f"m-g{i}"}] for i in [*range(20), *range(40, 45)])
    assert posts.count("g20") == 4  # retried as a request, then given up alone
    assert done[-1] == 45
