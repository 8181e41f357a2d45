"""A throttling service that takes some sub-requests of every batch round is pacing the
client, not failing it: every key completes, however many rounds it takes."""

from __future__ import annotations

import httpx

from mailwarden.m365.graph import GraphClient
from tests.m365.m365_fakes import body_of, make_http, run


def test_sub_requests_throttled_round_after_round_all_complete() -> None:
    per_round = 5  # the service takes this many sub-requests per round, throttles the rest
    rounds: list[int] = []
    taken = {"count": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        subs = body_of(request)["requests"]
        answers = []
        for sub in subs:
            if taken["count"] < per_round:
                taken["count"] += 1
                answers.append({"id": sub["id"], "status": 200, "body": {"value": [{"id": "m"}]}})
            else:
                answers.append({"id": sub["id"], "status": 429,
                                "headers": {"Retry-After": "1"}, "body": {}})
        return httpx.Response(200, json={"responses": answers})

    http, _, clock = make_http(handler)  # four attempts at most per sub-request
    original_sleep = clock.sleep

    async def sleep(seconds: float) -> None:
        rounds.append(taken["count"])
        taken["count"] = 0  # a new second: the bucket refills
        await original_sleep(seconds)

    http._sleep = sleep  # type: ignore[attr-defined]
    graph = GraphClient(http)
    paths = {f"g{i}": f"/groups/g{i}/members" for i in range(60)}
    results = run(graph.batch_list(paths))
    assert all(results[k] == [{"id": "m"}] for k in paths), [
        k for k, v in results.items() if not isinstance(v, list)]
    assert len(rounds) >= 60 // per_round - 1  # it took many rounds, more than four attempts
